"""Group imported lines into sales: one per invoice, a refund per cancellation.

Without costs the sales are ``tillsight.tx/1``.  With costs they are ``tillsight.tx/2`` (each line's
``unit_cost``) and the sale's ``origin.cost`` says where the costs came from: ``column`` (the file's
cost column; a blank cell is an unknown cost) or ``default_margin`` (each line's cost made up from
its price and the margin the owner gave, ``origin.default_margin_pct``: an *assumed* cost, marked so
wherever it is shown; ``analytics.ingest.costs``).

The ``tx_id`` is a deterministic function of the store and the invoice number (a UUID carrying
the version-4 bits the contract asks for, its other 122 bits from SHA-1 of ``store/invoice``), so
importing a file again, or a later file that repeats some invoices, stores nothing twice.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from analytics.importer.reader import SaleLine

IMPORT_CASHIER = "import"
COST_COLUMN = "column"
DEFAULT_MARGIN = "default_margin"


def assumed_cost(unit_price: int, margin_pct: Decimal) -> int:
    """The unit cost that leaves ``margin_pct`` % of ``unit_price`` as gross profit (half up)."""
    return int((Decimal(unit_price) * (100 - margin_pct) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def import_tx_id(store_id: str, invoice: str) -> str:
    digest = hashlib.sha1(f"tillsight-import\x1f{store_id}\x1f{invoice}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def import_seq(invoice: str, prefix: str | None) -> int:
    """The invoice number itself when it is numeric (after a cancellation prefix), else a stable
    47-bit hash: positive, the same on every import."""
    core = invoice[len(prefix):] if prefix and invoice.startswith(prefix) else invoice
    if core.isdigit() and 0 < int(core) < 2**53:
        return int(core)
    return int.from_bytes(hashlib.sha1(invoice.encode()).digest()[:6], "big") % (2**47) + 1


def utc_text(local: datetime, zone: ZoneInfo) -> str:
    return local.replace(tzinfo=zone).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Invoice:
    doc: dict[str, Any]
    rows: tuple[int, ...]


def build_invoices(lines: Iterable[SaleLine], *, store_id: str, device_id: str, currency: str, timezone_name: str,
                   layout: str, cancel_prefix: str | None, cost: str | None = None,
                   default_margin_pct: Decimal | None = None) -> list[Invoice]:
    """One document per invoice number, in order of first appearance in the file.  ``cost``: None (no
    costs, tx/1), ``"column"`` (each line's ``unit_cost``) or ``"default_margin"`` (``default_margin_pct``)."""
    if cost == DEFAULT_MARGIN and default_margin_pct is None:
        raise ValueError("a default margin needs its percentage")
    zone = ZoneInfo(timezone_name)
    groups: dict[str, list[SaleLine]] = {}
    for line in lines:
        groups.setdefault(line.invoice, []).append(line)
    out = []
    for invoice, items in groups.items():
        refunded = items[0].cancelled
        lines_doc: list[dict[str, Any]] = [
            {"sku": ln.sku, "name": ln.name, "qty": ln.qty, "unit_price": ln.unit_price,
             "line_total": ln.qty * ln.unit_price, "source": "manual"} for ln in items]
        if cost is not None:
            for doc_line, ln in zip(lines_doc, items, strict=True):
                doc_line["unit_cost"] = (assumed_cost(ln.unit_price, default_margin_pct)  # type: ignore[arg-type]
                                         if cost == DEFAULT_MARGIN else ln.unit_cost)
        subtotal = sum(ln.qty * ln.unit_price for ln in items)
        customer = next((ln.customer for ln in items if ln.customer), None)
        country = next((ln.country for ln in items if ln.country), None)
        origin: dict[str, Any] = {"kind": "import", "layout": layout, "invoice": invoice, "country": country}
        if cost is not None:
            origin["cost"] = cost
            if cost == DEFAULT_MARGIN:
                origin["default_margin_pct"] = str(default_margin_pct)
        started = min(ln.local_time for ln in items)
        completed = max(ln.local_time for ln in items)
        doc = {
            "schema": "tillsight.tx/1" if cost is None else "tillsight.tx/2",
            "tx_id": import_tx_id(store_id, invoice),
            "seq": import_seq(invoice, cancel_prefix),
            "store_id": store_id, "device_id": device_id, "cashier_id": IMPORT_CASHIER,
            "started_at": utc_text(started, zone), "completed_at": utc_text(completed, zone),
            "status": "refunded" if refunded else "completed",
            "currency": currency, "lines": lines_doc,
            "subtotal": subtotal, "discount": 0, "tax": 0, "total": subtotal,
            "payment": None,  # the file says nothing about how the customer paid
            "customer_id": customer, "events": [], "anomaly": None,
            "receipt_no": invoice,
            "origin": origin,
        }
        out.append(Invoice(doc, tuple(ln.row for ln in items)))
    return out
