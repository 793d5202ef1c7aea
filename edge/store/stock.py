"""Stock levels move only through stock movements (sale, refund, receiving, count adjustment).

Deliveries are booked in by ``edge.store.costs`` (a receipt with its unit cost moves the weighted average
cost in the same transaction as its ``receiving`` movement)."""

from __future__ import annotations

import sqlite3

from edge.store.database import StoreDB, utc_now
from edge.store.errors import ValidationError
from edge.store.records import StockMovement
from i18n import gettext as _

MOVEMENT_REASONS = ("sale", "refund", "receiving", "count", "damage", "theft", "correction")
MAX_QTY = 1_000_000


def apply_movement(conn: sqlite3.Connection, sku: str, delta: int, reason: str, at: str,
                   tx_id: str | None = None, user_id: str | None = None, note: str = "") -> None:
    """Record one movement and move the level, inside the caller's transaction."""
    if reason not in MOVEMENT_REASONS:
        raise ValidationError(_("unknown stock movement reason %(reason)s", reason=repr(reason)))
    conn.execute("INSERT INTO stock_movements (sku, delta, reason, tx_id, user_id, note, at)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?)", (sku, delta, reason, tx_id, user_id, note, at))
    conn.execute("UPDATE products SET stock_qty = stock_qty + ? WHERE sku = ?", (delta, sku))


class Stock:
    def __init__(self, db: StoreDB) -> None:
        self.db = db

    def post_count(self, counted: dict[str, int], user_id: str, reason: str = "count",
                   note: str = "") -> list[dict]:
        """Post a stock count: one adjustment per SKU whose count differs from the book stock.

        All adjustments land in one transaction; returns ``{sku, book, counted, delta}`` rows.
        """
        if reason not in MOVEMENT_REASONS:
            raise ValidationError(_("unknown reason %(reason)s", reason=repr(reason)))
        for sku, qty in counted.items():
            if not isinstance(qty, int) or isinstance(qty, bool) or not 0 <= qty <= MAX_QTY:
                raise ValidationError(_("counted quantity for %(sku)s must be a whole number from 0 to 1,000,000",
                                        sku=sku))
        at = utc_now()
        out: list[dict] = []
        with self.db.transaction() as conn:
            for sku, qty in counted.items():
                row = conn.execute("SELECT stock_qty FROM products WHERE sku = ?", (sku,)).fetchone()
                if row is None:
                    raise ValidationError(_("unknown SKU %(sku)s", sku=repr(sku)))
                delta = qty - row[0]
                out.append({"sku": sku, "book": row[0], "counted": qty, "delta": delta})
                if delta:
                    apply_movement(conn, sku, delta, reason, at, user_id=user_id, note=note)
        return out

    def movements(self, sku: str | None = None, limit: int = 200) -> list[StockMovement]:
        where, params = ("WHERE sku = ?", (sku, limit)) if sku else ("", (limit,))
        rows = self.db.query(f"SELECT * FROM stock_movements {where} ORDER BY id DESC LIMIT ?", params)
        return [StockMovement(id=r["id"], sku=r["sku"], delta=r["delta"], reason=r["reason"], at=r["at"],
                              tx_id=r["tx_id"], user_id=r["user_id"], note=r["note"]) for r in rows]
