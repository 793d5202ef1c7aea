"""Store imported sales: the ingest's idempotent rule (a ``tx_id`` already stored is ignored), in
batches of many sales per statement so a 400,000-line file loads in seconds on SQLite and
PostgreSQL alike.  Lines are written only for sales that were new, in the same transaction.

Imported sales skip the ingest's device bookkeeping on purpose: they carry invoice numbers as
``seq``, not a device counter, so sequence gaps would be meaningless, and the import "device" is
not a till the hub should publish to.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Insert, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from analytics.db import tables as t
from analytics.ingest import costs
from analytics.ingest.store import insert_ignore
from analytics.jobs.settings import parse_settings

log = logging.getLogger(__name__)


class StoreMismatch(ValueError):
    """The file's store settings contradict the store the hub already has."""


@dataclass(frozen=True)
class StoreSpec:
    store_id: str
    name: str
    timezone: str
    currency: str
    settings: dict[str, Any]


def ensure_store(conn: Connection, spec: StoreSpec, now: str, timezone_given: bool, currency_given: bool) -> StoreSpec:
    """Create the store if new; an existing store keeps its settings, and its currency and time zone
    must agree with what the caller asked for (else amounts or times would be misread)."""
    parse_settings(spec.settings, spec.store_id)
    insert_ignore(conn, t.stores, {"store_id": spec.store_id, "name": spec.name, "timezone": spec.timezone,
                                   "currency": spec.currency, "settings": spec.settings, "created_at": now,
                                   "updated_at": now})
    row = conn.execute(select(t.stores).where(t.stores.c.store_id == spec.store_id)).mappings().one()
    if row["currency"] != spec.currency and currency_given:
        raise StoreMismatch(f"store {spec.store_id} keeps its books in {row['currency']}, not {spec.currency}")
    if row["timezone"] != spec.timezone and timezone_given:
        raise StoreMismatch(f"store {spec.store_id} is in time zone {row['timezone']}, not {spec.timezone}")
    return StoreSpec(spec.store_id, row["name"], row["timezone"], row["currency"], dict(row["settings"] or {}))


def store_row(conn: Connection, store_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(t.stores).where(t.stores.c.store_id == store_id)).mappings().first()
    return dict(row) if row else None


def _insert_new(conn: Connection, rows: Sequence[dict[str, Any]]) -> set[str]:
    dialect = conn.dialect.name
    stmt: Insert
    if dialect == "postgresql":
        stmt = postgresql.insert(t.transactions).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(t.transactions).on_conflict_do_nothing()
    else:
        raise RuntimeError(f"unsupported hub database dialect {dialect!r}")
    return set(conn.execute(stmt.returning(t.transactions.c.tx_id), list(rows)).scalars())


def write_sales(engine: Engine, docs: Sequence[dict[str, Any]], now: str, batch: int = 1000) -> tuple[int, int]:
    """Store ``docs`` (validated ``tillsight.tx/1`` or ``/2``), with their lines' costs and the products'
    current costs (``analytics.ingest.costs``); returns (stored, already there)."""
    stored = 0
    for start in range(0, len(docs), batch):
        chunk = docs[start:start + batch]
        rows = [{"tx_id": d["tx_id"], "store_id": d["store_id"], "device_id": d["device_id"], "seq": d["seq"],
                 "status": d["status"], "cashier_id": d["cashier_id"], "currency": d["currency"],
                 "completed_at": d["completed_at"], "total": d["total"], "customer_id": d.get("customer_id"),
                 "anomaly_score": None, "payload": d, "received_at": now} for d in chunk]
        with engine.begin() as conn:
            new = _insert_new(conn, rows)
            lines = [{"tx_id": d["tx_id"], "line_no": i + 1, "store_id": d["store_id"], "sku": ln["sku"],
                      "name": ln["name"], "qty": ln["qty"], "unit_price": ln["unit_price"],
                      "line_total": ln["line_total"], "source": ln.get("source"),
                      **costs.line_columns(d, ln)}
                     for d in chunk if d["tx_id"] in new for i, ln in enumerate(d["lines"])]
            if lines:
                conn.execute(insert(t.tx_lines), lines)
                costs.remember(conn, [d for d in chunk if d["tx_id"] in new], now)
        stored += len(new)
    return stored, len(docs) - stored
