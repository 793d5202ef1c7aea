"""Versioned schema migrations of the device store (``PRAGMA user_version`` holds the version).

Each migration runs in its own transaction together with the version bump, so a start-up killed
mid-migration leaves the previous version intact.  Never edit a released migration: append one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from contracts.margins import line_revenue

Migration = Callable[[sqlite3.Connection], None]

_V1 = """
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE products (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    price INTEGER NOT NULL CHECK (price >= 0),
    barcode TEXT UNIQUE,
    category TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1,
    stock_qty INTEGER NOT NULL DEFAULT 0,
    reorder_level INTEGER NOT NULL DEFAULT 0 CHECK (reorder_level >= 0),
    updated_at TEXT NOT NULL
);
CREATE TABLE stock_movements (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL REFERENCES products(sku),
    delta INTEGER NOT NULL,
    reason TEXT NOT NULL,
    tx_id TEXT,
    user_id TEXT,
    note TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
CREATE INDEX stock_movements_sku ON stock_movements(sku, at);
CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    credit_limit INTEGER NOT NULL DEFAULT 0 CHECK (credit_limit >= 0),
    balance INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('cashier', 'supervisor', 'owner')),
    pin_hash TEXT,
    password_hash TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE shifts (
    id INTEGER PRIMARY KEY,
    cashier_id TEXT NOT NULL REFERENCES users(id),
    opened_at TEXT NOT NULL,
    opening_float INTEGER NOT NULL CHECK (opening_float >= 0),
    closed_at TEXT,
    counted_cash INTEGER,
    expected_cash INTEGER,
    report TEXT
);
CREATE INDEX shifts_cashier ON shifts(cashier_id, opened_at);
CREATE TABLE sales (
    tx_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    receipt_no TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('completed', 'voided', 'refunded')),
    cashier_id TEXT NOT NULL,
    shift_id INTEGER,
    customer_id TEXT,
    refund_of TEXT,
    started_at TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    subtotal INTEGER NOT NULL,
    discount INTEGER NOT NULL,
    tax INTEGER NOT NULL,
    total INTEGER NOT NULL,
    payment_method TEXT,
    anomaly_score REAL,
    payload TEXT NOT NULL
);
CREATE INDEX sales_completed ON sales(completed_at);
CREATE INDEX sales_cashier ON sales(cashier_id, completed_at);
CREATE TABLE sale_lines (
    id INTEGER PRIMARY KEY,
    tx_id TEXT NOT NULL REFERENCES sales(tx_id),
    line_no INTEGER NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    qty INTEGER NOT NULL,
    unit_price INTEGER NOT NULL,
    line_total INTEGER NOT NULL,
    source TEXT NOT NULL,
    confidence REAL
);
CREATE INDEX sale_lines_tx ON sale_lines(tx_id);
CREATE INDEX sale_lines_sku ON sale_lines(sku);
CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    tx_id TEXT NOT NULL REFERENCES sales(tx_id),
    method TEXT NOT NULL,
    amount INTEGER NOT NULL,
    tendered INTEGER NOT NULL,
    change INTEGER NOT NULL,
    customer_id TEXT
);
CREATE INDEX payments_tx ON payments(tx_id);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    tx_id TEXT,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    user_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_tx ON events(tx_id);
CREATE INDEX events_type ON events(type, at);
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    tx_id TEXT,
    kind TEXT NOT NULL,
    score REAL NOT NULL,
    reasons TEXT NOT NULL,
    created_at TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by TEXT
);
CREATE INDEX alerts_created ON alerts(created_at);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at TEXT,
    UNIQUE (kind, key)
);
CREATE INDEX outbox_pending ON outbox(sent_at, id);
"""


def _v1(conn: sqlite3.Connection) -> None:
    for statement in _V1.split(";"):
        if statement.strip():
            conn.execute(statement)


_V2 = """
ALTER TABLE products ADD COLUMN cost INTEGER CHECK (cost IS NULL OR cost >= 0);
CREATE TABLE suppliers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    contact TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX suppliers_name ON suppliers(lower(name));
CREATE TABLE product_suppliers (
    sku TEXT NOT NULL REFERENCES products(sku),
    supplier_id INTEGER NOT NULL REFERENCES suppliers(id),
    lead_time_days INTEGER NOT NULL CHECK (lead_time_days >= 0),
    PRIMARY KEY (sku, supplier_id)
);
CREATE TABLE stock_receipts (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL REFERENCES products(sku),
    qty INTEGER NOT NULL CHECK (qty > 0),
    unit_cost INTEGER CHECK (unit_cost IS NULL OR unit_cost >= 0),
    supplier_id INTEGER REFERENCES suppliers(id),
    cost_before INTEGER,
    cost_after INTEGER,
    user_id TEXT,
    note TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
CREATE INDEX stock_receipts_sku ON stock_receipts(sku, at);
CREATE INDEX stock_receipts_supplier ON stock_receipts(supplier_id, at);
CREATE TABLE cost_changes (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL REFERENCES products(sku),
    old_cost INTEGER,
    new_cost INTEGER,
    reason TEXT NOT NULL CHECK (reason IN ('receiving', 'manual', 'import')),
    receipt_id INTEGER REFERENCES stock_receipts(id),
    user_id TEXT,
    note TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
CREATE INDEX cost_changes_sku ON cost_changes(sku, at);
ALTER TABLE sale_lines ADD COLUMN unit_cost INTEGER;
ALTER TABLE sale_lines ADD COLUMN revenue INTEGER NOT NULL DEFAULT 0
"""


def _v2(conn: sqlite3.Connection) -> None:
    """Costs and margins: the product's weighted average cost, suppliers with lead times per product, stock
    receipts with their unit cost, the history of cost changes, and per sale line its unit cost (None for
    sales made before costs) and its revenue net of discount and tax (``contracts.margins.line_revenue``)."""
    for statement in _V2.split(";"):
        if statement.strip():
            conn.execute(statement)
    rows = conn.execute("SELECT l.id, l.line_total, s.subtotal, s.total, s.tax FROM sale_lines l"
                        " JOIN sales s ON s.tx_id = l.tx_id").fetchall()
    conn.executemany("UPDATE sale_lines SET revenue = ? WHERE id = ?",
                     [(line_revenue(r[1], r[2], r[3], r[4]), r[0]) for r in rows])


MIGRATIONS: tuple[Migration, ...] = (_v1, _v2)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to ``SCHEMA_VERSION``; returns the version it started from."""
    start = conn.execute("PRAGMA user_version").fetchone()[0]
    if start > SCHEMA_VERSION:
        raise RuntimeError(f"database schema v{start} is newer than this software (v{SCHEMA_VERSION})")
    for version in range(start + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version - 1](conn)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return start
