"""The store's multi-buy and bundle offers, as the hub last sent them (``tillsight.prices/2``).

The fleet agent (``edge/fleet/prices.py``) is the only writer: each signed price list carries the
store's whole set of offers, and :meth:`Promotions.replace` swaps the stored set for it in one
transaction (an offer the hub no longer sends ends there).  The checkout reads the offers in force at
the moment it prices a basket (:meth:`Promotions.in_force`); the pricing rule itself is
``edge/checkout/promotions.py``.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from contracts.prices import Promotion
from contracts.timestamps import format_utc
from edge.store.database import StoreDB

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS promotions (
    promotion_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                  -- multibuy | bundle
    name TEXT NOT NULL,
    items TEXT NOT NULL,                 -- JSON [{"sku": ..., "qty": ...}]
    price INTEGER NOT NULL,              -- minor units for one use of the offer
    starts_at TEXT NOT NULL,             -- UTC, ...Z (sorts as time)
    ends_at TEXT,                        -- UTC; NULL: open-ended
    approved_by TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    fleet_version INTEGER NOT NULL,
    deployment_id TEXT NOT NULL,
    received_at TEXT NOT NULL
);
"""


class Promotions:
    """The offers table of the store database."""

    def __init__(self, db: StoreDB) -> None:
        self.db = db
        self.db.conn.executescript(SCHEMA)

    def replace(self, offers: tuple[Promotion, ...], version: int, deployment_id: str, now: datetime) -> int:
        """Make ``offers`` the store's whole set (one transaction); returns how many ended."""
        stamp = format_utc(now)
        keep = {p.promotion_id for p in offers}
        with self.db.transaction() as conn:
            before = {str(r[0]) for r in conn.execute("SELECT promotion_id FROM promotions").fetchall()}
            ended = before - keep
            conn.executemany("DELETE FROM promotions WHERE promotion_id = ?", [(pid,) for pid in sorted(ended)])
            for p in offers:
                conn.execute(
                    "INSERT INTO promotions (promotion_id, kind, name, items, price, starts_at, ends_at, approved_by,"
                    " approved_at, fleet_version, deployment_id, received_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(promotion_id) DO UPDATE SET kind = excluded.kind, name = excluded.name,"
                    " items = excluded.items, price = excluded.price, starts_at = excluded.starts_at,"
                    " ends_at = excluded.ends_at, fleet_version = excluded.fleet_version,"
                    " deployment_id = excluded.deployment_id",
                    (p.promotion_id, p.kind, p.name, json.dumps([{"sku": i.sku, "qty": i.qty} for i in p.items]),
                     p.price, p.starts_at, p.ends_at, p.approved_by, p.approved_at, version, deployment_id, stamp))
        if ended:
            log.info("%d offer(s) ended: no longer in the hub's price list", len(ended))
        return len(ended)

    def all(self) -> list[Promotion]:
        rows = self.db.query("SELECT * FROM promotions ORDER BY starts_at, promotion_id")
        return [Promotion.from_dict({**r, "items": json.loads(str(r["items"]))}) for r in rows]

    def in_force(self, at: datetime) -> list[Promotion]:
        """The offers a sale at ``at`` gets (started, not ended)."""
        stamp = format_utc(at)
        rows = self.db.query("SELECT * FROM promotions WHERE starts_at <= ? AND (ends_at IS NULL OR ends_at > ?)"
                             " ORDER BY starts_at, promotion_id", (stamp, stamp))
        return [Promotion.from_dict({**r, "items": json.loads(str(r["items"]))}) for r in rows]
