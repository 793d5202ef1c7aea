"""Price changes and offers the hub pushed (``tillsight.prices/2`` or ``/1``, a signed ``prices`` fleet
update), kept in the store database until their time and then applied to the products the till sells.

The fleet agent (``edge/fleet/agent.py``) hands each verified price list to :meth:`PriceSchedule.schedule`
and calls :meth:`PriceSchedule.apply_due` with its clock on every turn of its loop; the till reads
``products.price`` as always, so it charges the new price from the first sale after the change's
``effective_at``.  Each change is applied once (by ``change_id``): a list that repeats changes
already applied, or a rollback to an older list, never puts an old price back.  A change for a SKU
this till does not sell is recorded and skipped.  A basket already on the counter keeps the prices
its lines were added at.

A change the list names as **withdrawn** (a fleet rollback of the deployment that carried it) is never
applied if it is still due; one already applied is undone — the product goes back to the price it had
before the change — unless a later change or a person set the price since (then the newer price
stays).  The list's **offers** (multi-buy, bundle) replace the store's set (``edge/store/promotions.py``);
the checkout prices them from their start time.

The table lives in the store's own SQLite file (one atomic transaction per change set), created
here because the fleet agent is its only writer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from contracts.prices import PriceList
from contracts.timestamps import format_utc
from edge.store.database import StoreDB
from edge.store.promotions import Promotions

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS price_schedule (
    change_id TEXT PRIMARY KEY,
    sku TEXT NOT NULL,
    price INTEGER NOT NULL,
    previous_price INTEGER NOT NULL,
    effective_at TEXT NOT NULL,          -- UTC, ...Z (sorts as time)
    approved_by TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    fleet_version INTEGER NOT NULL,
    deployment_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    applied_at TEXT,                     -- UTC when the till's price changed; NULL: still to come
    outcome TEXT,                        -- applied | unknown_sku | withdrawn | reverted | kept
    till_price_before INTEGER            -- the till's own price just before it applied the change
);
CREATE INDEX IF NOT EXISTS price_schedule_due ON price_schedule(applied_at, effective_at);
"""


@dataclass(frozen=True)
class Scheduled:
    """What one price list added: new changes, ones already known, and SKUs the till does not sell."""

    added: int
    known: int
    unknown_skus: tuple[str, ...]
    next_effective_at: str | None
    withdrawn: int = 0  # changes taken back by this list (never applied, or undone)
    promotions: int | None = None  # offers in force or due after it (None: a /1 list, offers untouched)


@dataclass(frozen=True)
class Applied:
    change_id: str
    sku: str
    old_price: int | None
    price: int
    outcome: str  # applied | unknown_sku


