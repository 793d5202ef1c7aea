"""``tillsight hub import``: a sales-line CSV into the hub database as sales of one store, with a
report of what was stored, what was already there and every row left out.

Shared retailer data says nothing of costs, so costs are optional: a cost column (the layout's
``unit_cost`` or ``cost_column``) or a default margin (``default_margin_pct``: each line's cost is its
price less that margin, an *assumed* cost).  Without either the sales are ``tillsight.tx/1``; with
one, ``tillsight.tx/2`` (``analytics.importer.invoices``)."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine

from analytics.db import migrate
from analytics.importer.invoices import COST_COLUMN, DEFAULT_MARGIN, build_invoices
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
    costs: str | None = None  # None, "column" (the file's cost column) or "default_margin" (assumed)
    default_margin_pct: str | None = None  # the margin assumed costs leave, in per cent
    lines_with_cost: int = 0
    costs_missing: int = 0  # lines of the cost column whose cell was blank, not a number or negative
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


def _margin(value: str | float | Decimal | None) -> Decimal | None:
    """A default margin in per cent (``35``, ``"35%"``, ``"12.5"``), or None; 0 <= margin < 100."""
    if value is None:
        return None
    try:
        pct = Decimal(str(value).strip().removesuffix("%").strip())
    except InvalidOperation:
        raise LayoutError(f"default margin {value!r}: a percentage such as 35 or 12.5") from None
    if not pct.is_finite() or not 0 <= pct < 100:
        raise LayoutError(f"default margin {value!r}: from 0 to under 100 per cent")
    return pct


def import_file(engine: Engine, path: str | Path, *, store_id: str, store_name: str | None = None,
                timezone_name: str | None = None, currency: str | None = None, layout: str | None = None,
                mapping_file: str | Path | None = None, mapping: ColumnMapping | None = None,
                device_id: str = "import", cost_column: str | None = None,
                default_margin_pct: str | float | Decimal | None = None) -> ImportReport:
    """Import ``path`` into ``store_id``; idempotent (see ``invoices.import_tx_id``).  ``cost_column``
    names the file's cost column (over the layout's ``unit_cost``); ``default_margin_pct`` (0 to under
    100) makes up every line's cost from its price instead, marked assumed.  Not both."""
    started = time.perf_counter()
    if not _IDENT.match(store_id):
        raise LayoutError(f"store id {store_id!r}: 1-32 lower-case letters, digits and '-'")
    if not _IDENT.match(device_id):
        raise LayoutError(f"device id {device_id!r}: 1-32 lower-case letters, digits and '-'")
    if mapping is not None:
        layout_name = "mapping"
    else:
        layout_name, mapping = resolve_layout(layout, mapping_file)
    if cost_column is not None:
        if not cost_column.strip():
            raise LayoutError("cost column: give the name of the column that holds unit costs")
        mapping = mapping.model_copy(update={"unit_cost": cost_column.strip()})
    margin = _margin(default_margin_pct)
    if margin is not None and mapping.unit_cost:
        raise LayoutError(f"default margin: the file has a cost column ({mapping.unit_cost!r}); give one or the"
                          " other, not both")
    cost_mode = COST_COLUMN if mapping.unit_cost else DEFAULT_MARGIN if margin is not None else None
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
                              timezone_name=spec.timezone, layout=layout_name, cancel_prefix=mapping.cancel_prefix,
                              cost=cost_mode, default_margin_pct=margin)
    docs = []
    for inv in invoices:
        try:
            check(inv.doc["schema"], inv.doc)  # the ingest's contract check: compiled, same verdicts
        except ContractError as exc:
            for row in inv.rows:
                read.reject(row, f"sale breaks the {inv.doc['schema'].removeprefix('tillsight.')} contract ({exc})")
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
    report.costs = cost_mode
    report.default_margin_pct = str(margin) if margin is not None else None
    report.lines_with_cost = sum(1 for d in docs for ln in d["lines"] if ln.get("unit_cost") is not None)
    report.costs_missing = read.costs_missing
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
