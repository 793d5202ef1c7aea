"""Gap repair across the boundary, typed: the hub's request ``tillsight.resend/1`` (hub -> device on
``{store}/{device}/resend``) and the device's answer ``tillsight.resend_answer/1`` (device -> hub on
``{store}/{device}/resend_answer``).

The hub asks again for sales whose sequence numbers it never got; the device sends those it has once
more and answers with the ranges it never had (:attr:`ResendAnswer.cannot_fill`), so the hub closes a
gap nothing will ever fill (a forged or skipped number) instead of asking for it forever.
``from_payload`` is the one typed reading of each message (it validates first; ``ContractError``, a
``ValueError``, names the field), ``to_payload`` the one writing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from contracts.validation import RESEND, ContractError, validate

RESEND_ANSWER = "tillsight.resend_answer/1"
MAX_REQUEST_RANGE = 100_000  # the widest range a device answers (the hub asks in chunks of 10 000)


def _json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def _object(payload: bytes | str) -> dict[str, Any]:
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ContractError(f"must be a JSON object, not {type(doc).__name__}")
    return doc


@dataclass(frozen=True)
class SeqRange:
    from_seq: int
    to_seq: int

    def __post_init__(self) -> None:
        if not 1 <= self.from_seq <= self.to_seq:
            raise ContractError(f"bad range {self.from_seq}..{self.to_seq}")


@dataclass(frozen=True)
class ResendRequest:
    """The hub asks for the sales numbered ``from_seq``..``to_seq`` again."""

    from_seq: int
    to_seq: int
    at: str | None = field(default=None, compare=False)  # when the hub asked (not part of what is asked)

    def to_payload(self) -> bytes:
        doc: dict[str, Any] = {"schema": RESEND, "from_seq": self.from_seq, "to_seq": self.to_seq}
        if self.at is not None:
            doc["at"] = self.at
        validate(RESEND, doc)
        return _json(doc)

    @classmethod
    def from_payload(cls, payload: bytes | str) -> ResendRequest:
        doc = _object(payload)
        validate(RESEND, doc)
        lo, hi = int(doc["from_seq"]), int(doc["to_seq"])
        if not lo <= hi or hi - lo >= MAX_REQUEST_RANGE:
            raise ContractError(f"bad range {lo}..{hi}")
        return cls(lo, hi, doc.get("at"))


def missing_ranges(lo: int, hi: int, have: Iterable[int]) -> tuple[SeqRange, ...]:
    """The runs of numbers in ``lo..hi`` that are not in ``have``."""
    out: list[SeqRange] = []
    start = lo
    for seq in sorted({s for s in have if lo <= s <= hi}):
        if seq > start:
            out.append(SeqRange(start, seq - 1))
        start = seq + 1
    if start <= hi:
        out.append(SeqRange(start, hi))
    return tuple(out)


@dataclass(frozen=True)
class ResendAnswer:
    """The device's answer to one :class:`ResendRequest`."""

    from_seq: int
    to_seq: int
    cannot_fill: tuple[SeqRange, ...]
    at: str
    requeued: int = 0
    last_seq: int | None = None
    store_id: str | None = None
    device_id: str | None = None

    def to_payload(self) -> bytes:
        doc: dict[str, Any] = {"schema": RESEND_ANSWER, "from_seq": self.from_seq, "to_seq": self.to_seq,
                               "requeued": self.requeued,
                               "cannot_fill": [{"from_seq": r.from_seq, "to_seq": r.to_seq} for r in self.cannot_fill],
                               "at": self.at}
        for key, value in (("last_seq", self.last_seq), ("store_id", self.store_id), ("device_id", self.device_id)):
            if value is not None:
                doc[key] = value
        validate(RESEND_ANSWER, doc)
        return _json(doc)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ResendAnswer:
        """From a document already checked against the contract (the hub's ingest checks it first)."""
        validate(RESEND_ANSWER, doc)
        lo, hi = int(doc["from_seq"]), int(doc["to_seq"])
        ranges = tuple(SeqRange(int(r["from_seq"]), int(r["to_seq"])) for r in doc["cannot_fill"])
        if lo > hi or any(r.from_seq < lo or r.to_seq > hi for r in ranges):
            raise ContractError(f"cannot_fill: every range must lie inside the request {lo}..{hi}")
        return cls(lo, hi, ranges, doc["at"], int(doc.get("requeued", 0)), doc.get("last_seq"),
                   doc.get("store_id"), doc.get("device_id"))

    @classmethod
    def from_payload(cls, payload: bytes | str) -> ResendAnswer:
        return cls.from_doc(_object(payload))
