"""The shop's suppliers: who to call (name, contact, phone, e-mail), and which products each one delivers
with its lead time in days (how long after an order the delivery arrives).  Stock receipts name the
supplier they came from (``edge.store.costs``)."""

from __future__ import annotations

import builtins  # the annotations below the method named ``list`` would name the method
import re
from typing import Any

from edge.store.database import StoreDB, inserted_id, utc_now
from edge.store.errors import NotFoundError, ValidationError
from edge.store.records import Supplier, SupplierLink
from i18n import gettext as _

MAX_LEAD_DAYS = 365
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_RE = re.compile(r"^[0-9+()\-. ]{0,30}$")


def _row(r: dict) -> Supplier:
    return Supplier(id=r["id"], name=r["name"], contact=r["contact"], phone=r["phone"], email=r["email"],
                    note=r["note"], active=bool(r["active"]), created_at=r["created_at"])


def check_supplier(name: str, contact: str, phone: str, email: str, note: str) -> None:
    if not name or not name.strip() or len(name) > 120:
        raise ValidationError(_("name must be 1-120 characters"))
    if len(contact) > 120:
        raise ValidationError(_("contact must be at most 120 characters"))
    if not _PHONE_RE.match(phone):
        raise ValidationError(_("phone: digits, spaces and + ( ) - . only, at most 30"))
    if email and (len(email) > 120 or not _EMAIL_RE.match(email)):
        raise ValidationError(_("email: must look like name@example.com"))
    if len(note) > 500:
        raise ValidationError(_("note must be at most 500 characters"))


def check_lead_time(days: int) -> None:
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_LEAD_DAYS:
        raise ValidationError(_("lead time must be a whole number of days from 0 to %(most)s", most=MAX_LEAD_DAYS))


class Suppliers:
    def __init__(self, db: StoreDB) -> None:
        self.db = db

    def get(self, supplier_id: int) -> Supplier:
        r = self.db.query_one("SELECT * FROM suppliers WHERE id = ?", (supplier_id,))
        if r is None:
            raise NotFoundError(_("no supplier %(supplier)s", supplier=supplier_id))
        return _row(r)

    def exists(self, supplier_id: int) -> bool:
        return self.db.query_one("SELECT 1 FROM suppliers WHERE id = ?", (supplier_id,)) is not None

    def name_taken(self, name: str, by_other_than: int | None = None) -> bool:
        """Whether another supplier (not ``by_other_than``) has this name already, case aside."""
        return self.db.query_one("SELECT 1 FROM suppliers WHERE lower(name) = lower(?) AND id != ?",
                                 (name, by_other_than or 0)) is not None

    def list(self, include_inactive: bool = False) -> list[Supplier]:
        where = "" if include_inactive else "WHERE active = 1"
        return [_row(r) for r in self.db.query(f"SELECT * FROM suppliers {where} ORDER BY lower(name)")]

    def save(self, name: str, contact: str = "", phone: str = "", email: str = "", note: str = "",
             supplier_id: int | None = None, at: str | None = None) -> Supplier:
        """Add a supplier (``supplier_id`` None) or change one; names are unique, whatever their case."""
        name, contact, phone, email, note = (v.strip() for v in (name, contact, phone, email, note))
        check_supplier(name, contact, phone, email, note)
        with self.db.transaction() as conn:
            taken = conn.execute("SELECT id FROM suppliers WHERE lower(name) = lower(?) AND id != ?",
                                 (name, supplier_id or 0)).fetchone()
            if taken:
                raise ValidationError(_("name: a supplier called %(name)s exists already", name=repr(name)))
            if supplier_id is None:
                supplier_id = inserted_id(conn.execute(
                    "INSERT INTO suppliers (name, contact, phone, email, note, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, contact, phone, email, note, at or utc_now())))
            elif conn.execute("UPDATE suppliers SET name = ?, contact = ?, phone = ?, email = ?, note = ?"
                              " WHERE id = ?", (name, contact, phone, email, note, supplier_id)).rowcount != 1:
                raise NotFoundError(_("no supplier %(supplier)s", supplier=supplier_id))
        return self.get(supplier_id)

    def set_active(self, supplier_id: int, active: bool) -> Supplier:
        self.get(supplier_id)
        with self.db.transaction() as conn:
            conn.execute("UPDATE suppliers SET active = ? WHERE id = ?", (int(active), supplier_id))
        return self.get(supplier_id)

    # -- products and lead times -------------------------------------------------------------
    def link(self, supplier_id: int, sku: str, lead_time_days: int) -> SupplierLink:
        """Say the supplier delivers ``sku`` in ``lead_time_days`` (again: changes the lead time)."""
        check_lead_time(lead_time_days)
        self.get(supplier_id)
        if self.db.query_one("SELECT 1 FROM products WHERE sku = ?", (sku,)) is None:
            raise ValidationError(_("sku: no product has the SKU %(sku)s", sku=repr(sku)))
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO product_suppliers (sku, supplier_id, lead_time_days) VALUES (?, ?, ?)"
                         " ON CONFLICT(sku, supplier_id) DO UPDATE SET lead_time_days = excluded.lead_time_days",
                         (sku, supplier_id, lead_time_days))
        return next(link for link in self.links(supplier_id=supplier_id) if link.sku == sku)

    def unlink(self, supplier_id: int, sku: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM product_suppliers WHERE supplier_id = ? AND sku = ?", (supplier_id, sku))

    def links(self, supplier_id: int | None = None, sku: str | None = None) -> builtins.list[SupplierLink]:
        """Who delivers what, with lead times: of one supplier (by product name) or one product (by lead time)."""
        clauses: builtins.list[str] = []
        params: builtins.list[Any] = []
        if supplier_id is not None:
            clauses.append("ps.supplier_id = ?")
            params.append(supplier_id)
        if sku is not None:
            clauses.append("ps.sku = ?")
            params.append(sku)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self.db.query(
            "SELECT ps.sku, p.name AS product_name, ps.supplier_id, s.name AS supplier_name, ps.lead_time_days"
            " FROM product_suppliers ps JOIN products p ON p.sku = ps.sku JOIN suppliers s ON s.id = ps.supplier_id"
            f" {where} ORDER BY ps.lead_time_days, lower(s.name), lower(p.name)", tuple(params))
        return [SupplierLink(sku=r["sku"], product_name=r["product_name"], supplier_id=r["supplier_id"],
                             supplier_name=r["supplier_name"], lead_time_days=r["lead_time_days"]) for r in rows]
