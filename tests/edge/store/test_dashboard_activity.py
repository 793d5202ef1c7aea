"""The dashboard's activity figures from the store: the newest sale's time and the open alerts."""

from __future__ import annotations

from datetime import UTC, datetime

from edge.checkout.session import PaymentPart
from edge.store import Store, StoreActivity
from tests.edge.checkout.helpers import basket, cashier, session_for


def ring_up(store: Store, at: datetime, sku: str = "SUGAR-2LB", alert: bool = False) -> str:
    """Ring up and record a cash sale at ``at`` through the checkout; returns its completion time."""
    session = session_for(store, clock=lambda: at)
    session.start(cashier(store), None)
    session.apply_basket(basket(sku))
    totals = session.to_payment()
    sale = session.pay([PaymentPart("cash", totals.total, totals.total)])
    if alert:
        sale.anomaly = {"score": 0.91, "reasons": ["4 lines voided (usual 0)"], "model": "rules-v1"}
    return store.sales.record(sale, raise_alert_for=alert).completed_at


def test_a_store_with_no_sales_has_no_last_sale_and_no_alerts(store: Store) -> None:
    assert store.dashboard.activity() == StoreActivity(last_sale_at=None, open_alerts=0)


def test_the_newest_sale_is_the_last_sale_whatever_the_order_written(store: Store) -> None:
    newest = ring_up(store, datetime(2026, 3, 10, 18, 5, tzinfo=UTC))
    ring_up(store, datetime(2026, 3, 10, 9, 0, tzinfo=UTC))  # written later, rung up earlier (an import)
    assert newest == "2026-03-10T18:05:00Z"
    assert store.dashboard.activity().last_sale_at == newest


def test_open_alerts_count_until_acknowledged(store: Store) -> None:
    at = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    ring_up(store, at, alert=True)
    ring_up(store, at, "OIL-SOL-1L", alert=True)
    ring_up(store, at, "OIL-SOL-1L")
    assert store.dashboard.activity().open_alerts == 2
    first = store.alerts.recent()[-1]
    store.alerts.acknowledge(first.id, "ana")
    assert store.dashboard.activity().open_alerts == 1
