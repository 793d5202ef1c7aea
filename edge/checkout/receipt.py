"""Receipts: a plain-text layout for ESC/POS printers (fixed width) and the data the HTML page uses.

The text keeps every letter ("Café ñandú"); :mod:`edge.checkout.escpos` turns it into the bytes of the
printer's code page.  A refund names the receipt it refunds and the supervisor who approved it; a
sale that has been refunded in part or in full says so, with the refund receipts; a sale with
nothing to pay (its total is zero) says that no payment was taken.  A receipt is printed in the store's
language (``ReceiptHeader.language``), whoever is logged in at the till, with amounts written the way
that language and the store's country write them."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from contracts.events import RefundApproval, of_kind
from contracts.timestamps import parse_utc
from edge.store.records import SaleRecord
from i18n import N_, current_language, format_money, format_percent, gettext, use_language

# English names, marked for the catalogues; translate with gettext() where shown (method_name())
METHOD_NAMES = {"cash": N_("Cash"), "card": N_("Card"), "mobile_money": N_("Mobile money"), "credit": N_("Credit")}
STATUS_TITLES = {"completed": N_("SALE"), "voided": N_("VOIDED - NOT A SALE"), "refunded": N_("REFUND")}


def method_name(method: str) -> str:
    """A payment method as the reader's language names it."""
    return gettext(METHOD_NAMES[method]) if method in METHOD_NAMES else method


@dataclass(frozen=True)
class ReceiptHeader:
    store_name: str
    address: str
    timezone: str
    footer: str
    tax_rate_bp: int
    cashier_name: str = ""
    customer_name: str = ""
    approver_name: str = ""  # a refund: the supervisor who approved it
    refunded_note: str = ""  # a sale refunded since: "Partly refunded: TILL-1-000007"
    language: str = ""  # the store's language; "" prints in the current one


def local_time(iso_utc: str, tz: str) -> str:
    dt = parse_utc(iso_utc)
    return dt.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _row(left: str, right: str, width: int) -> str:
    room = width - len(right) - 1
    if len(left) > room:
        left = left[: max(room, 1)]
    return f"{left}{' ' * (width - len(left) - len(right))}{right}"


def _printable(text: str) -> str:
    """One character per printed column: composed letters (NFC), no control characters.  Accents stay;
    the printer's code page is applied when the text is encoded for it (:mod:`edge.checkout.escpos`)."""
    return "".join(ch for ch in unicodedata.normalize("NFC", text) if ch.isprintable())


def refunded_receipt(sale: SaleRecord) -> str:
    """The receipt number a refund refunds (from its approval event), or ""."""
    approvals = of_kind(sale.events, RefundApproval)
    return approvals[0].of if approvals else ""


def refund_approver(sale: SaleRecord) -> str:
    """The user id of the supervisor who approved a refund, or ""."""
    approvals = of_kind(sale.events, RefundApproval)
    return (approvals[0].by or "") if approvals else ""


def receipt_text(sale: SaleRecord, header: ReceiptHeader, width: int = 42) -> str:
    """The receipt as fixed-width lines (42 columns on 80 mm paper, 32 on 58 mm), in the store's language."""
    with use_language(header.language or current_language(), header.timezone):
        return _receipt_text(sale, header, width)


def _receipt_text(sale: SaleRecord, header: ReceiptHeader, width: int) -> str:
    _ = gettext
    cur = sale.currency
    m = lambda v: format_money(v, cur, symbol=False)  # noqa: E731
    out = [_printable(header.store_name)[:width].center(width).rstrip()]
    if header.address:
        out.append(_printable(header.address)[:width].center(width).rstrip())
    title = _(STATUS_TITLES[sale.status]) if sale.status in STATUS_TITLES else sale.status.upper()
    out.append(title.center(width).rstrip())
    out.append("-" * width)
    receipt, when = _("Receipt %(number)s", number=sale.receipt_no), local_time(sale.completed_at, header.timezone)
    if len(receipt) + len(when) + 1 <= width:
        out.append(_row(receipt, when, width))
    else:
        out.extend([receipt[:width], when])
    if header.cashier_name:
        out.append(_printable(_("Cashier: %(name)s", name=header.cashier_name))[:width])
    if sale.refund_of:
        original = refunded_receipt(sale)
        out.append((_("Refund of receipt %(number)s", number=original) if original
                    else _("Refund of an earlier sale"))[:width])
        if header.approver_name:
            out.append(_printable(_("Approved by: %(name)s", name=header.approver_name))[:width])
    if header.refunded_note:
        out.append(_printable(header.refunded_note)[:width])
    out.append("-" * width)
    for line in sale.lines:
        out.append(_printable(line.name)[:width])
        out.append(_row(f"  {line.qty} x {m(line.unit_price)}", m(line.line_total), width))
    out.append("-" * width)
    out.append(_row(_("Subtotal"), m(sale.subtotal), width))
    for offer in sale.promotions:  # multi-buy and bundle offers, each its own discount line
        # a refund gives back part of an offer: times 0, the name alone
        label = _printable(offer.name if offer.times in (0, 1) else f"{offer.name} x{offer.times}")
        amount = m(-offer.discount)
        out.append(_row(label[:max(1, width - len(amount) - 1)], amount, width))
    if sale.discount - sale.promotion_discount:
        out.append(_row(_("Discount"), m(-(sale.discount - sale.promotion_discount)), width))
    out.append(_row(_("TOTAL %(currency)s", currency=cur), m(sale.total), width))
    rate = format_percent(header.tax_rate_bp / 10000, digits=2 if header.tax_rate_bp % 100 else 0)
    out.append(_row("  " + _("incl. tax %(rate)s", rate=rate), m(sale.tax), width))
    if not sale.payments and sale.status == "completed":
        out.append(_row(_("No payment due"), m(0), width))
    for p in sale.payments:
        out.append(_row(method_name(p.method), m(p.tendered if p.method == "cash" else p.amount), width))
        if p.change:
            out.append(_row(_("Change"), m(p.change), width))
    if header.customer_name:
        out.append(_printable(_("On account: %(name)s", name=header.customer_name))[:width])
    out.append("-" * width)
    if header.footer:
        out.append(_printable(header.footer).center(width).rstrip())
    out.append(f"tx {sale.tx_id[:8]}".center(width).rstrip())
    return "\n".join(out) + "\n"
