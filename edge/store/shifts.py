"""Shifts: a cashier opens with a cash float and closes with a cash count; the close report is
computed from the shift's sales and kept in the database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from edge.store.database import StoreDB, inserted_id, utc_now
from edge.store.errors import NotFoundError, ValidationError

MAX_CASH = 10**11


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
        raise ValidationError(f"{what} must be a whole number of minor units, 0 or more")
    return value


class Shifts:
    def __init__(self, db: StoreDB) -> None:
        self.db = db

    def get(self, shift_id: int) -> Shift:
        r = self.db.query_one("SELECT * FROM shifts WHERE id = ?", (shift_id,))
        if r is None:
            raise NotFoundError(f"no shift {shift_id}")
        return _row(r)

    def open_for(self, cashier_id: str) -> Shift | None:
        r = self.db.query_one("SELECT * FROM shifts WHERE cashier_id = ? AND closed_at IS NULL"
                              " ORDER BY id DESC LIMIT 1", (cashier_id,))
        return _row(r) if r else None

    def recent(self, limit: int = 30) -> list[Shift]:
        return [_row(r) for r in self.db.query("SELECT * FROM shifts ORDER BY id DESC LIMIT ?", (limit,))]

    def open(self, cashier_id: str, opening_float: int, at: str | None = None) -> Shift:
        _cash(opening_float, "the opening float")
        if self.open_for(cashier_id):
            raise ValidationError("this cashier already has an open shift")
        with self.db.transaction() as c:
            cur = c.execute("INSERT INTO shifts (cashier_id, opened_at, opening_float) VALUES (?, ?, ?)",
                            (cashier_id, at or utc_now(), opening_float))
            shift_id = inserted_id(cur)
        return self.get(shift_id)

    def report(self, shift: Shift, counted_cash: int | None = None, until: str | None = None) -> dict[str, Any]:
        """The close report of a shift (also usable as an X report while it is open)."""
        until = until or shift.closed_at or utc_now()
        where = "s.shift_id = ?"
        params: tuple = (shift.id,)
        by_method = {r["method"]: {"count": r["n"], "amount": r["amount"]} for r in self.db.query(
            "SELECT p.method, count(DISTINCT s.tx_id) AS n, sum(p.amount) AS amount FROM sales s"
            f" JOIN payments p ON p.tx_id = s.tx_id WHERE {where} AND s.status IN ('completed','refunded')"
            " GROUP BY p.method ORDER BY p.method", params)}
        status = {r["status"]: {"count": r["n"], "amount": r["total"] or 0} for r in self.db.query(
            f"SELECT status, count(*) AS n, sum(total) AS total FROM sales s WHERE {where} GROUP BY status", params)}
        cash_change = self.db.scalar(
            "SELECT coalesce(sum(p.amount), 0) FROM sales s JOIN payments p ON p.tx_id = s.tx_id"
            f" WHERE {where} AND p.method = 'cash' AND s.status IN ('completed','refunded')", params)
        events = {r["type"]: r["n"] for r in self.db.query(
            f"SELECT e.type, count(*) AS n FROM events e JOIN sales s ON s.tx_id = e.tx_id WHERE {where}"
            " GROUP BY e.type", params)}
        no_sale = self.db.scalar("SELECT count(*) FROM events WHERE tx_id IS NULL AND type = 'drawer_open'"
                                 " AND user_id = ? AND at >= ? AND at <= ?", (shift.cashier_id, shift.opened_at, until))
        top = self.db.query(
            "SELECT l.sku, l.name, sum(l.qty) AS qty, sum(l.line_total) AS amount FROM sales s"
            f" JOIN sale_lines l ON l.tx_id = s.tx_id WHERE {where} AND s.status = 'completed'"
            " GROUP BY l.sku ORDER BY qty DESC, amount DESC LIMIT 5", params)
        alerts = [{"tx_id": r["tx_id"], "receipt_no": r["receipt_no"], "score": r["score"],
                   "reasons": json.loads(r["reasons"])} for r in self.db.query(
            "SELECT a.tx_id, s.receipt_no, a.score, a.reasons FROM alerts a JOIN sales s ON s.tx_id = a.tx_id"
            f" WHERE {where} ORDER BY a.score DESC", params)]
        expected = shift.opening_float + int(cash_change)
        report = {
            "shift_id": shift.id, "cashier_id": shift.cashier_id, "opened_at": shift.opened_at, "closed_at": until,
            "opening_float": shift.opening_float, "by_method": by_method,
            "sales": status.get("completed", {"count": 0, "amount": 0}),
            "voids": {"sales": status.get("voided", {"count": 0, "amount": 0})["count"],
                      "lines": events.get("void_line", 0)},
            "refunds": status.get("refunded", {"count": 0, "amount": 0}),
            "overrides": events.get("price_override", 0), "manual_entries": events.get("manual_entry", 0),
            "drawer_opens_no_sale": int(no_sale or 0),
            "expected_cash": expected, "counted_cash": counted_cash,
            "over_short": None if counted_cash is None else counted_cash - expected,
            "top_items": top, "alerts": alerts,
        }
        return report

    def close(self, shift_id: int, counted_cash: int) -> Shift:
        _cash(counted_cash, "the counted cash")
        shift = self.get(shift_id)
        if not shift.is_open:
            raise ValidationError("this shift is already closed")
        at = utc_now()
        report = self.report(shift, counted_cash, until=at)
        with self.db.transaction() as c:
            n = c.execute("UPDATE shifts SET closed_at = ?, counted_cash = ?, expected_cash = ?, report = ?"
                          " WHERE id = ? AND closed_at IS NULL",
                          (at, counted_cash, report["expected_cash"], json.dumps(report), shift_id)).rowcount
            if n != 1:
                raise ValidationError("this shift is already closed")
        return self.get(shift_id)
