"""One typed record per sale event: what the checkout writes into a sale's ``events`` and every reader
(the owner's sale page, anomaly scoring, the hub's facts and alert explanations) reads back.

On the wire (``tillsight.tx/1``) an event is ``{"type", "at", "detail"}`` and ``type`` is one of five
names; several records share a name and are told apart by their detail, exactly as the checkout
writes them:

| record | ``type`` | ``detail`` |
|---|---|---|
| :class:`LineVoid` | ``void_line`` | ``sku, qty, reason`` (+ ``name``, ``line_total`` when known) |
| :class:`SaleVoid` | ``void_line`` | ``scope: "sale", lines, reason`` |
| :class:`PriceOverride` | ``price_override`` | ``sku, name, old_price, new_price, reason`` |
| :class:`DiscountChange` | ``price_override`` | ``kind: "discount", old_discount, new_discount, reason`` |
| :class:`RefundApproval` | ``price_override`` | ``kind: "refund", of (the receipt), reason`` |
| :class:`ManualEntry` | ``manual_entry`` | ``sku, qty`` |
| :class:`DrawerOpen` | ``drawer_open`` | ``no_sale, reason``: ``no_sale`` false for a sale's own payment |
| :class:`VisionMismatch` | ``vision_mismatch`` | ``sku, seen, sold`` (counts), or ``sku, rung`` (seen X, Y rung up) |
| :class:`UnknownItem` | ``vision_mismatch`` | ``kind: "unknown", sku`` (what it was rung up as, or null), ``how`` |

Every detail may carry ``by`` (the user who did it or approved it).  Money is integer minor units;
``at`` is payload UTC text (:mod:`contracts.timestamps`).  :func:`from_payload` reads an event back
into its record; a detail written by an older writer is read as far as it goes (``from``/``to`` of an
early discount, a missing ``no_sale``).  Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from contracts.validation import ContractError

VOID_LINE = "void_line"
PRICE_OVERRIDE = "price_override"
MANUAL_ENTRY = "manual_entry"
DRAWER_OPEN = "drawer_open"
VISION_MISMATCH = "vision_mismatch"
EVENT_TYPES: tuple[str, ...] = (VOID_LINE, PRICE_OVERRIDE, MANUAL_ENTRY, DRAWER_OPEN, VISION_MISMATCH)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True, kw_only=True)
class _Event:
    type: ClassVar[str]
    at: str
    by: str | None = None

    def detail(self) -> dict[str, Any]:
        """The ``detail`` object of this event as the device stores it (without ``by``)."""
        raise NotImplementedError

    def to_payload(self) -> dict[str, Any]:
        """``{"type", "at", "detail"}`` for ``tillsight.tx/1`` (``by`` inside the detail)."""
        detail = self.detail()
        if self.by:
            detail["by"] = self.by
        return {"type": self.type, "at": self.at, "detail": detail}


@dataclass(frozen=True, kw_only=True)
class LineVoid(_Event):
    """A line (or part of one) the customer had seen taken off the sale, approved by ``by``."""

    type: ClassVar[str] = VOID_LINE
    sku: str
    qty: int = 1
    reason: str = ""
    name: str | None = None
    line_total: int | None = None

    def detail(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sku": self.sku, "qty": self.qty, "reason": self.reason}
        if self.name is not None:
            out["name"] = self.name
        if self.line_total is not None:
            out["line_total"] = self.line_total
        return out


@dataclass(frozen=True, kw_only=True)
class SaleVoid(_Event):
    """The whole sale voided (a ``voided`` sale), with the number of lines it had."""

    type: ClassVar[str] = VOID_LINE
    lines: int
    reason: str = ""

    def detail(self) -> dict[str, Any]:
        return {"scope": "sale", "lines": self.lines, "reason": self.reason}


@dataclass(frozen=True, kw_only=True)
class PriceOverride(_Event):
    """A line's unit price changed by hand, approved by ``by``."""

    type: ClassVar[str] = PRICE_OVERRIDE
    sku: str
    old_price: int | None
    new_price: int | None
    name: str | None = None
    reason: str = ""

    def detail(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sku": self.sku, "old_price": self.old_price, "new_price": self.new_price,
                               "reason": self.reason}
        if self.name is not None:
            out["name"] = self.name
        return out


