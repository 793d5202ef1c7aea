"""The checkout session at one till: a state machine from an empty tray to a paid sale.

    idle -> scanning -> review -> payment -> completed
                 \\________\\________\\-----> voided

* ``scanning``: vision lines mirror the latest *settled* basket; barcode and typed lines are added
  beside them.
* ``review``: vision is frozen; the cashier removes lines, changes quantities, picks one of the
  top alternatives, adds items.  These are corrections and need no approval.
* ``payment``: the total has been shown to the customer, so every line is now *locked*: removing or
  reducing a locked line is a **line void** and needs a supervisor, as do price overrides and
  discounts at any time.  Going back to review keeps the locks.
* Items seen on the tray that are not in the final sale become ``vision_mismatch`` events.
* A product the camera found but could not identify is an **unknown item** line (no SKU, no price):
  the sale cannot go to payment while one is unresolved; scanning its barcode, searching for it or
  picking one of its alternatives turns it into a normal priced line, and removing it is allowed
  (the item was not a product, or the customer keeps it).  Each one becomes an
  :class:`~contracts.events.UnknownItem` event.  A resolved track is never mirrored from the tray
  again, so the line is not doubled.
* Multi-buy and bundle offers the hub sent (``offers``: those in force at a given time) are priced
  by ``edge/checkout/promotions.py`` whenever the totals are worked out, at the session's clock: their
  savings are part of the sale's discount (a supervisor's discount comes on top, at most the rest),
  shown on the lines they cover, and kept in the sale (``SaleRecord.promotions``).
* Corrections (an alternative picked, an unknown or camera line rung up by barcode or search) are
  handed to ``on_correction`` with the item's box, so the caller can keep the crop as a gallery
  candidate; that never blocks or fails the sale.

The session is pure: it gets products and approvals from its caller and returns a
:class:`~edge.store.records.SaleRecord`; the service records it.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import i18n
from contracts.events import (
    DiscountChange,
    DrawerOpen,
    LineVoid,
    ManualEntry,
    PriceOverride,
    SaleEvent,
    SaleVoid,
    UnknownItem,
    VisionMismatch,
)
from contracts.prices import Promotion
from contracts.timestamps import format_utc
from edge.checkout.errors import ApprovalRequired, CheckoutError
from edge.checkout.promotions import PricedUnit, apply_promotions
from edge.checkout.totals import Totals, compute_totals
from edge.store.records import Customer, Payment, Product, SaleLine, SalePromotion, SaleRecord, User
from i18n import N_, ngettext
from i18n import gettext as _
from vision.basket import BasketItem, BasketSnapshot
from vision.detector import Box

log = logging.getLogger(__name__)

STATES = ("idle", "scanning", "review", "payment", "completed", "voided")
# each state as an error message names it
STATE_NAMES = {"idle": N_("idle"), "scanning": N_("scanning"), "review": N_("in review"), "payment": N_("in payment"),
               "completed": N_("completed"), "voided": N_("voided")}
MAX_QTY = 999
MAX_LINES = 200
MAX_AMOUNT = 10**11
MIN_ALTERNATIVE_SCORE = 0.005  # an alternative that would show as 0 % is not offered
UNKNOWN_NAME = "Unknown item"
RESOLVE_HOW = ("barcode", "search")


ProductLookup = Callable[[str], Product | None]
OffersInForce = Callable[[datetime], list[Promotion]]  # the store's multi-buy/bundle offers at a moment


def check_qty(qty: Any) -> int:
    if isinstance(qty, bool) or not isinstance(qty, int):
        raise CheckoutError(_("quantity must be a whole number"))
    if not 1 <= qty <= MAX_QTY:
        raise CheckoutError(_("quantity must be between 1 and %(max)s", max=MAX_QTY))
    return qty


def check_amount(amount: Any, what: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise CheckoutError(_("%(what)s must be a whole number of minor units", what=what))
    if not 0 <= amount <= MAX_AMOUNT:
        raise CheckoutError(_("%(what)s is out of range", what=what))
    return amount


@dataclass
class CartLine:
    line_id: int
    sku: str
    name: str
    qty: int
    unit_price: int
    list_price: int
    source: str  # vision | barcode | manual
    confidence: float | None = None
    alternatives: list[dict[str, Any]] = field(default_factory=list)  # [{sku, name, price, score}]
    locked_qty: int = 0  # quantity shown to the customer at payment; going below it is a void
    unknown: bool = False  # found by the camera, not identified: no SKU and no price until resolved
    track_ids: tuple[int, ...] = ()  # the camera's tracks behind a vision line
    box: Box | None = None  # the box of its best-seen item (the crop a correction keeps)
    was_unknown: bool = False  # rung up by hand after the camera found it unknown (worth teaching)

    @property
    def line_total(self) -> int:
        return self.qty * self.unit_price

    def to_dict(self) -> dict[str, Any]:
        return {"line_id": self.line_id, "sku": None if self.unknown else self.sku, "name": self.name,
                "qty": self.qty, "unit_price": self.unit_price, "list_price": self.list_price,
                "line_total": self.line_total, "source": self.source, "confidence": self.confidence,
                "alternatives": self.alternatives, "locked": self.locked_qty > 0, "unknown": self.unknown,
                "was_unknown": self.was_unknown}


@dataclass(frozen=True)
class Correction:
    """The cashier told the till what a camera-found item really is: a candidate gallery example."""

    sku: str  # what it is
    how: str  # alternative | barcode | search
    camera_said: str | None  # what the camera said (None: an unknown item)
    box: Box
    track_id: int | None
    tx_id: str


def is_unknown(item: BasketItem) -> bool:
    """A basket item the recogniser could not identify (no SKU, or marked not known)."""
    return item.sku is None or not item.known


def offered(alternatives: Any, lookup: ProductLookup, exclude: str | None = None) -> list[dict[str, Any]]:
    """The alternatives a cashier may pick: products still sold, not the line itself, above 0 %."""
    out = []
    for alt_sku, score in alternatives:
        if alt_sku is None or alt_sku == exclude or float(score) < MIN_ALTERNATIVE_SCORE:
            continue
        alt = lookup(alt_sku)
        if alt is not None and alt.active:
            out.append({"sku": alt.sku, "name": alt.name, "price": alt.price, "score": round(float(score), 3)})
    return out


@dataclass(frozen=True)
class PaymentPart:
    method: str
    amount: int
    tendered: int | None = None  # cash handed over
    customer: Customer | None = None


Clock = Callable[[], datetime]


class CheckoutSession:
    """One sale in progress.  All methods are thread-safe; each raises CheckoutError and changes
    nothing when the action is not possible."""

    def __init__(self, store_id: str, device_id: str, currency: str, tax_rate_bp: int,
                 lookup: ProductLookup, clock: Clock | None = None, offers: OffersInForce | None = None) -> None:
        self.store_id = store_id
        self.offers = offers
        self.clock = clock  # None: the wall clock (a test rings a sale up at a given time)
        self.device_id = device_id
        self.currency = currency
        self.tax_rate_bp = tax_rate_bp
        self.lookup = lookup
        self.on_correction: Callable[[Correction], None] | None = None  # set by the service; must not block
        self._lock = threading.RLock()
        self._version_changed = threading.Condition(self._lock)  # wakes the screen's long-poll
        self._reset()

    def _reset(self) -> None:
        self.state = "idle"
        self.cashier: User | None = None
        self.shift_id: int | None = None
        self.tx_id = ""
        self.started_at = ""
        self.lines: list[CartLine] = []
        self.events: list[SaleEvent] = []
        self.discount = 0
        self.seen_on_tray: dict[str, int] = {}
        # unknown items seen in this sale: track id -> (sku, how) once settled, None while its line is open
        self.unknown_seen: dict[int, tuple[str | None, str] | None] = {}
        self.handled_tracks: set[int] = set()  # rung up by hand or removed as unknown: not mirrored again
        self.basket_version = 0  # bumps whenever the lines change (the screen polls it)
        self.settled_at: float | None = None  # monotonic time the latest settled basket arrived
        self._next_line = 1
        self.result: SaleRecord | None = None

    # -- helpers -----------------------------------------------------------------------------
    def _require(self, *states: str) -> None:
        if self.state not in states:
            state = _(STATE_NAMES[self.state]) if self.state in STATE_NAMES else self.state
            raise CheckoutError(_("not possible while the sale is %(state)s", state=state))

    def _changed(self) -> None:
        with self._lock:
            self.basket_version += 1
            self._version_changed.notify_all()

    def wait_for_change(self, since: int, timeout: float) -> int:
        """Block until ``basket_version`` differs from ``since`` (or ``timeout`` seconds pass);
        returns the version then.  The cashier screen's long-poll waits here."""
        with self._version_changed:
            self._version_changed.wait_for(lambda: self.basket_version != since, timeout=max(0.0, timeout))
            return self.basket_version

    def _line(self, line_id: int) -> CartLine:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise CheckoutError(_("no line %(line)s in this sale", line=line_id))

    def _at(self) -> datetime:
        return self.clock() if self.clock is not None else datetime.now(UTC)

    def _now(self) -> str:
        return format_utc(self._at())

    def _event(self, event: SaleEvent) -> None:
        self.events.append(event)

    @staticmethod
    def _by(user: User | None) -> str | None:
        return user.id if user else None

    def _new_line(self, product: Product, qty: int, source: str, confidence: float | None = None,
                  alternatives: list[dict[str, Any]] | None = None) -> CartLine:
        if len(self.lines) >= MAX_LINES:
            raise CheckoutError(_("a sale holds at most %(max)s lines", max=MAX_LINES))
        line = CartLine(self._next_line, product.sku, product.name, qty, product.price, product.price, source,
                        confidence, alternatives or [])
        self._next_line += 1
        return line

    # -- starting ----------------------------------------------------------------------------
    def start(self, cashier: User, shift_id: int | None = None) -> None:
        with self._lock:
            self._require("idle", "completed", "voided")
            version = self.basket_version
            self._reset()
            self.basket_version = version
            self.state = "scanning"
            self.cashier = cashier
            self.shift_id = shift_id
            self.tx_id = str(uuid.uuid4())
            self.started_at = self._now()
            self._changed()

    # -- vision --------------------------------------------------------------------------------
    def apply_basket(self, basket: BasketSnapshot, settled_at: float | None = None) -> bool:
        """Mirror a settled basket into the vision lines (scanning only); True when lines changed.

        Known items become one line per SKU; each unknown item is a line of its own (two unknown
        items may be two different products)."""
        with self._lock:
            if self.state != "scanning" or not basket.settled:
                return False
            counts: dict[str, int] = {}
            best: dict[str, BasketItem] = {}
            tracks: dict[str, list[int]] = {}
            unknown: list[BasketItem] = []
            for item in basket.items:
                if item.track_id in self.handled_tracks:
                    continue
                if is_unknown(item):
                    unknown.append(item)
                    continue
                sku = str(item.sku)
                self.unknown_seen.pop(item.track_id, None)  # identified after all (e.g. the gallery grew)
                counts[sku] = counts.get(sku, 0) + 1
                tracks.setdefault(sku, []).append(item.track_id)
                if sku not in best or item.confidence > best[sku].confidence:
                    best[sku] = item
            for sku, n in counts.items():
                self.seen_on_tray[sku] = max(self.seen_on_tray.get(sku, 0), n)
            current = {ln.sku: ln for ln in self.lines if self._mirrored(ln) and not ln.unknown}
            wanted: list[CartLine] = []
            for sku, n in counts.items():
                product = self.lookup(sku)
                if product is None or not product.active:
                    continue  # a class the shop does not sell (any more)
                item = best[sku]
                alts = offered(item.alternatives, self.lookup, exclude=sku)
                line = current.get(sku)
                if line is None:
                    line = self._new_line(product, n, "vision", round(float(item.confidence), 3), alts)
                else:
                    line.qty, line.confidence, line.alternatives = n, round(float(item.confidence), 3), alts
                line.track_ids, line.box = tuple(tracks[sku]), item.box
                wanted.append(line)
            open_unknown = {ln.track_ids[0]: ln for ln in self.lines if ln.unknown and ln.track_ids}
            for item in unknown:
                line = open_unknown.get(item.track_id)
                alts = offered(item.alternatives, self.lookup)
                if line is None:
                    line = self._new_unknown_line(item, alts)
                else:
                    line.confidence, line.alternatives, line.box = round(float(item.confidence), 3), alts, item.box
                self.unknown_seen[item.track_id] = None
                wanted.append(line)
            still = {item.track_id for item in unknown}
            for track_id in open_unknown:
                if track_id not in still and self.unknown_seen.get(track_id, "") is None:
                    self.unknown_seen[track_id] = (None, "left_tray")  # went off the tray unresolved
            before = [(ln.line_id, ln.sku, ln.qty) for ln in self.lines if self._mirrored(ln)]
            others = [ln for ln in self.lines if not self._mirrored(ln)]
            self.lines = sorted(wanted + others, key=lambda ln: ln.line_id)
            after = [(ln.line_id, ln.sku, ln.qty) for ln in self.lines if self._mirrored(ln)]
            if before != after:
                self._changed()
                if settled_at is not None:
                    self.settled_at = settled_at
                return True
            return False

    @staticmethod
    def _mirrored(line: CartLine) -> bool:
        """A line that follows the tray: the camera's, unless the cashier rang it up (an unknown item
        resolved by an alternative stays the camera's line but no longer follows the tray)."""
        return line.source == "vision" and not line.was_unknown

    def _new_unknown_line(self, item: BasketItem, alternatives: list[dict[str, Any]]) -> CartLine:
        if len(self.lines) >= MAX_LINES:
            raise CheckoutError(_("a sale holds at most %(max)s lines", max=MAX_LINES))
        line = CartLine(self._next_line, "", UNKNOWN_NAME, 1, 0, 0, "vision", round(float(item.confidence), 3),
                        alternatives, unknown=True, track_ids=(item.track_id,), box=item.box)
        self._next_line += 1
        return line

    def unresolved(self) -> list[CartLine]:
        """The unknown-item lines still waiting for a barcode, a search or removal."""
        with self._lock:
            return [ln for ln in self.lines if ln.unknown]

    def review(self) -> None:
        with self._lock:
            self._require("scanning", "payment")
            self.state = "review"
            self._changed()

    def rescan(self) -> None:
        """Back to scanning: vision lines follow the tray again (locked lines stay as they are)."""
        with self._lock:
            self._require("review")
            if any(ln.locked_qty for ln in self.lines):
                raise CheckoutError(_("the customer has seen the total: correct lines in review instead"))
            self.state = "scanning"
            self._changed()

    # -- corrections ---------------------------------------------------------------------------
    def add_product(self, product: Product, qty: int = 1, source: str = "manual",
                    user: User | None = None) -> CartLine:
        with self._lock:
            self._require("scanning", "review")
            check_qty(qty)
            if not product.active:
                raise CheckoutError(_("%(name)s is not for sale (inactive)", name=product.name))
            if source not in ("barcode", "manual"):
                raise CheckoutError(_("items are added by barcode or by hand"))
            for line in self.lines:  # the same item scanned again adds to its line
                if line.sku == product.sku and line.source == source and line.unit_price == product.price:
                    check_qty(line.qty + qty)
                    line.qty += qty
                    break
            else:
                line = self._new_line(product, qty, source)
                self.lines.append(line)
            if source == "manual":
                self._event(ManualEntry(at=self._now(), by=self._by(user or self.cashier), sku=product.sku,
                                        qty=qty))
            self._changed()
            return line

    def set_qty(self, line_id: int, qty: int, approver: User | None = None) -> None:
        with self._lock:
            self._require("scanning", "review")
            check_qty(qty)
            line = self._line(line_id)
            if line.unknown:
                raise CheckoutError(_("an unknown item is one product: scan its barcode or search for it first"))
            if qty < line.locked_qty:
                if approver is None:
                    raise ApprovalRequired(_("reducing a line the customer has seen is a void: supervisor PIN needed"))
                self._event(LineVoid(at=self._now(), by=approver.id, sku=line.sku, qty=line.locked_qty - qty,
                                     reason="qty reduced"))
                line.locked_qty = qty
            line.qty = qty
            if self.state == "scanning" and line.source == "vision":
                self.state = "review"  # a hand-corrected vision line must not be overwritten by the tray
            self._changed()

    def remove_line(self, line_id: int, approver: User | None = None, reason: str = "") -> None:
        with self._lock:
            self._require("scanning", "review", "payment")
            line = self._line(line_id)
            if line.locked_qty:
                if approver is None:
                    raise ApprovalRequired(_("voiding a line the customer has seen needs a supervisor PIN"))
                self._event(LineVoid(at=self._now(), by=approver.id, sku=line.sku, qty=line.locked_qty,
                                     reason=reason or "voided"))
            if line.unknown and line.track_ids:
                self.unknown_seen[line.track_ids[0]] = (None, "removed")
                self.handled_tracks.add(line.track_ids[0])  # not brought back by the tray or a rescan
            if self.state == "scanning" and line.source == "vision":
                self.state = "review"
            self.lines.remove(line)
            if self.state == "payment":
                self.state = "review"
            self._changed()

    def pick_alternative(self, line_id: int, sku: str) -> None:
        with self._lock:
            self._require("scanning", "review")
            line = self._line(line_id)
            if line.locked_qty:
                raise ApprovalRequired(_("this line was shown to the customer: void it and add the right item"))
            choice = next((a for a in line.alternatives if a["sku"] == sku), None)
            product = self.lookup(sku) if choice else None
            if choice is None or product is None or not product.active:
                raise CheckoutError(_("%(sku)s is not one of this line's alternatives", sku=sku))
            self._correction(line, product.sku, "alternative")
            if line.unknown:
                self._resolve(line, product, "vision", "alternative")
                line.confidence = choice["score"]
                self._changed()
                return
            others = [a for a in line.alternatives if a["sku"] != sku]
            others.insert(0, {"sku": line.sku, "name": line.name, "price": line.list_price,
                              "score": line.confidence or 0.0})
            line.sku, line.name = product.sku, product.name
            line.unit_price = line.list_price = product.price
            line.confidence, line.alternatives = choice["score"], others
            self.state = "review"
            self._changed()

    def resolve_line(self, line_id: int, product: Product, how: str) -> CartLine:
        """Ring up a line the camera found as ``product``, told by its barcode or a search (``how``).

        An unknown item becomes a normal priced line; a camera line that was wrong is corrected the
        same way.  Either way the item's crop is offered as a gallery candidate."""
        with self._lock:
            self._require("scanning", "review")
            if how not in RESOLVE_HOW:
                raise CheckoutError(_("a line is resolved by barcode or by search"))
            line = self._line(line_id)
            if line.source != "vision":
                raise CheckoutError(_("only a line the camera found can be resolved: add the item instead"))
            if line.locked_qty:
                raise ApprovalRequired(_("this line was shown to the customer: void it and add the right item"))
            if not product.active:
                raise CheckoutError(_("%(name)s is not for sale (inactive)", name=product.name))
            self._correction(line, product.sku, how)
            was_unknown = line.unknown
            self._resolve(line, product, "barcode" if how == "barcode" else "manual", how)
            if not was_unknown:
                self.state = "review"  # a corrected camera line must not be overwritten by the tray
            self._changed()
            return line

    def _resolve(self, line: CartLine, product: Product, source: str, how: str) -> None:
        if line.unknown and line.track_ids:
            self.unknown_seen[line.track_ids[0]] = (product.sku, how)
            line.was_unknown = True
        self.handled_tracks.update(line.track_ids)
        line.sku, line.name = product.sku, product.name
        line.unit_price = line.list_price = product.price
        line.source, line.unknown, line.confidence, line.alternatives = source, False, None, []

    def _correction(self, line: CartLine, sku: str, how: str) -> None:
        """Hand the correction to ``on_correction`` (a candidate gallery example); never fails the sale."""
        if self.on_correction is None or line.box is None or line.source != "vision":
            return
        camera_said = None if line.unknown else line.sku
        if camera_said == sku:
            return
        try:
            self.on_correction(Correction(sku, how, camera_said, line.box,
                                          line.track_ids[0] if line.track_ids else None, self.tx_id))
        except Exception:  # a correction is a bonus: the sale goes on whatever happens to it
            log.exception("keeping a correction of %s failed", sku)

    def override_price(self, line_id: int, unit_price: int, approver: User, reason: str = "") -> None:
        with self._lock:
            self._require("scanning", "review", "payment")
            check_amount(unit_price, "price")
            if approver is None or not approver.at_least("supervisor"):
                raise ApprovalRequired(_("a price override needs a supervisor PIN"))
            line = self._line(line_id)
            if line.unknown:
                raise CheckoutError(_("an unknown item has no price yet: scan its barcode or search for it first"))
            self._event(PriceOverride(at=self._now(), by=approver.id, sku=line.sku, name=line.name,
                                      old_price=line.unit_price, new_price=unit_price, reason=reason))
            line.unit_price = unit_price
            if self.state == "payment":
                self.state = "review"
            elif self.state == "scanning":
                self.state = "review"
            self._changed()

    def set_discount(self, amount: int, approver: User, reason: str = "") -> None:
        with self._lock:
            self._require("review", "payment")
            check_amount(amount, "discount")
            if approver is None or not approver.at_least("supervisor"):
                raise ApprovalRequired(_("a discount needs a supervisor PIN"))
            subtotal = sum(ln.line_total for ln in self.priced_lines())
            if amount > subtotal - sum(p.discount for p in self.promotions()):
                raise CheckoutError(_("the discount cannot be more than the subtotal"))
            self._event(DiscountChange(at=self._now(), by=approver.id, old_discount=self.discount,
                                       new_discount=amount, reason=reason))
            self.discount = amount
            self._changed()

    # -- totals and payment --------------------------------------------------------------------
    def priced_lines(self) -> list[CartLine]:
        """The lines that are sold (an unknown item is not, until it is resolved)."""
        return [ln for ln in self.lines if not ln.unknown]

    def promotions(self, at: datetime | None = None) -> list[SalePromotion]:
        """The offers the basket gets at ``at`` (default: now by the session's clock)."""
        with self._lock:
            if self.offers is None:
                return []
            offers = self.offers(at or self._at())
            if not offers:
                return []
            return apply_promotions([PricedUnit(ln.line_id, ln.sku, ln.qty, ln.unit_price,
                                                ln.unit_price == ln.list_price) for ln in self.priced_lines()], offers)

    def totals(self, promotions: list[SalePromotion] | None = None) -> Totals:
        with self._lock:
            lines = self.priced_lines()
            offered = sum(p.discount for p in (self.promotions() if promotions is None else promotions))
            subtotal = sum(ln.line_total for ln in lines)
            manual = min(self.discount, subtotal - offered)
            return compute_totals([ln.line_total for ln in lines], [ln.qty for ln in lines], offered + manual,
                                  self.tax_rate_bp, promotions=offered)

    def to_payment(self) -> Totals:
        with self._lock:
            self._require("scanning", "review")
            waiting = self.unresolved()
            if waiting:
                raise CheckoutError(ngettext(
                    "ring up the unknown item first: scan its barcode or search its name (or take it off the tray)",
                    "ring up the %(num)d unknown items first: scan their barcodes or search their names "
                    "(or take them off the tray)", len(waiting)))
            if not self.lines:
                raise CheckoutError(_("the basket is empty"))
            for line in self.lines:
                line.locked_qty = line.qty
            self.state = "payment"
            self._changed()
            return self.totals()

    def pay(self, parts: list[PaymentPart]) -> SaleRecord:
        """Check the payment and build the completed sale (the caller records it, then calls
        :meth:`finish`).  Cash may be over-tendered (change is given); other methods pay exactly.

        A sale whose total is zero (a price overridden to 0, a full discount) is completed with no
        payment parts: it is recorded with no payment and its receipt says none was due."""
        with self._lock:
            self._require("payment")
            at = self._at()
            offers = self.promotions(at)
            totals = self.totals(offers)
            if totals.total == 0:  # nothing to pay: no payment parts, no drawer opening
                if any(part.amount for part in parts):
                    raise CheckoutError(_("the total is 0.00: complete the sale with no payment"))
                parts = []
            elif not parts:
                raise CheckoutError(_("choose a payment method"))
            payments: list[Payment] = []
            customer_id = None
            for part in parts:
                check_amount(part.amount, "payment")
                if part.amount == 0:
                    raise CheckoutError(_("a payment part cannot be zero"))
                if part.method == "cash":
                    tendered = part.amount if part.tendered is None else check_amount(part.tendered, "cash tendered")
                    if tendered < part.amount:
                        raise CheckoutError(_("the cash tendered is less than the amount due"))
                    payments.append(Payment("cash", part.amount, tendered, tendered - part.amount))
                elif part.method in ("card", "mobile_money"):
                    payments.append(Payment(part.method, part.amount, part.amount, 0))
                elif part.method == "credit":
                    cust = part.customer
                    if cust is None or not cust.active:
                        raise CheckoutError(_("choose the customer who buys on credit"))
                    if part.amount > cust.available_credit:
                        raise CheckoutError(_("%(name)s has only %(amount)s of credit left", name=cust.name,
                                              amount=i18n.format_money(cust.available_credit, self.currency)))
                    customer_id = cust.id
                    payments.append(Payment("credit", part.amount, part.amount, 0, cust.id))
                else:
                    raise CheckoutError(_("unknown payment method %(method)r", method=part.method))
            if sum(p.amount for p in payments) != totals.total:
                raise CheckoutError(_("the payments do not add up to the total"))
            if sum(1 for p in payments if p.method == "cash") > 1:
                raise CheckoutError(_("take cash once"))
            events = list(self.events)
            now = format_utc(at)
            if any(p.method == "cash" for p in payments):  # the drawer opens for this sale's own payment
                events.append(DrawerOpen(at=now, by=self._by(self.cashier), no_sale=False, reason="sale"))
            events.extend(self._mismatches(now))
            events.extend(self._unknown_events(now))
            return self._record("completed", payments, events, totals, customer_id, now, offers)

    def _mismatches(self, at: str) -> list[SaleEvent]:
        sold: dict[str, int] = {}
        for ln in self.priced_lines():
            sold[ln.sku] = sold.get(ln.sku, 0) + ln.qty
        return [VisionMismatch(at=at, sku=sku, seen=seen, sold=sold.get(sku, 0))
                for sku, seen in sorted(self.seen_on_tray.items()) if seen > sold.get(sku, 0)]

    def _unknown_events(self, at: str) -> list[SaleEvent]:
        """One event per unknown item of the sale; one still open (a voided sale) counts as removed."""
        return [UnknownItem(at=at, sku=outcome[0] if outcome else None, how=outcome[1] if outcome else "removed")
                for _, outcome in sorted(self.unknown_seen.items())]

    def _record(self, status: str, payments: list[Payment], events: list[SaleEvent], totals: Totals,
                customer_id: str | None, now: str, promotions: list[SalePromotion] | None = None) -> SaleRecord:
        assert self.cashier is not None
        priced = self.priced_lines()
        numbers = {ln.line_id: i + 1 for i, ln in enumerate(priced)}  # the offers name the sale's lines
        unit_prices = {ln.line_id: ln.unit_price for ln in priced}
        return SaleRecord(
            tx_id=self.tx_id, status=status, store_id=self.store_id, device_id=self.device_id,
            cashier_id=self.cashier.id, currency=self.currency, started_at=self.started_at, completed_at=now,
            lines=[SaleLine(ln.sku, ln.name, ln.qty, ln.unit_price, ln.line_total, ln.source, ln.confidence)
                   for ln in priced],
            payments=payments, events=events, subtotal=totals.subtotal, discount=totals.discount,
            tax=totals.tax, total=totals.total, customer_id=customer_id, shift_id=self.shift_id,
            promotions=[p.on_sale_lines(numbers, unit_prices) for p in promotions or [] if p.discount])

    def void(self, approver: User | None, reason: str = "", expect_version: int | None = None) -> SaleRecord | None:
        """Abandon the sale.  An empty sale just ends; one with lines needs a supervisor and is
        recorded as ``voided`` (returned for the caller to record).

        ``expect_version`` is the basket version the approval box showed: when the basket changed
        since (the camera added an item, another screen changed a line), nothing is voided, so the
        voided record is always exactly what the supervisor approved."""
        with self._lock:
            self._require("scanning", "review", "payment")
            if expect_version is not None and expect_version != self.basket_version:
                raise CheckoutError(_("the basket changed while the void was being approved: check it and void again"))
            if not self.lines and not self.seen_on_tray and not self.unknown_seen:
                self.state = "voided"
                self._changed()
                return None
            if approver is None or not approver.at_least("supervisor"):
                raise ApprovalRequired(_("voiding a sale needs a supervisor PIN"))
            at = self._at()
            now = format_utc(at)
            offers = self.promotions(at)
            events = list(self.events)
            events.append(SaleVoid(at=now, by=approver.id, lines=len(self.priced_lines()),
                                   reason=reason or "sale voided"))
            events.extend(self._unknown_events(now))
            totals = self.totals(offers)
            return self._record("voided", [], events, totals, None, now, offers)

    def finish(self, record: SaleRecord) -> None:
        """The store has recorded ``record``: the session is over."""
        with self._lock:
            self.result = record
            self.state = "completed" if record.status == "completed" else "voided"
            self._changed()

    # -- view --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            offers = self.promotions()
            t = self.totals(offers)
            on_line: dict[int, list[str]] = {}
            for p in offers:
                for line_id in p.line_ids:
                    on_line.setdefault(line_id, []).append(p.name)
            return {"state": self.state, "tx_id": self.tx_id or None, "started_at": self.started_at or None,
                    "cashier": {"id": self.cashier.id, "name": self.cashier.name} if self.cashier else None,
                    "shift_id": self.shift_id, "version": self.basket_version, "currency": self.currency,
                    "lines": [{**ln.to_dict(), "offers": on_line.get(ln.line_id, [])} for ln in self.lines],
                    "promotions": [{"promotion_id": p.promotion_id, "name": p.name, "times": p.times,
                                    "discount": p.discount, "line_ids": list(p.line_ids)} for p in offers],
                    "unknown_lines": sum(1 for ln in self.lines if ln.unknown),
                    "totals": {"subtotal": t.subtotal, "discount": t.discount, "tax": t.tax, "total": t.total,
                               "items": t.items, "promotions": t.promotions},
                    "receipt_no": self.result.receipt_no if self.result else None}
