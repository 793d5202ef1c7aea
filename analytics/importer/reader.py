"""Read a sales-line CSV (plain or gzip) into typed lines, counting every row it cannot use and why.
Pure parsing: no database."""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from analytics.importer.layouts import ColumnMapping, LayoutError
from contracts.money import decimal_to_minor

QTY_LIMIT = 9999  # tillsight.tx/1 allows |qty| <= 9999 per line
MAX_EXAMPLES = 20
_INT_RE = re.compile(r"^[+-]?\d+$")
_CUSTOMER_FLOAT_RE = re.compile(r"^(\d+)\.0+$")  # pandas wrote "17850.0" for a numeric id


@dataclass(frozen=True, slots=True)
class SaleLine:
    row: int  # 1-based data row (the header is row 0)
    invoice: str
    cancelled: bool
    sku: str
    name: str
    qty: int
    unit_price: int  # minor units
    local_time: datetime  # naive, store-local
    customer: str | None
    country: str | None
    unit_cost: int | None = None  # minor units, from the layout's cost column; None: none or unreadable


@dataclass
class ReadReport:
    rows: int = 0
    used: int = 0
    bad: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # "row 17: reason"
    rounded_prices: int = 0  # prices with more decimals than the currency (rounded half up)
    costs_missing: int = 0  # lines whose cost cell was blank, not a number or negative (cost unknown)

    def reject(self, row: int, reason: str) -> None:
        self.bad[reason] += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"row {row}: {reason}")

    @property
    def bad_rows(self) -> int:
        return sum(self.bad.values())


def open_text(path: Path, encoding: str) -> io.TextIOBase:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding=encoding, newline="")
    return open(path, encoding=encoding, newline="")


def _parse_time(text: str, fmt: str | None) -> datetime:
    text = text.strip()
    # store-local wall-clock times by contract (the caller attaches the store's zone), so naive on purpose
    value = datetime.strptime(text, fmt) if fmt else datetime.fromisoformat(text)  # noqa: DTZ007
    if value.tzinfo is not None:
        raise ValueError("timestamps must be store-local without a zone")
    return value


def _customer(text: str | None) -> str | None:
    if text is None:
        return None
    value = text.strip()
    if not value or value.lower() in ("nan", "null", "none"):
        return None
    m = _CUSTOMER_FLOAT_RE.match(value)
    return m.group(1) if m else value


def read_lines(path: str | Path, mapping: ColumnMapping, currency: str, report: ReadReport) -> Iterator[SaleLine]:
    """Yield the usable lines of ``path``; every other row is counted in ``report`` with its reason."""
    p = Path(path)
    try:
        handle = open_text(p, mapping.encoding)
    except OSError as exc:
        raise LayoutError(f"cannot open {p}: {exc}") from None
    with handle:
        reader = csv.reader(handle, delimiter=mapping.delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise LayoutError(f"{p} is empty") from None
        except (UnicodeDecodeError, csv.Error) as exc:
            raise LayoutError(f"{p}: cannot read the header: {exc}") from None
        header = [h.strip().lstrip("\ufeff") for h in header]
        index = {name: i for i, name in enumerate(header)}
        missing = [c for c in mapping.columns() if c not in index]
        if missing:
            raise LayoutError(f"{p}: columns {missing} named by the layout are not in the header {header}")
        col = {key: index[getattr(mapping, key)] for key in
               ("invoice", "sku", "description", "quantity", "timestamp", "unit_price", "unit_cost", "customer",
                "country")
               if getattr(mapping, key)}
        width = len(header)
        row_no = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except (UnicodeDecodeError, csv.Error) as exc:
                row_no += 1
                report.rows += 1
                report.reject(row_no, f"unreadable row ({type(exc).__name__})")
                continue
            row_no += 1
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # blank line: not a row
            report.rows += 1
            if len(cells) != width:
                report.reject(row_no, f"has {len(cells)} fields, the header has {width}")
                continue
            line = _line(row_no, cells, col, mapping, currency, report)
            if line is not None:
                report.used += 1
                yield line


def _line(row: int, cells: list[str], col: dict[str, int], m: ColumnMapping, currency: str,
          report: ReadReport) -> SaleLine | None:
    invoice = cells[col["invoice"]].strip()
    if not invoice:
        report.reject(row, "blank invoice number")
        return None
    sku = cells[col["sku"]].strip()
    if not sku:
        report.reject(row, "blank SKU")
        return None
    if len(sku) > 64:
        report.reject(row, "SKU longer than 64 characters")
        return None
    qty_text = cells[col["quantity"]].strip()
    if not _INT_RE.match(qty_text):
        report.reject(row, "quantity is not a whole number")
        return None
    qty = int(qty_text)
    if qty == 0:
        report.reject(row, "zero quantity")
        return None
    if abs(qty) > QTY_LIMIT:
        report.reject(row, f"quantity beyond the tx/1 limit of {QTY_LIMIT}")
        return None
    cancelled = bool(m.cancel_prefix) and invoice.startswith(m.cancel_prefix or "")
    if cancelled and qty > 0:
        report.reject(row, "positive quantity on a cancellation")
        return None
    if not cancelled and qty < 0 and m.negative_qty_is_adjustment:
        report.reject(row, "negative quantity outside a cancellation (stock adjustment, not a sale)")
        return None
    try:
        local_time = _parse_time(cells[col["timestamp"]], m.timestamp_format)
    except ValueError:
        report.reject(row, "timestamp not readable")
        return None
    try:
        price, exact = decimal_to_minor(cells[col["unit_price"]], currency, m.decimal_separator)
    except ValueError:
        report.reject(row, "unit price not a number")
        return None
    if price < 0 or cells[col["unit_price"]].strip().startswith("-"):
        report.reject(row, "negative unit price (an accounting adjustment, not a sale)")
        return None
    if price == 0 and not exact:
        report.reject(row, "unit price below one minor unit")
        return None
    if price == 0 and m.skip_zero_price:
        report.reject(row, "zero unit price (stock adjustment or free item, not a sale)")
        return None
    if not exact:
        report.rounded_prices += 1
    name = " ".join(cells[col["description"]].split()) if "description" in col else ""
    customer = _customer(cells[col["customer"]]) if "customer" in col else None
    if customer is not None and len(customer) > 64:
        report.reject(row, "customer id longer than 64 characters")
        return None
    country = cells[col["country"]].strip() or None if "country" in col else None
    unit_cost = _cost(cells[col["unit_cost"]], currency, m, report) if "unit_cost" in col else None
    return SaleLine(row=row, invoice=invoice, cancelled=cancelled, sku=sku, name=(name or sku)[:200], qty=qty,
                    unit_price=price, local_time=local_time, customer=customer, country=country, unit_cost=unit_cost)


def _cost(text: str, currency: str, m: ColumnMapping, report: ReadReport) -> int | None:
    """A cost cell in minor units (rounded half up), or None (counted) when blank, not a number or negative."""
    try:
        cost, _ = decimal_to_minor(text, currency, m.decimal_separator) if text.strip() else (-1, True)
    except ValueError:
        cost = -1
    if cost < 0 or text.strip().startswith("-"):
        report.costs_missing += 1
        return None
    return cost