@dataclass(frozen=True, kw_only=True)
class DiscountChange(_Event):
    """The sale's discount changed from ``old_discount`` to ``new_discount`` (minor units)."""

    type: ClassVar[str] = PRICE_OVERRIDE
    old_discount: int
    new_discount: int | None
    reason: str = ""

    def detail(self) -> dict[str, Any]:
        return {"kind": "discount", "old_discount": self.old_discount, "new_discount": self.new_discount,
                "reason": self.reason}


@dataclass(frozen=True, kw_only=True)
class RefundApproval(_Event):
    """A refund of receipt ``of`` approved by ``by`` (carried by the refund's own record)."""

    type: ClassVar[str] = PRICE_OVERRIDE
    of: str
    reason: str = ""

    def detail(self) -> dict[str, Any]:
        return {"kind": "refund", "of": self.of, "reason": self.reason}


@dataclass(frozen=True, kw_only=True)
class ManualEntry(_Event):
    """An item typed in by hand (not seen by the camera, not scanned)."""

    type: ClassVar[str] = MANUAL_ENTRY
    sku: str
    qty: int | None = None

    def detail(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sku": self.sku}
        if self.qty is not None:
            out["qty"] = self.qty
        return out


@dataclass(frozen=True, kw_only=True)
class DrawerOpen(_Event):
    """The cash drawer opened.  ``no_sale`` False: for the payment of the sale (or refund) that carries
    the event (``reason`` ``"sale"`` or ``"refund"``).  ``no_sale`` True: opened with no sale (change for
    a customer, a float top-up): the till records those on their own, not inside a sale's payload."""

    type: ClassVar[str] = DRAWER_OPEN
    no_sale: bool
    reason: str = ""

    def detail(self) -> dict[str, Any]:
        return {"reason": self.reason, "no_sale": self.no_sale}


@dataclass(frozen=True, kw_only=True)
class VisionMismatch(_Event):
    """The camera and the till disagree about ``sku``: it was ``seen`` on the tray that many times but
    ``sold`` fewer, or (``rung`` set) the camera saw ``sku`` where ``rung`` was rung up."""

    type: ClassVar[str] = VISION_MISMATCH
    sku: str
    seen: int | None = None
    sold: int | None = None
    rung: str | None = None

    def detail(self) -> dict[str, Any]:
        if self.rung is not None:
            return {"sku": self.sku, "rung": self.rung}
        return {"sku": self.sku, "seen": self.seen, "sold": self.sold}


#: how an unknown item left the sale: rung up by its barcode or a search, or not rung up at all
UNKNOWN_RESOLVED = ("barcode", "search")
UNKNOWN_UNSOLD = ("removed", "left_tray")


@dataclass(frozen=True, kw_only=True)
class UnknownItem(_Event):
    """The camera found a product it could not identify (an "unknown item" line).  ``how`` says what
    became of it: ``barcode`` / ``search`` (rung up as ``sku``), ``removed`` (the cashier took the line
    off) or ``left_tray`` (it went off the tray before it was rung up); ``sku`` is None when unsold.
    Shares the ``vision_mismatch`` type so payloads stay valid for hubs that predate it."""

    type: ClassVar[str] = VISION_MISMATCH
    sku: str | None
    how: str

    @property
    def sold(self) -> bool:
        return self.how in UNKNOWN_RESOLVED

    def detail(self) -> dict[str, Any]:
        return {"kind": "unknown", "sku": self.sku, "how": self.how}


SaleEvent = LineVoid | SaleVoid | PriceOverride | DiscountChange | RefundApproval | ManualEntry | DrawerOpen \
    | VisionMismatch | UnknownItem
E = TypeVar("E", LineVoid, SaleVoid, PriceOverride, DiscountChange, RefundApproval, ManualEntry, DrawerOpen,
            VisionMismatch, UnknownItem)


def from_parts(type_: str, at: str, detail: Mapping[str, Any] | None, by: str | None = None) -> SaleEvent:
    """The record of one stored or received event; :class:`ContractError` for an unknown ``type``."""
    d: Mapping[str, Any] = detail if isinstance(detail, Mapping) else {}
    by = by or (str(d["by"]) if d.get("by") else None)
    reason = _text(d.get("reason")).strip()
    if type_ == VOID_LINE:
        if d.get("scope") == "sale":
            return SaleVoid(at=at, by=by, lines=_int(d.get("lines")) or 0, reason=reason)
        return LineVoid(at=at, by=by, sku=_text(d.get("sku")), qty=_int(d.get("qty")) or 1, reason=reason,
                        name=d.get("name") if isinstance(d.get("name"), str) else None,
                        line_total=_int(d.get("line_total")))
    if type_ == PRICE_OVERRIDE:
        kind = d.get("kind")
        if kind == "refund":
            return RefundApproval(at=at, by=by, of=_text(d.get("of")), reason=reason)
        if kind == "discount":
            old = _int(d.get("old_discount", d.get("from")))
            return DiscountChange(at=at, by=by, old_discount=old or 0,
                                  new_discount=_int(d.get("new_discount", d.get("to"))), reason=reason)
        return PriceOverride(at=at, by=by, sku=_text(d.get("sku")), old_price=_int(d.get("old_price")),
                             new_price=_int(d.get("new_price")),
                             name=d.get("name") if isinstance(d.get("name"), str) else None, reason=reason)
    if type_ == MANUAL_ENTRY:
        return ManualEntry(at=at, by=by, sku=_text(d.get("sku")), qty=_int(d.get("qty")))
    if type_ == DRAWER_OPEN:
        # Checkout always writes no_sale; an older detail without it was a no-sale opening only if it said so.
        no_sale = d.get("no_sale") is True or d.get("reason") == "no_sale"
        return DrawerOpen(at=at, by=by, no_sale=no_sale, reason=reason)
    if type_ == VISION_MISMATCH:
        if d.get("kind") == "unknown":
            sku = d.get("sku")
            return UnknownItem(at=at, by=by, sku=sku if isinstance(sku, str) and sku else None,
                               how=_text(d.get("how")) or "removed")
        seen = d.get("seen")
        if isinstance(seen, str):  # the camera saw one item where another was rung up
            return VisionMismatch(at=at, by=by, sku=seen, rung=_text(d.get("rung")) or None)
        if d.get("rung") is not None:
            return VisionMismatch(at=at, by=by, sku=_text(d.get("sku")), rung=_text(d.get("rung")))
        return VisionMismatch(at=at, by=by, sku=_text(d.get("sku")), seen=_int(seen), sold=_int(d.get("sold")))
    raise ContractError(f"unknown sale event type {type_!r}; known: {', '.join(EVENT_TYPES)}")


def from_payload(event: Mapping[str, Any]) -> SaleEvent:
    """A ``tillsight.tx/1`` event (``{"type", "at", "detail"}``) as its record."""
    return from_parts(_text(event.get("type")), _text(event.get("at")), event.get("detail"))


def payload_events(payload: Mapping[str, Any]) -> list[SaleEvent]:
    """The records of a sale payload's events; events of a type this version does not know are skipped."""
    out: list[SaleEvent] = []
    for event in payload.get("events") or ():
        if isinstance(event, Mapping):
            try:
                out.append(from_payload(event))
            except ContractError:
                continue
    return out


def of_kind(events: Iterable[SaleEvent], kind: type[E]) -> list[E]:
    """The events that are records of ``kind`` (e.g. every :class:`DrawerOpen`)."""
    return [e for e in events if isinstance(e, kind)]
