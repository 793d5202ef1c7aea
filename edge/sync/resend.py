"""Gap repair on the device: the hub asks again for sales it is missing (``.../resend``); their
outbox rows become pending again (``edge.store.gap_repair``), so the agent publishes them once more
(the hub ignores a ``tx_id`` it already has).  The device answers every request
(``.../resend_answer``, :class:`contracts.resend.ResendAnswer`) with how many it sends again and the
numbers it never had, so the hub closes a gap nothing will ever fill instead of asking forever."""

from __future__ import annotations

import logging

from contracts.resend import MAX_REQUEST_RANGE, ResendAnswer, ResendRequest
from edge.store import Store

log = logging.getLogger(__name__)

MAX_RANGE = MAX_REQUEST_RANGE


def parse_request(payload: bytes) -> ResendRequest:
    """The hub's request; ``ValueError`` (a ``contracts.ContractError`` naming the field) for anything else."""
    return ResendRequest.from_payload(payload)


def requeue(store: Store, request: ResendRequest) -> int:
    """Make the outbox rows of the sales in the range pending again; returns how many."""
    return answer(store, request, "").requeued


def answer(store: Store, request: ResendRequest, at: str, store_id: str | None = None,
           device_id: str | None = None) -> ResendAnswer:
    """Re-queue the range's sales and say which of its numbers this device never had."""
    done = store.gap_repair.requeue_sales(request.from_seq, request.to_seq)
    if done.missing:
        log.warning("hub asked again for sales %d..%d: %d re-queued; never had %s (last number %d)",
                    done.from_seq, done.to_seq, done.count,
                    ", ".join(f"{r.from_seq}..{r.to_seq}" for r in done.missing), done.last_seq)
    else:
        log.info("hub asked again for sales %d..%d: %d re-queued", done.from_seq, done.to_seq, done.count)
    return ResendAnswer(request.from_seq, request.to_seq, done.missing, at, done.count, done.last_seq,
                        store_id, device_id)
