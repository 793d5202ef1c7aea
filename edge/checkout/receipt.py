"""Receipts: a plain-text layout for ESC/POS printers (fixed width) and the data the HTML page uses.

The text keeps every letter ("Café ñandú"); :mod:`edge.checkout.escpos` turns it into the bytes of the
printer's code page.  A refund names the receipt it refunds and the supervisor who approved it; a
sale that has been refunded in part or in full says so, with the refund receipts; a sale with
nothing to pay (its total is zero) says that no payment was taken."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from contracts.events import RefundApproval, of_kind
from contracts.money import format_money
from contracts.timestamps import parse_utc
from edge.store.records import SaleRecord

METHOD_NAMES = {"cash": "Cash", "card": "Card", "mobile_money": "Mobile money", "credit": "Credit"}
STATUS_TITLES = {"completed": "SALE", "voided": "VOIDED - NOT A SALE", "refunded": "REFUND"}


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
    """The receipt as fixed-width lines (42 columns on 80 mm paper, 32 on 58 mm)."""
    cur = sale.currency
    m = lambda v: format_money(v, cur, symbol=False)  # noqa: E731
    out = [_printable(header.store_name)[:width].center(width).rstrip()]
    if header.address:
        out.append(_printable(header.address)[:width].center(width).rstrip())
    out.append(STATUS_TITLES.get(sale.status, sale.status.upper()).center(width).rstrip())
    out.append("-" * width)
    receipt, when = f"Receipt {sale.receipt_no}", local_time(sale.completed_at, header.timezone)
    if len(receipt) + len(when) + 1 <= width:
        out.append(_row(receipt, when, width))
    else:
        out.extend([receipt[:width], when])
    if header.cashier_name:
        out.append(_printable(f"Cashier: {header.cashier_name}")[:width])
    if sale.refund_of:
        original = refunded_receipt(sale)
        out.append(f"Refund of receipt {original}"[:width] if original else "Refund of an earlier sale"[:width])
        if header.approver_name:
            out.append(_printable(f"Approved by: {header.approver_name}")[:width])
    if header.refunded_note:
        out.append(_printable(header.refunded_note)[:width])
    out.append("-" * width)
    for line in sale.lines:
        out.append(_printable(line.name)[:width])
        out.append(_row(f"  {line.qty} x {m(line.unit_price)}", m(line.line_total), width))
    out.append("-" * width)
    out.append(_row("Subtotal", m(sale.subtotal), width))
    if sale.discount:
        out.append(_row("Discount", m(-sale.discount), width))
    out.append(_row(f"TOTAL {cur}", m(sale.total), width))
    rate = header.tax_rate_bp / 100
    out.append(_row(f"  incl. tax {rate:g}%", m(sale.tax), width))
    if not sale.payments and sale.status == "completed":
        out.append(_row("No payment due", m(0), width))
    for p in sale.payments:
        out.append(_row(METHOD_NAMES.get(p.method, p.method), m(p.tendered if p.method == "cash" else p.amount), width))
        if p.change:
            out.append(_row("Change", m(p.change), width))
    if header.customer_name:
        out.append(_printable(f"On account: {header.customer_name}")[:width])
    out.append("-" * width)
    if header.footer:
        out.append(_printable(header.footer).center(width).rstrip())
    out.append(f"tx {sale.tx_id[:8]}".center(width).rstrip())
    return "\n".join(out) + "\n"
