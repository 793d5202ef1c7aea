"""A table as CSV or Excel (.xlsx) bytes: one header row of column keys, one row per record.

Text that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return) is written as text: in CSV with a leading apostrophe, in Excel as a string cell.
Money stays integer minor units, times stay ISO-8601 UTC text, exactly as the JSON API gives them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return value


def csv_bytes(keys: Sequence[str], records: Sequence[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(keys)
    for rec in records:
        row = []
        for key in keys:
            value = _plain(rec.get(key))
            if value is None:
                value = ""
            elif isinstance(value, bool):
                value = "true" if value else "false"
            elif isinstance(value, str) and value.startswith(FORMULA_START):
                value = "'" + value
            row.append(value)
        writer.writerow(row)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def xlsx_bytes(keys: Sequence[str], records: Sequence[dict[str, Any]], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_title(title))
    ws.append(list(keys))
    for rec in records:
        cells = []
        for key in keys:
            value = _plain(rec.get(key))
            if isinstance(value, str):
                cell = WriteOnlyCell(ws, value=None)
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell.data_type = "s"  # never a formula
                cells.append(cell)
            else:
                cells.append(value)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sheet_title(title: str) -> str:
    clean = "".join(ch for ch in title if ch not in '[]:*?/\\').strip() or "table"
    return clean[:31]
