"""Gap repair in the store: when the hub asks again for sales it is missing (by their ``seq``), their
outbox rows become pending again, so the sync agent publishes them once more (the hub ignores a
``tx_id`` it already has).  Rows still pending are left as they are.  Numbers in the range that no
sale here carries (never handed out, or their sale is gone) are reported back as ``missing``: the
device cannot fill them, and says so (``contracts.resend``)."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.resend import SeqRange, missing_ranges
from edge.store.database import StoreDB


@dataclass(frozen=True)
class Requeued:
    from_seq: int
    to_seq: int
    count: int  # sent sales in the range whose outbox row is pending again
    missing: tuple[SeqRange, ...] = ()  # runs of numbers in the range that no sale here carries
    last_seq: int = 0  # the highest number this device has handed out


class GapRepair:
    def __init__(self, db: StoreDB) -> None:
        self.db = db

    def requeue_sales(self, from_seq: int, to_seq: int) -> Requeued:
        """Make the sent outbox rows of the sales numbered ``from_seq``..``to_seq`` pending again,
        and find the numbers of the range that no sale carries."""
        with self.db.transaction() as conn:
            count = conn.execute(
                "UPDATE outbox SET sent_at = NULL WHERE kind = 'tx' AND sent_at IS NOT NULL AND key IN"
                " (SELECT tx_id FROM sales WHERE seq BETWEEN ? AND ?)", (from_seq, to_seq)).rowcount
            have = [int(r[0]) for r in conn.execute("SELECT seq FROM sales WHERE seq BETWEEN ? AND ?",
                                                    (from_seq, to_seq))]
            last = conn.execute("SELECT value FROM counters WHERE name = 'tx_seq'").fetchone()
        return Requeued(from_seq, to_seq, int(count), missing_ranges(from_seq, to_seq, have),
                        int(last[0]) if last and last[0] is not None else 0)
