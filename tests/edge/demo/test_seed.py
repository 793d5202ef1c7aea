"""The seeded demo store: what a newcomer sees on first start."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.auth.service import Authenticator
from edge.demo.seed import DEMO_USERS, seed_store
from edge.store import Store


def test_seeded_store_has_catalogue_staff_customers_history_and_alerts(tmp_path: Path):
    store = Store(tmp_path / "store.db")
    end = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)
    n = seed_store(store, history_days=14, now=end)
    assert n > 500
    assert len(store.products.list()) == 48
    assert store.alerts.recent(), "planted anomalies must show as alerts"
    assert store.products.low_stock(), "a few products are left low so the warning shows"
    assert all(p.stock_qty >= 0 for p in store.products.list())
    assert any(c.balance > 0 for c in store.customers.list())
    assert all(c.balance <= c.credit_limit for c in store.customers.list())
    auth = Authenticator(store.users)
    for u in DEMO_USERS:
        user = auth.login_password(u.id, u.password) if u.password else auth.login_pin(u.id, u.pin)
        assert user.role == u.role
    # seeding again changes nothing
    assert seed_store(store, history_days=14, now=end) == 0
    assert store.sales.last_seq() == n


def test_seeding_history_needs_the_time_it_ends_at(tmp_path: Path):
    store = Store(tmp_path / "store.db")
    with pytest.raises(ValueError, match="needs the time"):
        seed_store(store, history_days=14)
    assert not store.settings.is_seeded(), "a refused seeding writes nothing"


def test_the_demo_store_has_costs_suppliers_cost_rises_and_a_product_sold_below_cost(tmp_path: Path):
    from edge.store.reports import Reports

    store = Store(tmp_path / "store.db")
    end = datetime(2026, 11, 20, 23, 0, tzinfo=UTC)
    seed_store(store, history_days=28, now=end)
    products = {p.sku: p for p in store.products.list()}
    assert products["SALAMI-500"].cost is None  # the one product the demo leaves with "no cost"
    assert all(p.cost is not None for sku, p in products.items() if sku != "SALAMI-500")
    assert [c.reason for c in store.costs.history("OIL-SOL-1L")][:1] == ["import"]
    assert len(store.costs.history("OIL-SOL-1L")) == 2  # the catalogue's cost, then the supplier's rise
    assert products["RICE-LG-5LB"].price == 17500  # the shop's price rise reached the catalogue
    assert len(store.suppliers.list()) == 3 and store.suppliers.links(sku="RICE-LG-5LB")
    receipts = store.costs.receipts(limit=500)
    assert receipts and all(r.supplier_id is not None or r.sku == "SALAMI-500" for r in receipts)
    assert all(r.cost_after == products[r.sku].cost for r in receipts)  # delivered at the current cost
    week = Reports(store.db).products_between("2026-11-14T04:00:00Z", "2026-11-21T04:00:00Z", by="profit")
    oil = next(p for p in week if p.sku == "OIL-SOL-1L")
    salami = next(p for p in week if p.sku == "SALAMI-500")
    assert oil.gross_profit is not None and oil.gross_profit < 0  # the cost rise nobody passed on
    assert salami.gross_profit is None and salami.uncosted_revenue > 0
    assert week[0].gross_profit is not None and week[0].gross_profit > 0
