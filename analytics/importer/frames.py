"""A sales-line file straight into the analytics frames, without a database: what the backtest and
the benchmark read.  The same reader and invoice rules as ``hub import``, so the figures describe
the data the hub would store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analytics.importer.invoices import build_invoices
from analytics.importer.layouts import resolve_layout
from analytics.importer.reader import ReadReport, read_lines
from analytics.jobs.data import StoreData, StoreInfo, frames
from analytics.jobs.settings import parse_settings

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "online_retail_2010-12_2011-08.csv.gz"


def load_file_frames(path: str | Path, store_id: str = "file", layout: str | None = None,
                     mapping_file: str | Path | None = None, timezone_name: str | None = None,
                     currency: str | None = None) -> tuple[StoreData, ReadReport]:
    name, mapping = resolve_layout(layout, mapping_file)
    tz = timezone_name or mapping.store_timezone or "UTC"
    cur = currency or mapping.store_currency or "XXX"
    report = ReadReport()
    invoices = build_invoices(read_lines(path, mapping, cur, report), store_id=store_id, device_id="import",
                              currency=cur, timezone_name=tz, layout=name, cancel_prefix=mapping.cancel_prefix)
    docs = [inv.doc for inv in invoices]
    sales = pd.DataFrame({"tx_id": [d["tx_id"] for d in docs], "status": [d["status"] for d in docs],
                          "completed_at": [d["completed_at"] for d in docs], "total": [d["total"] for d in docs],
                          "customer_id": [d["customer_id"] for d in docs], "payment": [None] * len(docs)})
    lines = pd.DataFrame([(d["tx_id"], ln["sku"], ln["name"], ln["qty"], ln["line_total"])
                          for d in docs for ln in d["lines"]], columns=["tx_id", "sku", "name", "qty", "line_total"])
    info = StoreInfo(store_id, store_id, tz, cur, parse_settings(mapping.store_settings, store_id))
    return frames(info, sales, lines), report
