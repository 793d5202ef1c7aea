"""The seeded demo store: what a newcomer sees on first start."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from edge.auth.service import Authenticator
from edge.demo.seed import DEMO_USERS, seed_store
from edge.store import Store


def test_seeded_store_has_catalogue_staff_customers_history_and_alerts(tmp_path: Path):
    store = Store(tmp_path / "store.db")
    n = seed_store(store, history_days=14, now=datetime(2026, 11, 20, 23, 0, tzinfo=timezone.utc))
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
    assert seed_store(store, history_days=14) == 0
    assert store.sales.last_seq() == n
