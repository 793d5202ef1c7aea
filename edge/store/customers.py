"""Credit customers: who may buy on credit, up to what limit, and what they owe.

When the store knows its device identity, every change (a new or edited customer, a repayment)
queues a ``tillsight.credit/1`` event for the hub in the same transaction
(:mod:`edge.store.credit_events`)."""

from __future__ import annotations

import builtins  # the annotations below the method named ``list`` would name the method
import re
import secrets
import sqlite3

from edge.store.credit_events import DeviceIdentity, catch_up, enqueue_credit_event
from edge.store.database import StoreDB, utc_now
from edge.store.errors import NotFoundError, ValidationError
from edge.store.records import Customer
from i18n import gettext as _

PHONE_RE = re.compile(r"^[0-9+() -]{0,24}$")
MAX_LIMIT = 10**10


def _row(r: dict) -> Customer:
    return Customer(id=r["id"], name=r["name"], phone=r["phone"], credit_limit=r["credit_limit"],
                    balance=r["balance"], active=bool(r["active"]))


class Customers:
    def __init__(self, db: StoreDB, identity: DeviceIdentity | None = None) -> None:
        self.db = db
        self.identity = identity  # None: changes are not sent to the hub (see catch_up_with_hub)
        if identity is not None:
            self.catch_up_with_hub()

    def catch_up_with_hub(self) -> int:
        """Queue the state of every customer the hub has not been sent yet (under this identity)."""
        if self.identity is None:
            return 0
        with self.db.transaction() as c:
            return catch_up(c, self.identity, utc_now())

    def get(self, customer_id: str) -> Customer:
        r = self.db.query_one("SELECT * FROM customers WHERE id = ?", (customer_id,))
        if r is None:
            raise NotFoundError(_("no customer %(customer)s", customer=repr(customer_id)))
        return _row(r)

    def list(self, include_inactive: bool = False) -> list[Customer]:
        where = "" if include_inactive else "WHERE active = 1"
        return [_row(r) for r in self.db.query(f"SELECT * FROM customers {where} ORDER BY name")]

    def save(self, name: str, phone: str = "", credit_limit: int = 0, customer_id: str | None = None,
             active: bool = True, at: str | None = None) -> Customer:
        """Create or edit a customer; ``at`` (UTC ``...Z``, default now) is when that happened (the demo
        seeds customers at the start of their imported history)."""
        name = (name or "").strip()
        if not name or len(name) > 120:
            raise ValidationError(_("customer name must be 1-120 characters"))
        if not PHONE_RE.match(phone or ""):
            raise ValidationError(_("phone may hold only digits, spaces, +, (, ) and -"))
        if not isinstance(credit_limit, int) or not 0 <= credit_limit <= MAX_LIMIT:
            raise ValidationError(_("credit limit must be a whole number of minor units, 0 or more"))
        cid = customer_id or f"cust-{secrets.token_hex(4)}"
        at = at or utc_now()
        with self.db.transaction() as c:
            before = c.execute("SELECT name, phone, credit_limit, active FROM customers WHERE id = ?",
                               (cid,)).fetchone()
            c.execute("INSERT INTO customers (id, name, phone, credit_limit, active, created_at)"
                      " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
                      " phone = excluded.phone, credit_limit = excluded.credit_limit, active = excluded.active",
                      (cid, name, phone or "", credit_limit, int(active), at))
            changed = before is None or tuple(before) != (name, phone or "", credit_limit, int(active))
            if self.identity is not None and changed:
                enqueue_credit_event(c, self.identity, cid, at)
        return self.get(cid)

    def record_repayment(self, customer_id: str, amount: int, at: str | None = None,
                         conn: sqlite3.Connection | None = None) -> Customer:
        """Take ``amount`` off what the customer owes, with its event for the hub, at ``at`` (UTC
        ``...Z``, default now); inside the caller's transaction ``conn`` when given (the demo's history
        import writes its repayments between its sales)."""
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise ValidationError(_("repayment must be a positive amount"))
        self.get(customer_id)
        if conn is not None:
            self._repay(conn, customer_id, amount, at or utc_now())
        else:
            with self.db.transaction() as c:  # the check and the update in one write: two repayments can't overshoot
                self._repay(c, customer_id, amount, at or utc_now())
        return self.get(customer_id)

    def _repay(self, c: sqlite3.Connection, customer_id: str, amount: int, at: str) -> None:
        balance = c.execute("SELECT balance FROM customers WHERE id = ?", (customer_id,)).fetchone()[0]
        if amount > balance:
            raise ValidationError(_("repayment is more than the customer owes"))
        c.execute("UPDATE customers SET balance = balance - ? WHERE id = ?", (amount, customer_id))
        if self.identity is not None:
            enqueue_credit_event(c, self.identity, customer_id, at, amount=amount)

    def owing(self) -> builtins.list[Customer]:
        return [_row(r) for r in self.db.query("SELECT * FROM customers WHERE balance != 0 ORDER BY balance DESC")]