class PriceSchedule:
    def __init__(self, db: StoreDB) -> None:
        self.db = db
        self.db.conn.executescript(SCHEMA)
        columns = {r["name"] for r in self.db.query("PRAGMA table_info(price_schedule)")}
        if "till_price_before" not in columns:  # a schedule made before withdrawals existed
            self.db.conn.execute("ALTER TABLE price_schedule ADD COLUMN till_price_before INTEGER")
        self.promotions = Promotions(db)

    def schedule(self, prices: PriceList, version: int, deployment_id: str, now: datetime) -> Scheduled:
        """Record the list's changes not seen before, take back its withdrawn ones and replace the offers."""
        stamp = format_utc(now)
        skus = {r["sku"] for r in self.db.query("SELECT sku FROM products")}
        added = known = 0
        with self.db.transaction() as conn:
            for c in prices.changes:
                cur = conn.execute(
                    "INSERT INTO price_schedule (change_id, sku, price, previous_price, effective_at, approved_by,"
                    " approved_at, reason, fleet_version, deployment_id, received_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(change_id) DO NOTHING",
                    (c.change_id, c.sku, c.price, c.previous_price, format_utc(c.effective), c.approved_by,
                     c.approved_at, c.reason, version, deployment_id, stamp))
                if cur.rowcount:
                    added += 1
                else:
                    known += 1
        withdrawn = self._withdraw(prices.withdrawn, stamp)
        offers = None
        if prices.has_promotions:
            self.promotions.replace(prices.promotions, version, deployment_id, now)
            offers = len(prices.promotions)
        unknown = tuple(sorted({c.sku for c in prices.changes if c.sku not in skus}))
        return Scheduled(added, known, unknown, self.next_effective_at(), withdrawn, offers)

    def _withdraw(self, change_ids: tuple[str, ...], stamp: str) -> int:
        """Take back changes: one still due is never applied; one applied is undone while the product
        still has its price (a newer price, from a later change or a person, stays)."""
        done = 0
        with self.db.transaction() as conn:
            for change_id in change_ids:
                row = conn.execute("SELECT sku, price, previous_price, outcome, till_price_before, effective_at"
                                   " FROM price_schedule WHERE change_id = ?", (change_id,)).fetchone()
                if row is None or row[3] in ("withdrawn", "reverted", "kept"):
                    continue
                sku, price, previous, outcome, before, effective_at = row
                if outcome is None:  # not applied yet: it never will be
                    conn.execute("UPDATE price_schedule SET applied_at = ?, outcome = 'withdrawn' WHERE change_id = ?",
                                 (stamp, change_id))
                    log.info("price change %s for %s withdrawn before its time", change_id, sku)
                elif outcome == "applied":
                    now_price = conn.execute("SELECT price FROM products WHERE sku = ?", (sku,)).fetchone()
                    restore = int(before if before is not None else previous)
                    later = conn.execute("SELECT 1 FROM price_schedule WHERE sku = ? AND outcome = 'applied'"
                                         " AND change_id != ? AND effective_at > ?",
                                         (sku, change_id, effective_at)).fetchone()
                    if now_price is not None and int(now_price[0]) == int(price) and later is None:
                        conn.execute("UPDATE products SET price = ?, updated_at = ? WHERE sku = ?",
                                     (restore, stamp, sku))
                        conn.execute("UPDATE price_schedule SET outcome = 'reverted' WHERE change_id = ?", (change_id,))
                        log.info("price of %s back from %d to %d: change %s withdrawn", sku, price, restore, change_id)
                    else:
                        conn.execute("UPDATE price_schedule SET outcome = 'kept' WHERE change_id = ?", (change_id,))
                        log.info("change %s for %s withdrawn, but its price was changed since: the newer one stays",
                                 change_id, sku)
                else:  # unknown_sku: nothing to undo
                    conn.execute("UPDATE price_schedule SET outcome = 'withdrawn' WHERE change_id = ?", (change_id,))
                done += 1
        return done

    def next_effective_at(self) -> str | None:
        value = self.db.scalar("SELECT min(effective_at) FROM price_schedule WHERE applied_at IS NULL")
        return str(value) if value else None

    def pending(self) -> list[dict[str, object]]:
        return self.db.query("SELECT * FROM price_schedule WHERE applied_at IS NULL ORDER BY effective_at, change_id")

    def apply_due(self, now: datetime) -> list[Applied]:
        """Apply every change whose time has come, oldest first, in one transaction; returns them."""
        stamp = format_utc(now)
        if not self.db.scalar("SELECT 1 FROM price_schedule WHERE applied_at IS NULL AND effective_at <= ? LIMIT 1",
                              (stamp,)):
            return []
        done: list[Applied] = []
        with self.db.transaction() as conn:
            rows = conn.execute("SELECT change_id, sku, price FROM price_schedule WHERE applied_at IS NULL"
                                " AND effective_at <= ? ORDER BY effective_at, approved_at, change_id",
                                (stamp,)).fetchall()
            for change_id, sku, price in rows:
                old = conn.execute("SELECT price FROM products WHERE sku = ?", (sku,)).fetchone()
                outcome = "applied" if old is not None else "unknown_sku"
                if old is not None:
                    conn.execute("UPDATE products SET price = ?, updated_at = ? WHERE sku = ?", (price, stamp, sku))
                conn.execute("UPDATE price_schedule SET applied_at = ?, outcome = ?, till_price_before = ?"
                             " WHERE change_id = ?", (stamp, outcome, int(old[0]) if old is not None else None,
                                                      change_id))
                done.append(Applied(change_id, sku, int(old[0]) if old is not None else None, int(price), outcome))
        for a in done:
            if a.outcome == "applied":
                log.info("price of %s changed from %s to %d (change %s)", a.sku, a.old_price, a.price, a.change_id)
            else:
                log.warning("price change %s names SKU %s, which this till does not sell: skipped", a.change_id, a.sku)
        return done
