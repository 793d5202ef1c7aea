"""A table as CSV or Excel (.xlsx) bytes for the owner's downloads: one header row, one row per record.

Money columns hold major units as decimals (``175.50``; the header names the currency) so a spreadsheet
adds them up as they are; times are store-local text.  Text a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is written as text: in CSV with a
leading apostrophe, in Excel as a string cell.  (The hub's exports, ``analytics.web.exports``, keep minor
units for machines; the device cannot import the hub, and its downloads are for people.)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from contracts.money import exponent

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")


def major(minor: int | None, currency: str) -> Decimal | None:
    """``17550`` DOP -> ``Decimal("175.50")``; None stays None (an empty cell)."""
    if minor is None:
        return None
    return Decimal(minor).scaleb(-exponent(currency))


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v
                         for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def xlsx_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title="".join(ch for ch in title if ch not in "[]:*?/\\")[:31] or "table")
    ws.append(list(header))
    for row in rows:
        cells: list[Any] = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(ws, value=None)
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell.data_type = "s"  # never a formula
                cells.append(cell)
            elif isinstance(value, Decimal):
                cells.append(float(value))  # Excel numbers are doubles; two decimals survive
            else:
                cells.append(value)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
