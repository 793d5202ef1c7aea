"""Gap repair: the sent sales the hub asks for again are pending again; nothing else changes."""

from __future__ import annotations

from edge.store import Requeued, Store
from tests.edge.checkout.helpers import quick_sale


def record_and_send(store: Store, n: int) -> None:
    for _ in range(n):
        store.sales.record(quick_sale(store, "SUGAR-2LB"))
    store.outbox.mark_sent([m.id for m in store.outbox.pending(100)])


def test_the_sent_sales_in_the_range_are_pending_again(store: Store) -> None:
    record_and_send(store, 6)
    # nothing missing in 3..5; the device has handed out numbers up to 6
    assert store.gap_repair.requeue_sales(3, 5) == Requeued(from_seq=3, to_seq=5, count=3, missing=(), last_seq=6)
    assert sorted(m.payload["seq"] for m in store.outbox.pending(100)) == [3, 4, 5]


def test_a_sale_still_pending_or_missing_is_not_counted(store: Store) -> None:
    record_and_send(store, 2)
    store.sales.record(quick_sale(store, "OIL-SOL-1L"))  # seq 3, not sent yet
    assert store.gap_repair.requeue_sales(2, 9).count == 1  # seq 2; seq 3 already pending; 4..9 do not exist
    assert sorted(m.payload["seq"] for m in store.outbox.pending(100)) == [2, 3]


def test_alerts_in_the_outbox_are_left_alone(store: Store) -> None:
    sale = quick_sale(store, "SUGAR-2LB")
    sale.anomaly = {"score": 0.91, "reasons": ["4 lines voided (usual 0)"], "model": "rules-v1"}
    store.sales.record(sale, raise_alert_for=True)
    store.outbox.mark_sent([m.id for m in store.outbox.pending(100)])
    assert store.gap_repair.requeue_sales(1, 1).count == 1
    assert [m.kind for m in store.outbox.pending(100)] == ["tx"]
