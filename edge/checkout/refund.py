"""Refunds of an earlier sale by receipt number: a new ``refunded`` record with negative amounts.

What goes back for a unit is what the customer paid for it: its price, less its line's part of any offer it
was in (``tillsight.tx/2`` ``promotions`` name each offer's lines and parts, ``contracts.margins``) spread
over the units of that product on the sale, less its pro-rata share of the rest of the discount (what a
supervisor gave by hand).  Offer parts go back so that, over every refund of a sale, exactly the sale's
offer saving has been taken back; the refund names the offers it gives back part of, with negative amounts,
so its lines' margins are worked out by the same rule as the sale's."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from fractions import Fraction

from contracts.events import DrawerOpen, RefundApproval, SaleEvent
from contracts.timestamps import utc_now_text
from edge.checkout.errors import CheckoutError
from edge.checkout.totals import included_tax
from edge.store.records import Payment, SaleLine, SalePromotion, SaleRecord, User
from i18n import gettext as _


def build_refund(original: SaleRecord, quantities: Mapping[str, int], already: Mapping[str, int],
                 cashier: User, approver: User, tax_rate_bp: int, shift_id: int | None = None,
                 reason: str = "", now: str | None = None) -> SaleRecord:
    """Refund ``quantities`` (SKU -> qty) of ``original``; ``already`` is what was refunded before.

    Money goes back the way it came: to the credit account for credit sales, otherwise in cash
    (card and mobile-money reversals happen on their own terminals; the refund is recorded as the
    original method so the shift report balances).  Each unit gives back its share of the offers it was
    in (:func:`offers_given_back`); the rest of the discount is shared out pro rata.
    """
    if original.status != "completed":
        raise CheckoutError(_("receipt %(receipt)s is a %(status)s sale: it cannot be refunded",
                              receipt=original.receipt_no, status=original.status))
    if not approver.at_least("supervisor"):
        raise CheckoutError(_("a refund needs a supervisor PIN"))
    sold: dict[str, SaleLine] = {}
    for line in original.lines:
        if line.sku in sold:
            prev = sold[line.sku]
            total = prev.line_total + line.line_total
            qty = prev.qty + line.qty
            sold[line.sku] = SaleLine(line.sku, line.name, qty, total // qty, total, line.source, line.confidence)
        else:
            sold[line.sku] = line
    lines: list[SaleLine] = []
    for sku, qty in quantities.items():
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 0:
            raise CheckoutError(_("refund quantities must be whole numbers, 0 or more"))
        if qty == 0:
            continue
        if sku not in sold:
            raise CheckoutError(_("%(sku)s is not on receipt %(receipt)s", sku=sku, receipt=original.receipt_no))
        left = sold[sku].qty - already.get(sku, 0)
        if qty > left:
            raise CheckoutError(_("only %(left)s of %(name)s can still be refunded", left=left, name=sold[sku].name))
        unit = sold[sku].unit_price
        lines.append(SaleLine(sku, sold[sku].name, -qty, unit, -qty * unit, "manual", None))
    if not lines:
        raise CheckoutError(_("choose at least one item to refund"))
    subtotal = sum(ln.line_total for ln in lines)
    offers = offers_given_back(original, lines, already)
    offered = sum(p.discount for p in offers)  # negative: the offers' parts that go back
    attributed = sum(d for p in original.promotions for _n, _q, d in p.lines)
    hand, base = original.discount - attributed, original.subtotal - attributed  # the rest, and what it was on
    discount = offered
    if hand and base:
        after = subtotal - offered  # what the refunded units came to after their offers (negative)
        share = -((-after * hand) // base)  # pro rata, towards zero
        discount += -min(abs(share), hand)
    total = subtotal - discount
    method = "credit" if any(p.method == "credit" for p in original.payments) else \
        max(original.payments, key=lambda p: p.amount).method
    customer = original.customer_id if method == "credit" else None
    now = now or utc_now_text()
    payment = Payment(method, total, total, 0, customer)
    events: list[SaleEvent] = [RefundApproval(at=now, by=approver.id, of=original.receipt_no or "", reason=reason)]
    if method == "cash":  # the drawer opens to pay this refund out: not a no-sale opening
        events.append(DrawerOpen(at=now, by=cashier.id, no_sale=False, reason="refund"))
    return SaleRecord(tx_id=str(uuid.uuid4()), status="refunded", store_id=original.store_id,
                      device_id=original.device_id, cashier_id=cashier.id, currency=original.currency,
                      started_at=now, completed_at=now, lines=lines, payments=[payment], events=events,
                      subtotal=subtotal, discount=discount, tax=included_tax(total, tax_rate_bp), total=total,
                      customer_id=customer, refund_of=original.tx_id, shift_id=shift_id, promotions=offers)


def _half_up(x: Fraction) -> int:
    return int(x + Fraction(1, 2))


def offers_given_back(original: SaleRecord, lines: list[SaleLine], already: Mapping[str, int]) -> list[SalePromotion]:
    """The offers of ``original`` that the refund ``lines`` (one per SKU, negative) give back part of.

    A product's part of an offer (the sum of its lines' parts) is spread over all its units on the sale;
    ``already`` refunded units count first, and each refund gives back the rounded share of everything
    refunded so far less what went back before, so a product refunded in full gives back its whole part."""
    sold: dict[str, int] = {}
    for line in original.lines:
        sold[line.sku] = sold.get(line.sku, 0) + line.qty
    out: list[SalePromotion] = []
    for promo in original.promotions:
        part: dict[str, int] = {}  # SKU -> its part of this offer
        for number, _qty, share in promo.lines:
            sku = original.lines[number - 1].sku
            part[sku] = part.get(sku, 0) + share
        back: list[tuple[int, int, int]] = []
        for i, line in enumerate(lines):
            if not part.get(line.sku) or not sold.get(line.sku):
                continue
            before = already.get(line.sku, 0)
            whole, units = part[line.sku], sold[line.sku]
            amount = _half_up(Fraction(whole * (before - line.qty), units)) - _half_up(Fraction(whole * before, units))
            if amount:
                back.append((i + 1, line.qty, -amount))
        if back:
            out.append(SalePromotion(promo.promotion_id, promo.kind, promo.name, 0, promo.price,
                                     sum(d for _n, _q, d in back), lines=tuple(back)))
    return out
