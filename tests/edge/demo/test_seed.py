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
