"""What the shop pays for its products: stock receipts with their unit cost, the moving weighted average
cost of each product, and the history of every cost change.

A receipt of ``qty`` units at ``unit_cost`` moves the product's cost to the weighted average of what is in
stock and what arrived::

    new = (on_hand * old + qty * unit_cost) / (on_hand + qty)      (minor units, rounded half up)

where ``on_hand`` is the book stock before the delivery (never below 0).  A product with no cost yet takes
the delivery's cost (the units already on the shelf are taken at it too); a receipt without a unit cost
adds stock and leaves the cost as it is.  Sales, refunds and count adjustments move stock but not the
average (each unit leaves at the average).  The owner can also set a cost by hand (a product nobody
receives through the till).  Every change is a ``cost_changes`` row, written in the same transaction as
what caused it.  Costs are per unit, excluding tax the shop reclaims (``contracts.margins``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from contracts.margins import margin_pct
from edge.store.database import StoreDB, inserted_id, utc_now
from edge.store.errors import NotFoundError, ValidationError
from edge.store.records import CostChange, StockReceipt
from edge.store.stock import MAX_QTY, apply_movement
from i18n import gettext as _

MAX_COST = 10**11  # minor units: as the price's bound, anything above is a typo
COST_REASONS = ("receiving", "manual", "import")


def weighted_average(on_hand: int, old_cost: int | None, qty: int, unit_cost: int) -> int:
    """The moving weighted average unit cost after ``qty`` units at ``unit_cost`` join ``on_hand`` units
    at ``old_cost`` (None: no cost known, so the delivery's cost is the cost)."""
    on_hand = max(0, on_hand)
    if old_cost is None or on_hand == 0:
        return unit_cost
    total, units = on_hand * old_cost + qty * unit_cost, on_hand + qty
    return (2 * total + units) // (2 * units)  # half up, in integers


def shelf_margin(price: int, cost: int | None, tax_rate_bp: int) -> tuple[int, float | None] | None:
    """What one unit sold at the shelf ``price`` (tax included) makes over ``cost``: ``(profit per unit,
    margin %)`` on the price net of tax, as the sales reports count it; None with no cost."""
    if cost is None:
        return None
    net = price - (0 if tax_rate_bp <= 0 else (2 * price * tax_rate_bp + 10_000 + tax_rate_bp)
                   // (2 * (10_000 + tax_rate_bp)))
    return net - cost, margin_pct(net - cost, net)


def check_cost(value: int | None, what: str = "unit cost") -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_COST:
        raise ValidationError(_("%(what)s must be a whole number of minor units, 0 or more", what=what))


def record_cost_change(conn: sqlite3.Connection, sku: str, old: int | None, new: int | None, reason: str,
                       at: str, receipt_id: int | None = None, user_id: str | None = None,
                       note: str = "") -> None:
    """Set the product's cost and keep the change, inside the caller's transaction (no row when equal)."""
    if reason not in COST_REASONS:
        raise ValidationError(_("unknown cost change reason %(reason)s", reason=repr(reason)))
    if old == new:
        return
    conn.execute("UPDATE products SET cost = ? WHERE sku = ?", (new, sku))
    conn.execute("INSERT INTO cost_changes (sku, old_cost, new_cost, reason, receipt_id, user_id, note, at)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (sku, old, new, reason, receipt_id, user_id, note, at))


def record_receipt(conn: sqlite3.Connection, sku: str, qty: int, unit_cost: int | None, supplier_id: int | None,
                   user_id: str | None, note: str, at: str) -> StockReceipt:
    """Book a delivery in, inside the caller's transaction: the receipt, its ``receiving`` stock movement
    and the new weighted average cost (with its ``cost_changes`` row)."""
    if not isinstance(qty, int) or isinstance(qty, bool) or not 0 < qty <= MAX_QTY:
        raise ValidationError(_("received quantity must be a whole number from 1 to 1,000,000"))
    check_cost(unit_cost)
    row = conn.execute("SELECT stock_qty, cost FROM products WHERE sku = ?", (sku,)).fetchone()
    if row is None:
        raise ValidationError(_("unknown SKU %(sku)s", sku=repr(sku)))
    if supplier_id is not None and conn.execute("SELECT 1 FROM suppliers WHERE id = ?",
                                                (supplier_id,)).fetchone() is None:
        raise ValidationError(_("no supplier %(supplier)s", supplier=supplier_id))
    on_hand, old = int(row[0]), row[1]
    new = old if unit_cost is None else weighted_average(on_hand, old, qty, unit_cost)
    receipt_id = inserted_id(conn.execute(
        "INSERT INTO stock_receipts (sku, qty, unit_cost, supplier_id, cost_before, cost_after, user_id, note, at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (sku, qty, unit_cost, supplier_id, old, new, user_id, note, at)))
    apply_movement(conn, sku, qty, "receiving", at, user_id=user_id, note=note)
    record_cost_change(conn, sku, old, new, "receiving", at, receipt_id=receipt_id, user_id=user_id, note=note)
    return StockReceipt(id=receipt_id, sku=sku, qty=qty, unit_cost=unit_cost, supplier_id=supplier_id,
                        user_id=user_id, note=note, at=at, cost_before=old, cost_after=new)


def unit_costs(conn: sqlite3.Connection, skus: list[str]) -> dict[str, int | None]:
    """The current weighted average cost of each SKU (None: unknown or no such product)."""
    out: dict[str, int | None] = dict.fromkeys(skus)
    if skus:
        marks = ", ".join("?" * len(set(skus)))
        for sku, cost in conn.execute(f"SELECT sku, cost FROM products WHERE sku IN ({marks})", tuple(set(skus))):
            out[sku] = cost
    return out


class Costs:
    def __init__(self, db: StoreDB) -> None:
        self.db = db

    def receive(self, sku: str, qty: int, unit_cost: int | None, user_id: str | None, supplier_id: int | None = None,
                note: str = "", at: str | None = None) -> StockReceipt:
        """Book a delivery in (one transaction); returns the receipt with the cost before and after."""
        with self.db.transaction() as conn:
            return record_receipt(conn, sku, qty, unit_cost, supplier_id, user_id, note, at or utc_now())

    def set_cost(self, sku: str, cost: int | None, user_id: str | None, note: str = "", reason: str = "manual",
                 at: str | None = None) -> int | None:
        """Set a product's cost by hand (None clears it: "no cost"); returns the new cost."""
        check_cost(cost, "cost")
        with self.db.transaction() as conn:
            row = conn.execute("SELECT cost FROM products WHERE sku = ?", (sku,)).fetchone()
            if row is None:
                raise NotFoundError(_("no product with SKU %(sku)s", sku=repr(sku)))
            record_cost_change(conn, sku, row[0], cost, reason, at or utc_now(), user_id=user_id, note=note)
        return cost

    def history(self, sku: str, limit: int = 100) -> list[CostChange]:
        """The product's cost changes, newest first."""
        rows = self.db.query("SELECT * FROM cost_changes WHERE sku = ? ORDER BY at DESC, id DESC LIMIT ?",
                             (sku, limit))
        return [CostChange(id=r["id"], sku=r["sku"], old_cost=r["old_cost"], new_cost=r["new_cost"],
                           reason=r["reason"], at=r["at"], receipt_id=r["receipt_id"], user_id=r["user_id"],
                           note=r["note"]) for r in rows]

    def receipts(self, sku: str | None = None, supplier_id: int | None = None, limit: int = 100) -> list[StockReceipt]:
        """Deliveries booked in, newest first, with the product's and the supplier's names and the cost
        each one left the product at."""
        clauses: list[str] = []
        params: list[Any] = []
        if sku is not None:
            clauses.append("r.sku = ?")
            params.append(sku)
        if supplier_id is not None:
            clauses.append("r.supplier_id = ?")
            params.append(supplier_id)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self.db.query(
            "SELECT r.*, p.name AS product_name, s.name AS supplier_name FROM stock_receipts r"
            " LEFT JOIN products p ON p.sku = r.sku LEFT JOIN suppliers s ON s.id = r.supplier_id"
            f" {where} ORDER BY r.at DESC, r.id DESC LIMIT ?", (*params, limit))
        return [StockReceipt(id=r["id"], sku=r["sku"], qty=r["qty"], unit_cost=r["unit_cost"],
                             supplier_id=r["supplier_id"], user_id=r["user_id"], note=r["note"], at=r["at"],
                             cost_before=r["cost_before"], cost_after=r["cost_after"],
                             supplier_name=r["supplier_name"], product_name=r["product_name"]) for r in rows]
