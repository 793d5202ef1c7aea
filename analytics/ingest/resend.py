"""Gap repair on the hub: for sequence gaps still open after ``hub.resend_after_s``, ask the
device to send those sales again (``{prefix}/{store}/{device}/resend``, QoS 1)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy import Engine, or_, select, update

from analytics.db import tables as t
from contracts import topics, validate
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
        doc = {"schema": RESEND_SCHEMA, "from_seq": self.from_seq, "to_seq": self.to_seq, "at": at}
        validate(RESEND_SCHEMA, doc)  # the device checks the same contract
        return json.dumps(doc).encode()


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
