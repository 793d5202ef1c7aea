"""Gap repair on the device: the hub asks again for sales it is missing (``.../resend``); their
outbox rows become pending again (``edge.store.gap_repair``), so the agent publishes them once more
(the hub ignores a ``tx_id`` it already has)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from contracts import validate
from contracts.validation import RESEND
from edge.store import Store

log = logging.getLogger(__name__)

RESEND_SCHEMA = RESEND
MAX_RANGE = 100_000


@dataclass(frozen=True)
class ResendRequest:
    from_seq: int
    to_seq: int


def parse_request(payload: bytes) -> ResendRequest:
    """The hub's request; ``ValueError`` (a ``contracts.ContractError`` naming the field) for anything else."""
    doc = json.loads(payload)
    validate(RESEND_SCHEMA, doc)
    lo, hi = int(doc["from_seq"]), int(doc["to_seq"])
    if not lo <= hi or hi - lo >= MAX_RANGE:
        raise ValueError(f"bad range {lo}..{hi}")
    return ResendRequest(lo, hi)


def requeue(store: Store, request: ResendRequest) -> int:
    """Make the outbox rows of the sales in the range pending again; returns how many."""
    done = store.gap_repair.requeue_sales(request.from_seq, request.to_seq)
    log.info("hub asked again for sales %d..%d: %d re-queued", done.from_seq, done.to_seq, done.count)
    return done.count
