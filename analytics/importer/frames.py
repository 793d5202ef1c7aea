"""A sales-line file straight into the analytics frames, without a database: what the backtest and
the benchmark read.  The same reader and invoice rules as ``hub import``, so the figures describe
the data the hub would store."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from analytics.importer.invoices import build_invoices
from analytics.importer.layouts import resolve_layout
from analytics.importer.reader import ReadReport, read_lines
from analytics.jobs.data import StoreData, StoreInfo, frames
from analytics.jobs.settings import parse_settings

REPO = Path(__file__).resolve().parents[2]
RETAIL_DATA_NAME = "online_retail_2010-12_2011-08.csv.gz"
RETAIL_DATA_ENV = "TILLSIGHT_RETAIL_DATA"  # a file, or a folder holding RETAIL_DATA_NAME


def retail_data_candidates(env: Mapping[str, str] | None = None) -> list[Path]:
    """Where the shared retail data may be, in the order searched: ``$TILLSIGHT_RETAIL_DATA``, the
    ``shared/data`` folder beside the repository (the usual checkout), then ``/work/shared/data``
    (for a clone elsewhere, e.g. by CI, on the development machine)."""
    env = os.environ if env is None else env
    out = []
    given = env.get(RETAIL_DATA_ENV)
    if given:
        path = Path(given).expanduser()
        out.append(path / RETAIL_DATA_NAME if path.is_dir() else path)
    out += [REPO.parent / "shared" / "data" / RETAIL_DATA_NAME, Path("/work/shared/data") / RETAIL_DATA_NAME]
    return out


def locate_retail_data(env: Mapping[str, str] | None = None) -> Path | None:
    """The first candidate that exists (see :func:`retail_data_candidates`), or None."""
    return next((p for p in retail_data_candidates(env) if p.is_file()), None)


# the default ``--data`` of ``hub backtest`` and ``bench hub``: the file found, else the first place
# searched (so an error names it)
DEFAULT_DATA = locate_retail_data() or retail_data_candidates()[0]


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
