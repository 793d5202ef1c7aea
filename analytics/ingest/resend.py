"""Gap repair on the hub: for sequence gaps still open after ``hub.resend_after_s``, ask the
device to send those sales again (``{prefix}/{store}/{device}/resend``, QoS 1), and close the parts
of a gap the device answers it cannot fill (``{store}/{device}/resend_answer``: numbers it never
had, e.g. a forged sequence number), recording why (``seq_gaps.closed_reason``), so the hub stops
asking for them.  Both messages are typed in ``contracts.resend``."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, or_, select, update

from analytics.db import tables as t
from contracts import resend as contract
from contracts import topics
from contracts.validation import RESEND

log = logging.getLogger(__name__)

RESEND_SCHEMA = RESEND
MAX_RANGE = 10_000


@dataclass(frozen=True)
class ResendRequest:
    store_id: str
    device_id: str
    from_seq: int
    to_seq: int

    def topic(self, prefix: str) -> str:
        return topics.device_topic(prefix, self.store_id, self.device_id, topics.RESEND)

    def payload(self, at: str) -> bytes:
        return contract.ResendRequest(self.from_seq, self.to_seq, at).to_payload()  # the device reads it back


def due_requests(engine: Engine, now: str, older_than: str) -> list[ResendRequest]:
    """Open gaps detected before ``older_than`` and not asked for since; marks them asked at ``now``."""
    g = t.seq_gaps.c
    out: list[ResendRequest] = []
    with engine.begin() as conn:
        rows = conn.execute(select(g.id, g.store_id, g.device_id, g.from_seq, g.to_seq).where(
            g.filled.is_(False), g.detected_at <= older_than,
            or_(g.resend_requested_at.is_(None), g.resend_requested_at <= older_than)).limit(100)).all()
        for row in rows:
            lo = row.from_seq
            while lo <= row.to_seq:
                hi = min(row.to_seq, lo + MAX_RANGE - 1)
                out.append(ResendRequest(row.store_id, row.device_id, lo, hi))
                lo = hi + 1
            conn.execute(update(t.seq_gaps).where(g.id == row.id).values(resend_requested_at=now))
    return out


def cannot_fill_reason(answer: contract.ResendAnswer, part: contract.SeqRange) -> str:
    return (f"the device cannot fill {part.from_seq}..{part.to_seq}: it never had these numbers "
            f"(its last is {answer.last_seq if answer.last_seq is not None else 'unknown'}; answered at {answer.at})")


def close_unfillable(conn: Connection, store_id: str, device_id: str, answer: contract.ResendAnswer,
                     now: str) -> int:
    """Close the parts of the device's open gaps that it cannot fill; returns how many parts were
    closed.  A gap partly covered is split: the part nothing will fill is closed (``filled`` with its
    ``closed_reason``), the rest stays open and is still asked for."""
    g = t.seq_gaps.c
    closed = 0
    for part in answer.cannot_fill:
        while True:
            row = conn.execute(select(g.id, g.from_seq, g.to_seq, g.detected_at, g.resend_requested_at).where(
                g.store_id == store_id, g.device_id == device_id, g.filled.is_(False),
                g.from_seq <= part.to_seq, g.to_seq >= part.from_seq).order_by(g.from_seq).limit(1)).first()
            if row is None:
                break
            lo, hi = max(row.from_seq, part.from_seq), min(row.to_seq, part.to_seq)
            reason = cannot_fill_reason(answer, contract.SeqRange(lo, hi))
            conn.execute(update(t.seq_gaps).where(g.id == row.id).values(
                from_seq=lo, to_seq=hi, filled=True, filled_at=now, closed_reason=reason))
            for a, b in ((row.from_seq, lo - 1), (hi + 1, row.to_seq)):
                if a <= b:
                    conn.execute(insert(t.seq_gaps).values(
                        store_id=store_id, device_id=device_id, from_seq=a, to_seq=b, detected_at=row.detected_at,
                        filled=False, resend_requested_at=row.resend_requested_at))
            log.warning("sequence gap on %s/%s %d..%d closed: %s", store_id, device_id, lo, hi, reason)
            closed += 1
    return closed
