"""Versioned migrations, applied at start by every hub process.  Each step runs in one transaction
together with its ``schema_version`` row; concurrent starters are serialised (an advisory lock on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite).

Versions are applied by set difference (every listed step not yet recorded runs, in order), so
steps added on separate branches land cleanly.  Numbers by room: 1 ingest, 2 fleet, 3 hub web
(users, tenancy), 4 analytics results (segments, forecasts), 5 insights (LLM), 8 credit customers
and repayments, 9 the stores' galleries, 10 seq_gaps.closed_reason, 11 the
stores' product names (store_products), 12 costs (tx_lines.unit_cost, cost_assumed
and net_revenue, product_costs), 14 pricing (price_rails, price_changes), 16 languages, 17 collection
reminders (credit_contacts, credit_reminders), 19 stored pricing reports (pricing_reports), 20 closed alerts
(alerts.closed_at, closed_how); later steps take the next free number."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, inspect, select, text

from analytics.credit.sending.tables import REMINDER_TABLES
from analytics.db import ai_tables as ai
from analytics.db import analytics_tables as an
from analytics.db import assistant_tables as assistant
from analytics.db import credit_tables as credit
from analytics.db import fleet_tables as fleet
from analytics.db import narrative_tables as narrative
from analytics.db import tables as t
from analytics.db import web_tables as web
from analytics.gallery.tables import GALLERY_TABLES
from analytics.pricing.tables import PRICING_TABLES, REPORT_TABLES

log = logging.getLogger(__name__)

MIGRATION_LOCK_ID = 7_413_900_001


def _v1(conn: Connection) -> None:
    t.metadata.create_all(conn, tables=[t.devices, t.transactions, t.tx_lines, t.alerts, t.dead_letters,
                                        t.seq_gaps])


def _v2(conn: Connection) -> None:
    t.metadata.create_all(conn, tables=[t.stores, *fleet.FLEET_TABLES])


def _v3(conn: Connection) -> None:
    t.metadata.create_all(conn, tables=list(web.WEB_TABLES))


def _v4(conn: Connection) -> None:
    t.metadata.create_all(conn, tables=list(an.ANALYTICS_TABLES))


def _v5(conn: Connection) -> None:
    t.metadata.create_all(conn, tables=list(ai.AI_TABLES))


def _v6(conn: Connection) -> None:
    t.metadata.create_all(conn, tables=list(assistant.ASSISTANT_TABLES))


def _v7(conn: Connection) -> None:
    t.metadata.create_all(conn, tables=list(narrative.NARRATIVE_TABLES))


def _v8(conn: Connection) -> None:
    t.metadata.create_all(conn, tables=list(credit.CREDIT_TABLES))


def _v9(conn: Connection) -> None:
    t.metadata.create_all(conn, tables=list(GALLERY_TABLES))


def _v10(conn: Connection) -> None:
    """seq_gaps.closed_reason: a gap closed because its device cannot fill it (a new database has it)."""
    if "closed_reason" not in {c["name"] for c in inspect(conn).get_columns("seq_gaps")}:
        conn.execute(text("ALTER TABLE seq_gaps ADD COLUMN closed_reason TEXT"))


def _v11(conn: Connection) -> None:
    t.metadata.create_all(conn, tables=[t.store_products])


def _v12(conn: Connection) -> None:
    """Costs: each sale line's unit cost (and whether it was assumed), each product's current cost."""
    have = {c["name"] for c in inspect(conn).get_columns("tx_lines")}
    if "unit_cost" not in have:
        conn.execute(text("ALTER TABLE tx_lines ADD COLUMN unit_cost BIGINT"))
    if "cost_assumed" not in have:
        conn.execute(text("ALTER TABLE tx_lines ADD COLUMN cost_assumed BOOLEAN"))
    if "net_revenue" not in have:
        conn.execute(text("ALTER TABLE tx_lines ADD COLUMN net_revenue BIGINT"))
    t.metadata.create_all(conn, tables=[t.product_costs])


def _v14(conn: Connection) -> None:
    """Pricing: each store's guard rails and every pricing decision (analytics/pricing/tables.py)."""
    t.metadata.create_all(conn, tables=list(PRICING_TABLES))


def _v16(conn: Connection) -> None:
    """Languages (issue 28): a hub user's language (NULL: the store's) and a credit customer's (NULL: the
    store's), for the pages and for the messages to the customer."""
    for table in ("hub_users", "credit_customers"):
        if "language" not in {c["name"] for c in inspect(conn).get_columns(table)}:
            conn.execute(text(f"ALTER TABLE {table} ADD COLUMN language VARCHAR(16)"))


def _v17(conn: Connection) -> None:
    """Collection reminders: the customers' contact details and consent, and every reminder sent
    (analytics/credit/sending/tables.py)."""
    t.metadata.create_all(conn, tables=list(REMINDER_TABLES))


def _v19(conn: Connection) -> None:
    """Pricing: each store's newest computed pricing report, so the Pricing page reads it instead of
    computing it (analytics/pricing/stored.py)."""
    t.metadata.create_all(conn, tables=list(REPORT_TABLES))


def _v20(conn: Connection) -> None:
    """Alerts the store closed (tillsight.alert/2): when, and whether a person acknowledged it or its condition
    cleared (a new database has the columns)."""
    have = {c["name"] for c in inspect(conn).get_columns("alerts")}
    if "closed_at" not in have:
        conn.execute(text("ALTER TABLE alerts ADD COLUMN closed_at VARCHAR(32)"))
    if "closed_how" not in have:
        conn.execute(text("ALTER TABLE alerts ADD COLUMN closed_how VARCHAR(16)"))


MIGRATIONS: tuple[tuple[int, Callable[[Connection], None]], ...] = ((1, _v1), (2, _v2), (3, _v3), (4, _v4),
                                                                   (5, _v5),
                                                                   (6, _v6), (7, _v7), (8, _v8), (9, _v9),
                                                                   (10, _v10), (11, _v11), (12, _v12), (14, _v14),
                                                                   (16, _v16), (17, _v17), (19, _v19), (20, _v20))
SCHEMA_VERSION = max(version for version, _ in MIGRATIONS)


def migrate(engine: Engine) -> int:
    """Bring the database to ``SCHEMA_VERSION``; returns the version it was at."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_ID})
        t.schema_version.create(conn, checkfirst=True)
        applied = set(conn.execute(select(t.schema_version.c.version)).scalars())
        start = max(applied, default=0)
        for version, step in sorted(MIGRATIONS):
            if version not in applied:
                step(conn)
                conn.execute(insert(t.schema_version).values(
                    version=version, applied_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
                log.info("hub database migrated to v%d", version)
    return int(start)
