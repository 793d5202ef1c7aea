"""Refunds of an earlier sale by receipt number: a new ``refunded`` record with negative amounts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from contracts.events import DrawerOpen, RefundApproval, SaleEvent
from contracts.timestamps import utc_now_text
from edge.checkout.errors import CheckoutError
from edge.checkout.totals import included_tax
from edge.store.records import Payment, SaleLine, SaleRecord, User
from i18n import gettext as _


def build_refund(original: SaleRecord, quantities: Mapping[str, int], already: Mapping[str, int],
                 cashier: User, approver: User, tax_rate_bp: int, shift_id: int | None = None,
                 reason: str = "", now: str | None = None) -> SaleRecord:
    """Refund ``quantities`` (SKU -> qty) of ``original``; ``already`` is what was refunded before.

    Money goes back the way it came: to the credit account for credit sales, otherwise in cash
    (card and mobile-money reversals happen on their own terminals; the refund is recorded as the
    original method so the shift report balances).  A discount is shared out pro rata.
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
    discount = 0
    if original.discount and original.subtotal:
        discount = -((-subtotal * original.discount) // original.subtotal)  # pro rata, towards zero
        discount = -min(abs(discount), original.discount)
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
                      customer_id=customer, refund_of=original.tx_id, shift_id=shift_id)
