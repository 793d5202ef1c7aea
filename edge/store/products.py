"""The shop's catalogue on the device: products with price, barcode, category and stock."""

from __future__ import annotations

import builtins  # the annotations below the method named ``list`` would name the method
import re
import sqlite3

from edge.store.database import StoreDB, utc_now
from edge.store.errors import NotFoundError, ValidationError
from edge.store.records import Product
from i18n import gettext as _

SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
BARCODE_RE = re.compile(r"^[0-9]{6,14}$")
MAX_PRICE = 10**11  # a billion in major units: anything above is a typo


def _row(r: dict) -> Product:
    return Product(sku=r["sku"], name=r["name"], price=r["price"], barcode=r["barcode"],
                   category=r["category"], active=bool(r["active"]), stock_qty=r["stock_qty"],
                   reorder_level=r["reorder_level"], cost=r["cost"])


def check_product(sku: str, name: str, price: int, barcode: str | None, category: str,
                  reorder_level: int) -> None:
    if not SKU_RE.match(sku or ""):
        raise ValidationError(_("SKU must be 1-64 letters, digits, '.', '_' or '-'"))
    if not name or not name.strip() or len(name) > 120:
        raise ValidationError(_("name must be 1-120 characters"))
    if not isinstance(price, int) or isinstance(price, bool) or not 0 <= price <= MAX_PRICE:
        raise ValidationError(_("price must be a whole number of minor units, 0 or more"))
    if barcode is not None and not BARCODE_RE.match(barcode):
        raise ValidationError(_("barcode must be 6-14 digits"))
    if len(category) > 60:
        raise ValidationError(_("category must be at most 60 characters"))
    if not isinstance(reorder_level, int) or not 0 <= reorder_level <= 1_000_000:
        raise ValidationError(_("reorder level must be a whole number, 0 or more"))


class Products:
    def __init__(self, db: StoreDB) -> None:
        self.db = db

    def get(self, sku: str) -> Product:
        r = self.db.query_one("SELECT * FROM products WHERE sku = ?", (sku,))
        if r is None:
            raise NotFoundError(_("no product with SKU %(sku)s", sku=repr(sku)))
        return _row(r)

    def find(self, sku: str) -> Product | None:
        r = self.db.query_one("SELECT * FROM products WHERE sku = ?", (sku,))
        return _row(r) if r else None

    def by_barcode(self, barcode: str, include_inactive: bool = False) -> Product | None:
        """The product whose barcode this is (an inactive one too with ``include_inactive``)."""
        active = "" if include_inactive else " AND active = 1"
        r = self.db.query_one(f"SELECT * FROM products WHERE barcode = ?{active}", (barcode,))
        return _row(r) if r else None

    def count(self) -> int:
        """How many products the store has, inactive ones included."""
        return int(self.db.scalar("SELECT count(*) FROM products") or 0)

    @staticmethod
    def sku_taken(conn: sqlite3.Connection, sku: str) -> str | None:
        """Inside the caller's write: the existing SKU that ``sku`` would duplicate (case aside), or None."""
        row = conn.execute("SELECT sku FROM products WHERE lower(sku) = lower(?)", (sku,)).fetchone()
        return str(row[0]) if row else None

    def list(self, include_inactive: bool = False) -> list[Product]:
        where = "" if include_inactive else "WHERE active = 1"
        return [_row(r) for r in self.db.query(f"SELECT * FROM products {where} ORDER BY category, name")]

    def search(self, text: str, limit: int = 20) -> builtins.list[Product]:
        """Active products whose SKU, barcode or name contains ``text`` (case-insensitive)."""
        text = (text or "").strip()
        if not text:
            return []
        like = f"%{text.lower()}%"
        rows = self.db.query(
            "SELECT * FROM products WHERE active = 1 AND (lower(sku) LIKE ? OR lower(name) LIKE ? OR barcode = ?)"
            " ORDER BY (lower(sku) = ?) DESC, name LIMIT ?", (like, like, text, text.lower(), limit))
        return [_row(r) for r in rows]

    def upsert(self, sku: str, name: str, price: int, barcode: str | None = None, category: str = "",
               reorder_level: int = 0, active: bool = True, conn: sqlite3.Connection | None = None) -> Product:
        barcode = barcode or None
        check_product(sku, name, price, barcode, category, reorder_level)
        if barcode:
            other = self.db.query_one("SELECT sku FROM products WHERE barcode = ? AND sku != ?", (barcode, sku))
            if other:
                raise ValidationError(_("barcode %(barcode)s already belongs to %(sku)s",
                                        barcode=barcode, sku=other["sku"]))
        sql = ("INSERT INTO products (sku, name, price, barcode, category, active, reorder_level, updated_at)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(sku) DO UPDATE SET name = excluded.name,"
               " price = excluded.price, barcode = excluded.barcode, category = excluded.category,"
               " active = excluded.active, reorder_level = excluded.reorder_level, updated_at = excluded.updated_at")
        params = (sku, name.strip(), price, barcode, category.strip(), int(active), reorder_level, utc_now())
        if conn is not None:
            conn.execute(sql, params)
        else:
            with self.db.transaction() as c:
                c.execute(sql, params)
        return self.get(sku)

    def set_active(self, sku: str, active: bool) -> Product:
        self.get(sku)
        with self.db.transaction() as c:
            c.execute("UPDATE products SET active = ?, updated_at = ? WHERE sku = ?", (int(active), utc_now(), sku))
        return self.get(sku)

    def low_stock(self) -> builtins.list[Product]:
        return [_row(r) for r in self.db.query(
            "SELECT * FROM products WHERE active = 1 AND stock_qty <= reorder_level"
            " ORDER BY stock_qty - reorder_level, name")]
