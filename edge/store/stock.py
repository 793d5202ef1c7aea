"""Stock levels move only through stock movements (sale, refund, receiving, count adjustment).

Deliveries are booked in by ``edge.store.costs`` (a receipt with its unit cost moves the weighted average
cost in the same transaction as its ``receiving`` movement).  Movements are valued at cost, never at the shelf
price: a count adjustment at the product's moving average cost when it was posted, and a movement in the
history at the cost in effect at its time (read back from the product's cost changes).  A product with no
cost gives no value ("no cost"), which reports count apart instead of as zero."""

from __future__ import annotations

import sqlite3
from typing import Any

from edge.store.database import StoreDB, utc_now
from edge.store.errors import ValidationError
from edge.store.records import StockMovement
from i18n import gettext as _

MOVEMENT_REASONS = ("sale", "refund", "receiving", "count", "damage", "theft", "correction")
COUNT_REASONS = ("count", "damage", "theft", "correction")  # the adjustments a stock count posts
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

        All adjustments land in one transaction; returns ``{sku, book, counted, delta, unit_cost}`` rows, where
        ``unit_cost`` is the product's moving average cost at that moment (None: the product has no cost).
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
                row = conn.execute("SELECT stock_qty, cost FROM products WHERE sku = ?", (sku,)).fetchone()
                if row is None:
                    raise ValidationError(_("unknown SKU %(sku)s", sku=repr(sku)))
                delta = qty - row[0]
                out.append({"sku": sku, "book": row[0], "counted": qty, "delta": delta, "unit_cost": row[1]})
                if delta:
                    apply_movement(conn, sku, delta, reason, at, user_id=user_id, note=note)
        return out

    def movements(self, sku: str | None = None, limit: int = 200) -> list[StockMovement]:
        where, params = ("WHERE sku = ?", (sku, limit)) if sku else ("", (limit,))
        rows = self.db.query(f"SELECT * FROM stock_movements {where} ORDER BY id DESC LIMIT ?", params)
        return [StockMovement(id=r["id"], sku=r["sku"], delta=r["delta"], reason=r["reason"], at=r["at"],
                              tx_id=r["tx_id"], user_id=r["user_id"], note=r["note"]) for r in rows]

    def history(self, sku: str | None = None, reason: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Movements newest first, with the product's and the person's names and ``unit_cost``: the product's
        cost in effect when the movement was made (None: it had no cost then)."""
        where, params = [], []
        if sku:
            where.append("m.sku = ?")
            params.append(sku)
        if reason:
            where.append("m.reason = ?")
            params.append(reason)
        # the cost after the last change at or before the movement; else the cost before the first change after
        # it; else the product's cost (never changed).  -1 stands for "no cost" so that NULL means "no change".
        rows = self.db.query(
            "SELECT m.id, m.sku, p.name, m.delta, m.reason, m.at, m.tx_id, m.user_id, u.name AS user_name, m.note,"
            " p.cost AS cost_now,"
            " (SELECT COALESCE(c.new_cost, -1) FROM cost_changes c WHERE c.sku = m.sku AND c.at <= m.at"
            "  ORDER BY c.at DESC, c.id DESC LIMIT 1) AS cost_then,"
            " (SELECT COALESCE(c.old_cost, -1) FROM cost_changes c WHERE c.sku = m.sku AND c.at > m.at"
            "  ORDER BY c.at, c.id LIMIT 1) AS cost_before_next"
            " FROM stock_movements m LEFT JOIN products p ON p.sku = m.sku LEFT JOIN users u ON u.id = m.user_id"
            + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY m.id DESC LIMIT ?", (*params, limit))
        for r in rows:
            then, next_old, now = r.pop("cost_then"), r.pop("cost_before_next"), r.pop("cost_now")
            known = then if then is not None else next_old if next_old is not None else now
            r["unit_cost"] = None if known is None or known < 0 else int(known)
        return rows


def value_at_cost(delta: int, unit_cost: int | None) -> int | None:
    """What ``delta`` units are worth at ``unit_cost`` (minor units); None with no cost."""
    return None if unit_cost is None else delta * unit_cost
