"""Receipts: a plain-text layout for ESC/POS printers (fixed width) and the data the HTML page uses."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

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


def local_time(iso_utc: str, tz: str) -> str:
    dt = parse_utc(iso_utc)
    return dt.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _row(left: str, right: str, width: int) -> str:
    room = width - len(right) - 1
    if len(left) > room:
        left = left[: max(room, 1)]
    return f"{left}{' ' * (width - len(left) - len(right))}{right}"


def _printable(text: str) -> str:
    """ESC/POS code pages do not carry every character: fold to ASCII, drop control bytes."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded if ch.isprintable())


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
        out.append("Refund of an earlier sale"[:width])
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
