"""The hub's credit balances equal the device's: a device seeded as the demo seeds it (customers,
weeks of history imported with the customers' repayments), its outbox carried to the hub through the
ingest's own parser and writer, then the credit report at the hub compared customer by customer;
again after a repayment at the till.  (Issue 26: the hub showed RD$39,362, "787 % of limit, has never
made a repayment", for a customer the device had at his RD$5,000 limit.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from analytics.credit.report import credit_report
from contracts.timestamps import format_utc
from edge.store import Store
from tests.analytics.demo_device import STORE, demo_device, sync

NOW = datetime(2026, 12, 7, 7, 40, tzinfo=UTC)  # Monday 03:40 in Santo Domingo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Engine]:
    """The demo device with four weeks of history, synced to a hub that registered it."""
    return demo_device(tmp_path_factory.mktemp("device-balances"), NOW)


def device_balances(store: Store) -> dict[str, int]:
    return {c.id: c.balance for c in store.customers.list(include_inactive=True)}


def test_hub_balances_equal_the_device_after_the_history_import(demo: tuple[Store, Engine]) -> None:
    store, hub = demo
    device = device_balances(store)
    limits = {c.id: c.credit_limit for c in store.customers.list(include_inactive=True)}
    assert len(device) == 8 and any(device.values())
    assert all(0 <= device[c] <= limits[c] for c in device)  # the till keeps everyone within their limit
    report = credit_report(hub, STORE, as_of=NOW)
    h = report.histories
    assert {c: h[c].balance for c in device} == device
    # the hub's own records (sales and repayments) add up to that, with no made-up earlier debt
    assert {c: h[c].ledger_balance for c in device} == device
    assert all(not any(i.earlier for i in h[c].open_items) for c in device)
    assert report.kpis.total_owed == sum(device.values())
    for c in device:
        assert h[c].utilisation is not None and h[c].utilisation <= 1.0
        assert h[c].repayments.count > 0  # they repaid during the history, and the hub knows it
        assert "has never made a repayment" not in report.scores[c].risk_factors


def test_hub_balance_follows_a_repayment_at_the_till(demo: tuple[Store, Engine]) -> None:
    store, hub = demo
    owing = max(store.customers.list(), key=lambda c: c.balance)
    paid_at = NOW + timedelta(hours=2)
    store.customers.record_repayment(owing.id, owing.balance // 2, at=format_utc(paid_at))
    assert sync(store, hub, paid_at) == 1
    after = credit_report(hub, STORE, as_of=paid_at + timedelta(minutes=1)).histories
    assert {c: after[c].balance for c in after} == device_balances(store)
    assert after[owing.id].balance == owing.balance - owing.balance // 2
    assert after[owing.id].ledger[-1].kind == "repayment"
