"""Gap repair in the store: when the hub asks again for sales it is missing (by their ``seq``), their
outbox rows become pending again, so the sync agent publishes them once more (the hub ignores a
``tx_id`` it already has).  Rows still pending are left as they are."""

from __future__ import annotations

from dataclasses import dataclass

from edge.store.database import StoreDB


@dataclass(frozen=True)
class Requeued:
    from_seq: int
    to_seq: int
    count: int  # sent sales in the range whose outbox row is pending again


class GapRepair:
    def __init__(self, db: StoreDB) -> None:
        self.db = db

    def requeue_sales(self, from_seq: int, to_seq: int) -> Requeued:
        """Make the sent outbox rows of the sales numbered ``from_seq``..``to_seq`` pending again."""
        with self.db.transaction() as conn:
            count = conn.execute(
                "UPDATE outbox SET sent_at = NULL WHERE kind = 'tx' AND sent_at IS NOT NULL AND key IN"
                " (SELECT tx_id FROM sales WHERE seq BETWEEN ? AND ?)", (from_seq, to_seq)).rowcount
        return Requeued(from_seq, to_seq, int(count))
