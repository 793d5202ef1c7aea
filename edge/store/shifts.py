"""Shifts: a cashier opens with a cash float and closes with a cash count; the close report is
computed from the shift's sales and kept in the database.

One till has one cash drawer, so by default (``till.drawers: shared``) only one shift is open at a time:
a second cashier waits until the first has counted the drawer and closed.  A till whose cashiers each
have their own drawer (``till.drawers: per_cashier``) keeps one open shift per cashier instead.

The report counts sales and refunds apart (a refund is never a sale), reads each event as its typed
record (a discount or a refund's approval is not a price override) and gives top items net of refunds.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from contracts.events import DiscountChange, LineVoid, ManualEntry, PriceOverride, RefundApproval, SaleVoid, from_parts
from edge.store.database import StoreDB, inserted_id, utc_now
from edge.store.errors import NotFoundError, ValidationError
from edge.store.reports import PROFIT_COLUMNS, profit_of
from i18n import gettext as _

MAX_CASH = 10**11
DRAWER_MODES = ("shared", "per_cashier")


@dataclass(frozen=True)
class Shift:
    id: int
    cashier_id: str
    opened_at: str
    opening_float: int
    closed_at: str | None = None
    counted_cash: int | None = None
    expected_cash: int | None = None
    report: dict[str, Any] | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


def _row(r: dict) -> Shift:
    return Shift(id=r["id"], cashier_id=r["cashier_id"], opened_at=r["opened_at"], opening_float=r["opening_float"],
                 closed_at=r["closed_at"], counted_cash=r["counted_cash"], expected_cash=r["expected_cash"],
                 report=json.loads(r["report"]) if r["report"] else None)


def _cash(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CASH:
        raise ValidationError(_("%(what)s must be a whole number of minor units, 0 or more", what=what))
    return value


class DrawerBusyError(ValidationError):
    """Another cashier's shift holds the till's only drawer."""


class Shifts:
    def __init__(self, db: StoreDB, drawers: str = "shared") -> None:
        if drawers not in DRAWER_MODES:
            raise ValueError(f"drawers must be one of {', '.join(DRAWER_MODES)}, not {drawers!r}")
        self.db = db
        self.drawers = drawers

    def get(self, shift_id: int) -> Shift:
        r = self.db.query_one("SELECT * FROM shifts WHERE id = ?", (shift_id,))
        if r is None:
            raise NotFoundError(_("no shift %(shift)s", shift=shift_id))
        return _row(r)

    def open_for(self, cashier_id: str) -> Shift | None:
        r = self.db.query_one("SELECT * FROM shifts WHERE cashier_id = ? AND closed_at IS NULL"
                              " ORDER BY id DESC LIMIT 1", (cashier_id,))
        return _row(r) if r else None

    def open_on_till(self) -> list[Shift]:
        """Every open shift on this till, oldest first."""
        return [_row(r) for r in self.db.query("SELECT * FROM shifts WHERE closed_at IS NULL ORDER BY id")]

    def recent(self, limit: int = 30, cashier_id: str | None = None) -> list[Shift]:
        """The newest shifts, newest first; only ``cashier_id``'s when given."""
        if cashier_id is None:
            return [_row(r) for r in self.db.query("SELECT * FROM shifts ORDER BY id DESC LIMIT ?", (limit,))]
        return [_row(r) for r in self.db.query("SELECT * FROM shifts WHERE cashier_id = ? ORDER BY id DESC LIMIT ?",
                                               (cashier_id, limit))]

    def open(self, cashier_id: str, opening_float: int, at: str | None = None,
             names: dict[str, str] | None = None) -> Shift:
        """Open a shift; with a shared drawer, only when no other shift is open on this till.

        The check and the insert are one ``BEGIN IMMEDIATE`` transaction, so two cashiers pressing
        Open at the same moment cannot both get the drawer.  ``names`` (user id -> name) words the refusal."""
        _cash(opening_float, "the opening float")
        with self.db.transaction() as c:
            mine = c.execute("SELECT id FROM shifts WHERE cashier_id = ? AND closed_at IS NULL",
                             (cashier_id,)).fetchone()
            if mine is not None:
                raise ValidationError(_("this cashier already has an open shift"))
            if self.drawers == "shared":
                other = c.execute("SELECT id, cashier_id FROM shifts WHERE closed_at IS NULL ORDER BY id LIMIT 1"
                                  ).fetchone()
                if other is not None:
                    who = (names or {}).get(other["cashier_id"], other["cashier_id"])
                    raise DrawerBusyError(
                        f"{who}'s shift #{other['id']} is open on this till's cash drawer: {who} counts the drawer"
                        " and closes that shift (or a supervisor closes it) before another shift opens")
            cur = c.execute("INSERT INTO shifts (cashier_id, opened_at, opening_float) VALUES (?, ?, ?)",
                            (cashier_id, at or utc_now(), opening_float))
            shift_id = inserted_id(cur)
        return self.get(shift_id)

    def report(self, shift: Shift, counted_cash: int | None = None, until: str | None = None) -> dict[str, Any]:
        """The close report of a shift (also usable as an X report while it is open).

        ``by_method`` counts sales (never refunds) per method, with the refunds beside them and the
        amount net of refunds; ``top_items`` are net of refunds; controls count each typed event:
        price overrides, discounts and refund approvals apart."""
        until = until or shift.closed_at or utc_now()
        where = "s.shift_id = ?"
        params: tuple = (shift.id,)
        by_method: dict[str, dict[str, int]] = {}
        for r in self.db.query(
                "SELECT p.method, s.status, count(DISTINCT s.tx_id) AS n, sum(p.amount) AS amount FROM sales s"
                f" JOIN payments p ON p.tx_id = s.tx_id WHERE {where} AND s.status IN ('completed','refunded')"
                " GROUP BY p.method, s.status ORDER BY p.method", params):
            row = by_method.setdefault(r["method"], {"count": 0, "amount": 0, "refund_count": 0, "refund_amount": 0})
            row["amount"] += int(r["amount"] or 0)
            if r["status"] == "completed":
                row["count"] += int(r["n"])
            else:
                row["refund_count"] += int(r["n"])
                row["refund_amount"] += int(r["amount"] or 0)
        status = {r["status"]: {"count": r["n"], "amount": r["total"] or 0} for r in self.db.query(
            f"SELECT status, count(*) AS n, sum(total) AS total FROM sales s WHERE {where} GROUP BY status", params)}
        cash_change = self.db.scalar(
            "SELECT coalesce(sum(p.amount), 0) FROM sales s JOIN payments p ON p.tx_id = s.tx_id"
            f" WHERE {where} AND p.method = 'cash' AND s.status IN ('completed','refunded')", params)
        events = [from_parts(r["type"], r["at"], json.loads(r["detail"] or "{}"), r["user_id"]) for r in self.db.query(
            f"SELECT e.type, e.at, e.user_id, e.detail FROM events e JOIN sales s ON s.tx_id = e.tx_id WHERE {where}",
            params)]
        counts = {kind: sum(1 for e in events if isinstance(e, kind))
                  for kind in (LineVoid, SaleVoid, PriceOverride, DiscountChange, RefundApproval, ManualEntry)}
        no_sale = self.db.scalar("SELECT count(*) FROM events WHERE tx_id IS NULL AND type = 'drawer_open'"
                                 " AND user_id = ? AND at >= ? AND at <= ?", (shift.cashier_id, shift.opened_at, until))
        top = self.db.query(
            "SELECT l.sku, max(l.name) AS name, sum(l.qty) AS qty, sum(l.line_total) AS amount FROM sales s"
            f" JOIN sale_lines l ON l.tx_id = s.tx_id WHERE {where} AND s.status IN ('completed','refunded')"
            " GROUP BY l.sku HAVING sum(l.qty) > 0 ORDER BY qty DESC, amount DESC LIMIT 5", params)
        alerts = [{"tx_id": r["tx_id"], "receipt_no": r["receipt_no"], "score": r["score"],
                   "reasons": json.loads(r["reasons"])} for r in self.db.query(
            "SELECT a.tx_id, s.receipt_no, a.score, a.reasons FROM alerts a JOIN sales s ON s.tx_id = a.tx_id"
            f" WHERE {where} ORDER BY a.score DESC", params)]
        profit = profit_of(self.db.query(  # an aggregate: always one row
            f"SELECT {PROFIT_COLUMNS} FROM sales s JOIN sale_lines l ON l.tx_id = s.tx_id"
            f" WHERE {where} AND s.status IN ('completed','refunded')", params)[0])
        expected = shift.opening_float + int(cash_change)
        sales = status.get("completed", {"count": 0, "amount": 0})
        refunds = status.get("refunded", {"count": 0, "amount": 0})
        report = {
            "shift_id": shift.id, "cashier_id": shift.cashier_id, "opened_at": shift.opened_at, "closed_at": until,
            "opening_float": shift.opening_float, "by_method": by_method,
            "sales": sales, "refunds": refunds, "net_sales": int(sales["amount"]) + int(refunds["amount"]),
            "voids": {"sales": status.get("voided", {"count": 0, "amount": 0})["count"],
                      "lines": counts[LineVoid]},
            "overrides": counts[PriceOverride], "discounts": counts[DiscountChange],
            "refund_approvals": counts[RefundApproval], "manual_entries": counts[ManualEntry],
            "drawer_opens_no_sale": int(no_sale or 0),
            "expected_cash": expected, "counted_cash": counted_cash,
            "over_short": None if counted_cash is None else counted_cash - expected,
            "top_items": top, "alerts": alerts,
            # gross profit of the shift's sales net of refunds, over lines with a cost (contracts.margins)
            "profit": asdict(profit),
        }
        return report

    def close(self, shift_id: int, counted_cash: int) -> Shift:
        _cash(counted_cash, "the counted cash")
        shift = self.get(shift_id)
        if not shift.is_open:
            raise ValidationError(_("this shift is already closed"))
        at = utc_now()
        report = self.report(shift, counted_cash, until=at)
        with self.db.transaction() as c:
            n = c.execute("UPDATE shifts SET closed_at = ?, counted_cash = ?, expected_cash = ?, report = ?"
                          " WHERE id = ? AND closed_at IS NULL",
                          (at, counted_cash, report["expected_cash"], json.dumps(report), shift_id)).rowcount
            if n != 1:
                raise ValidationError(_("this shift is already closed"))
        return self.get(shift_id)
