"""Closing an alert at the store tells the hub (issue 26's leftover): once, with when and how, never who."""

from __future__ import annotations

import json

from contracts.alerts import AlertMessage
from edge.store import Store
from edge.store.alerts import close_open, raise_alert
from tests.edge.checkout.helpers import quick_sale


def _alert_messages(store: Store) -> list[AlertMessage]:
    rows = store.db.query("SELECT payload FROM outbox WHERE kind = 'alert' ORDER BY id")
    return [AlertMessage.from_doc(json.loads(r["payload"])) for r in rows]


def test_acknowledging_an_alert_queues_its_closing_once(store: Store) -> None:
    sale = quick_sale(store, "SUGAR-2LB")
    sale.anomaly = {"score": 0.91, "reasons": ["4 lines voided (usual 0)"], "model": "rules-v1"}
    store.sales.record(sale, raise_alert_for=True)
    [alert] = store.alerts.recent()
    done = store.alerts.acknowledge(alert.id, "owner")
    store.alerts.acknowledge(alert.id, "owner")  # twice: the first one stands, nothing more is sent
    raised, closed = _alert_messages(store)
    assert not raised.closed and closed.alert_id == raised.alert_id and closed.tx_id == sale.tx_id
    assert (closed.closed_at, closed.closed_how) == (done.acknowledged_at, "acknowledged")
    assert closed.reasons == raised.reasons and closed.score == raised.score
    payloads = [r["payload"] for r in store.db.query("SELECT payload FROM outbox WHERE kind = 'alert'")]
    assert not any('"owner"' in p for p in payloads)  # who closed it stays on the device


def test_a_health_alert_whose_condition_cleared_is_closed_for_the_hub_too(store: Store) -> None:
    with store.db.transaction() as c:
        raise_alert(c, "s-001", "till-1", "health", 1.0, ["outbox backlog"], "2026-12-07T07:00:00Z")
        raise_alert(c, "s-001", "till-1", "health", 1.0, ["outbox backlog is old"], "2026-12-07T07:00:01Z")
    with store.db.transaction() as c:
        assert close_open(c, "health", "2026-12-07T07:05:00Z", "the device (condition cleared)") == 2
    with store.db.transaction() as c:
        assert close_open(c, "health", "2026-12-07T07:06:00Z", "the device (condition cleared)") == 0
    closings = [m for m in _alert_messages(store) if m.closed]
    assert sorted(m.alert_id for m in closings) == ["till-1-1", "till-1-2"]
    assert {(m.closed_at, m.closed_how) for m in closings} == {("2026-12-07T07:05:00Z", "cleared")}
    assert store.alerts.recent(open_only=True) == []
