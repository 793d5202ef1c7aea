"""``tillsight hub import``: a sales-line CSV into the hub database as ``tillsight.tx/1`` sales of
one store, with a report of what was stored, what was already there and every row left out."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine

from analytics.db import migrate
from analytics.importer.invoices import build_invoices
from analytics.importer.layouts import ColumnMapping, LayoutError, resolve_layout
from analytics.importer.reader import ReadReport, read_lines
from analytics.importer.writer import StoreSpec, ensure_store, store_row, write_sales
from analytics.ingest.contracts import check
from contracts import ContractError

log = logging.getLogger(__name__)

_IDENT = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


@dataclass
class ImportReport:
    file: str
    layout: str
    store_id: str
    rows: int = 0  # data rows read
    lines_used: int = 0  # rows that became sale lines
    bad_rows: int = 0
    bad_reasons: dict[str, int] = field(default_factory=dict)
    bad_examples: list[str] = field(default_factory=list)
    rounded_prices: int = 0
    sales: int = 0  # invoices in the file (completed sales + refunds)
    refunds: int = 0
    anonymous_sales: int = 0
    customers: int = 0
    stored: int = 0  # new in the database
    already_there: int = 0  # duplicates of an earlier import: left as they were
    first_sale: str | None = None
    last_sale: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def import_file(engine: Engine, path: str | Path, *, store_id: str, store_name: str | None = None,
                timezone_name: str | None = None, currency: str | None = None, layout: str | None = None,
                mapping_file: str | Path | None = None, mapping: ColumnMapping | None = None,
                device_id: str = "import") -> ImportReport:
    """Import ``path`` into ``store_id``; idempotent (see ``invoices.import_tx_id``)."""
    started = time.perf_counter()
    if not _IDENT.match(store_id):
        raise LayoutError(f"store id {store_id!r}: 1-32 lower-case letters, digits and '-'")
    if not _IDENT.match(device_id):
        raise LayoutError(f"device id {device_id!r}: 1-32 lower-case letters, digits and '-'")
    if mapping is not None:
        layout_name = "mapping"
    else:
        layout_name, mapping = resolve_layout(layout, mapping_file)
    migrate(engine)
    with engine.connect() as conn:
        existing = store_row(conn, store_id)
    tz = timezone_name or (existing or {}).get("timezone") or mapping.store_timezone or "UTC"
    cur = currency or (existing or {}).get("currency") or mapping.store_currency
    if not cur:
        raise LayoutError("the currency of the amounts is unknown: pass --currency (e.g. GBP)")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise LayoutError(f"unknown time zone {tz!r} (use an IANA name such as 'Europe/London')") from None
    now = _now()
    spec = StoreSpec(store_id, store_name or (existing or {}).get("name") or store_id, tz, cur,
                     dict(mapping.store_settings))
    with engine.begin() as conn:
        spec = ensure_store(conn, spec, now, timezone_given=timezone_name is not None,
                            currency_given=currency is not None)

    report = ImportReport(file=str(path), layout=layout_name, store_id=store_id)
    read = ReadReport()
    lines = list(read_lines(path, mapping, spec.currency, read))
    invoices = build_invoices(lines, store_id=store_id, device_id=device_id, currency=spec.currency,
                              timezone_name=spec.timezone, layout=layout_name, cancel_prefix=mapping.cancel_prefix)
    docs = []
    for inv in invoices:
        try:
            check("tillsight.tx/1", inv.doc)  # the ingest's contract check: compiled, same verdicts
        except ContractError as exc:
            for row in inv.rows:
                read.reject(row, f"sale breaks the tx/1 contract ({exc})")
            continue
        docs.append(inv.doc)
    report.stored, report.already_there = write_sales(engine, docs, now)
    if report.stored and engine.dialect.name == "postgresql":
        with engine.begin() as conn:  # fresh statistics for the jobs that read these tables next
            conn.exec_driver_sql("ANALYZE transactions, tx_lines")

    report.rows, report.bad_rows = read.rows, read.bad_rows
    report.lines_used = sum(len(d["lines"]) for d in docs)
    report.bad_reasons = dict(read.bad.most_common())
    report.bad_examples = list(read.examples)
    report.rounded_prices = read.rounded_prices
    report.sales = len(docs)
    report.refunds = sum(1 for d in docs if d["status"] == "refunded")
    report.anonymous_sales = sum(1 for d in docs if d["customer_id"] is None)
    report.customers = len({d["customer_id"] for d in docs if d["customer_id"]})
    if docs:
        report.first_sale = min(d["completed_at"] for d in docs)
        report.last_sale = max(d["completed_at"] for d in docs)
    report.seconds = round(time.perf_counter() - started, 2)
    log.info("imported %s into %s: %d rows, %d sales (%d new, %d already there), %d bad rows", path, store_id,
             report.rows, report.sales, report.stored, report.already_there, report.bad_rows)
    return report
