"""Recording sales: one atomic write per sale, and reading them back.

:meth:`Sales.record` writes the sale, its lines (each with the product's weighted average cost at that
moment, ``unit_cost``, and its revenue net of discount and tax), payments, events, stock movements, the credit
customer's balance, an alert when the anomaly scorer asked for one, and the outbox rows (the sale,
and a ``tillsight.credit/1`` event with a credit customer's new balance), all in one
``BEGIN IMMEDIATE`` transaction.  A process killed at any instant leaves the whole sale or
none of it; a full or read-only disk raises before anything is visible.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from contracts import ContractError, validate
from contracts import events as sale_events
from contracts.margins import sale_line_revenues
from edge.store.alerts import raise_alert
from edge.store.costs import unit_costs
from edge.store.credit_events import DeviceIdentity, enqueue_credit_event
from edge.store.database import StoreDB
from edge.store.errors import NotFoundError, ValidationError
from edge.store.outbox import enqueue
from edge.store.records import (
    EVENT_TYPES,
    LINE_SOURCES,
    PAYMENT_METHODS,
    SALE_STATUSES,
    TX_SCHEMA,
    Payment,
    SaleEvent,
    SaleLine,
    SalePromotion,
    SaleRecord,
)
from edge.store.stock import apply_movement
from i18n import gettext as _

log = logging.getLogger(__name__)

FaultHook = Callable[[str], None]  # called with "written" (before COMMIT) and "committed"


def receipt_number(device_id: str, seq: int) -> str:
    return f"{device_id.upper()}-{seq:06d}"


def check_sale(rec: SaleRecord) -> None:
    """The arithmetic and the vocabulary of a sale, before anything is written."""
    if rec.status not in SALE_STATUSES:
        raise ValidationError(f"unknown sale status {rec.status!r}")
    sign = -1 if rec.status == "refunded" else 1
    if rec.status != "voided" and not rec.lines:
        raise ValidationError("a sale needs at least one line")
    for i, line in enumerate(rec.lines):
        if line.source not in LINE_SOURCES:
            raise ValidationError(f"line {i + 1}: unknown source {line.source!r}")
        if line.qty == 0 or (line.qty * sign < 0 and rec.status != "voided"):
            raise ValidationError(f"line {i + 1}: quantity {line.qty} is not allowed here")
        if line.unit_price < 0 or line.line_total != line.qty * line.unit_price:
            raise ValidationError(f"line {i + 1}: line total does not match quantity x price")
    if rec.subtotal != sum(line.line_total for line in rec.lines):
        raise ValidationError("subtotal does not match the lines")
    if rec.total != rec.subtotal - rec.discount:
        raise ValidationError("total does not match subtotal minus discount")
    if rec.discount * sign < 0 or abs(rec.discount) > abs(rec.subtotal):
        raise ValidationError("discount must be between zero and the subtotal")
    for promo in rec.promotions:  # the lines an offer names, and their parts of its saving
        if promo.lines and (sum(d for _n, _q, d in promo.lines) != promo.discount
                            or any(not 1 <= n <= len(rec.lines) for n, _q, _d in promo.lines)):
            raise ValidationError(f"offer {promo.promotion_id}: its lines do not match the sale")
    for p in rec.payments:
        if p.method not in PAYMENT_METHODS:
            raise ValidationError(f"unknown payment method {p.method!r}")
        if p.change < 0:
            raise ValidationError("change cannot be negative")
    if rec.status != "voided" and sum(p.amount for p in rec.payments) != rec.total:
        raise ValidationError("payments do not add up to the total")
    for e in rec.events:
        if e.type not in EVENT_TYPES:
            raise ValidationError(f"unknown event type {e.type!r}")


def costs_at_sale(conn: sqlite3.Connection, rec: SaleRecord) -> SaleRecord:
    """The sale with each line's ``unit_cost`` as of now, inside the write transaction: the product's
    weighted average cost; on a refund, the cost its original sale recorded for that SKU (so the refund
    takes back the profit the sale made), or the current cost when the device has no such line."""
    costs = unit_costs(conn, [ln.sku for ln in rec.lines])
    if rec.status == "refunded" and rec.refund_of:
        for sku, cost in conn.execute("SELECT sku, unit_cost FROM sale_lines WHERE tx_id = ? ORDER BY line_no DESC",
                                      (rec.refund_of,)):
            if sku in costs:
                costs[sku] = cost
    return replace(rec, lines=[replace(ln, unit_cost=costs.get(ln.sku)) for ln in rec.lines])


class Sales:
    def __init__(self, db: StoreDB, fault_hook: FaultHook | None = None) -> None:
        self.db = db
        self.fault_hook = fault_hook  # fault-injection point for the crash tests

    # -- writing -----------------------------------------------------------------------------
    def record(self, rec: SaleRecord, raise_alert_for: bool = False) -> SaleRecord:
        """Write the sale atomically; returns it with ``seq``, ``receipt_no`` and each line's ``unit_cost``
        (read inside the write, see :func:`costs_at_sale`).

        Recording the same ``tx_id`` twice returns the stored sale (a double tap is harmless).
        """
        existing = self.find(rec.tx_id)
        if existing is not None:
            return existing
        check_sale(rec)
        with self.db.transaction() as conn:
            rec = self._write(conn, costs_at_sale(conn, rec), raise_alert_for)
            if self.fault_hook:
                self.fault_hook("written")
        if self.fault_hook:
            self.fault_hook("committed")
        log.info("sale %s recorded: %s %s total %s", rec.receipt_no, rec.status, rec.tx_id, rec.total)
        return rec

    def record_many(self, records: list[tuple[SaleRecord, bool]], enforce_credit_limits: bool = True,
                    conn: sqlite3.Connection | None = None) -> int:
        """Import many sales (with their alert flags) in one transaction: all or none (inside the
        caller's transaction ``conn`` when given).  Their lines keep the ``unit_cost`` they carry (history
        from another device, or from before costs, says what it cost then, or nothing).

        ``enforce_credit_limits=False`` is for importing history, whose credit sales were
        approved when they happened."""
        for rec, _alert in records:
            check_sale(rec)
        if conn is not None:
            for rec, alert in records:
                self._write(conn, rec, alert, enforce_credit_limits)
            return len(records)
        with self.db.transaction() as c:
            for rec, alert in records:
                self._write(c, rec, alert, enforce_credit_limits)
        return len(records)

    def _write(self, conn: sqlite3.Connection, rec: SaleRecord, raise_alert_for: bool,
               enforce_credit_limits: bool = True) -> SaleRecord:
        seq = self.db.next_counter(conn, "tx_seq")
        rec = replace(rec, seq=seq, receipt_no=receipt_number(rec.device_id, seq))
        payload = rec.to_payload()
        try:
            validate(TX_SCHEMA, payload)
        except ContractError as exc:
            raise ValidationError(str(exc)) from exc
        self._insert(conn, rec, payload, enforce_credit_limits)
        if raise_alert_for and rec.anomaly:
            raise_alert(conn, rec.store_id, rec.device_id, "anomaly", rec.anomaly["score"],
                        list(rec.anomaly.get("reasons", [])), rec.completed_at, tx_id=rec.tx_id,
                        model=rec.anomaly.get("model", ""))
        enqueue(conn, "tx", rec.tx_id, payload, rec.completed_at)
        return rec

    def _insert(self, conn: sqlite3.Connection, rec: SaleRecord, payload: dict[str, Any],
                enforce_credit_limits: bool = True) -> None:
        main = rec.payment_payload()
        revenues = sale_line_revenues(payload)  # net of the line's offers, the rest of the discount and tax
        conn.execute(
            "INSERT INTO sales (tx_id, seq, receipt_no, status, cashier_id, shift_id, customer_id, refund_of,"
            " started_at, completed_at, subtotal, discount, tax, total, payment_method, anomaly_score, payload)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rec.tx_id, rec.seq, rec.receipt_no, rec.status, rec.cashier_id, rec.shift_id, rec.customer_id,
             rec.refund_of, rec.started_at, rec.completed_at, rec.subtotal, rec.discount, rec.tax, rec.total,
             main["method"] if main else None, rec.anomaly["score"] if rec.anomaly else None,
             json.dumps(payload, separators=(",", ":"), ensure_ascii=False)))
        conn.executemany(
            "INSERT INTO sale_lines (tx_id, line_no, sku, name, qty, unit_price, line_total, source, confidence,"
            " unit_cost, revenue) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(rec.tx_id, i + 1, ln.sku, ln.name, ln.qty, ln.unit_price, ln.line_total, ln.source, ln.confidence,
              ln.unit_cost, revenues[i])
             for i, ln in enumerate(rec.lines)])
        conn.executemany(
            "INSERT INTO payments (tx_id, method, amount, tendered, change, customer_id) VALUES (?, ?, ?, ?, ?, ?)",
            [(rec.tx_id, p.method, p.amount, p.tendered, p.change, p.customer_id) for p in rec.payments])
        conn.executemany(
            "INSERT INTO events (tx_id, type, at, user_id, detail) VALUES (?, ?, ?, ?, ?)",
            [(rec.tx_id, e.type, e.at, e.by, json.dumps(e.detail())) for e in rec.events])
        if rec.status == "voided":
            return
        reason = "refund" if rec.status == "refunded" else "sale"
        for ln in rec.lines:
            if conn.execute("SELECT 1 FROM products WHERE sku = ?", (ln.sku,)).fetchone():
                apply_movement(conn, ln.sku, -ln.qty, reason, rec.completed_at, tx_id=rec.tx_id,
                               user_id=rec.cashier_id)
        for p in rec.payments:
            if p.method != "credit":
                continue
            if not p.customer_id:
                raise ValidationError(_("a credit payment needs a customer"))
            row = conn.execute("SELECT credit_limit, balance, active FROM customers WHERE id = ?",
                               (p.customer_id,)).fetchone()
            if row is None or not row["active"]:
                raise ValidationError(_("no active customer %(customer)s", customer=repr(p.customer_id)))
            if enforce_credit_limits and p.amount > 0 and row["balance"] + p.amount > row["credit_limit"]:
                raise ValidationError(_("this sale would take the customer over their credit limit"))
            conn.execute("UPDATE customers SET balance = balance + ? WHERE id = ?", (p.amount, p.customer_id))
            if p.amount:  # the hub's copy of the customer follows the new balance (same transaction), as of the sale
                enqueue_credit_event(conn, DeviceIdentity(rec.store_id, rec.device_id), p.customer_id,
                                     rec.completed_at)

    def record_event(self, event: SaleEvent) -> None:
        """An event outside any sale (a drawer opened with no sale)."""
        if event.type not in EVENT_TYPES:
            raise ValidationError(f"unknown event type {event.type!r}")
        with self.db.transaction() as conn:
            conn.execute("INSERT INTO events (tx_id, type, at, user_id, detail) VALUES (NULL, ?, ?, ?, ?)",
                         (event.type, event.at, event.by, json.dumps(event.detail())))

    # -- reading -----------------------------------------------------------------------------
    def _from_row(self, row: dict[str, Any]) -> SaleRecord:
        p = json.loads(row["payload"])
        lines = [SaleLine(sku=ln["sku"], name=ln["name"], qty=ln["qty"], unit_price=ln["unit_price"],
                          line_total=ln["line_total"], source=ln["source"], confidence=ln.get("confidence"),
                          unit_cost=ln.get("unit_cost"))  # absent in tillsight.tx/1 payloads: not known
                 for ln in p["lines"]]
        pays = [Payment(method=r["method"], amount=r["amount"], tendered=r["tendered"], change=r["change"],
                        customer_id=r["customer_id"])
                for r in self.db.query("SELECT * FROM payments WHERE tx_id = ? ORDER BY id", (row["tx_id"],))]
        events = [sale_events.from_payload(e) for e in p["events"]]
        return SaleRecord(tx_id=p["tx_id"], status=p["status"], store_id=p["store_id"], device_id=p["device_id"],
                          cashier_id=p["cashier_id"], currency=p["currency"], started_at=p["started_at"],
                          completed_at=p["completed_at"], lines=lines, payments=pays, events=events,
                          subtotal=p["subtotal"], discount=p["discount"], tax=p["tax"], total=p["total"],
                          customer_id=p["customer_id"], refund_of=p.get("refund_of"), shift_id=row["shift_id"],
                          anomaly=p["anomaly"], seq=p["seq"], receipt_no=row["receipt_no"],
                          promotions=[SalePromotion.from_payload(x) for x in p.get("promotions") or []])

    def find(self, tx_id: str) -> SaleRecord | None:
        row = self.db.query_one("SELECT * FROM sales WHERE tx_id = ?", (tx_id,))
        return self._from_row(row) if row else None

    def get(self, tx_id: str) -> SaleRecord:
        rec = self.find(tx_id)
        if rec is None:
            raise NotFoundError(_("no sale %(sale)s", sale=repr(tx_id)))
        return rec

    def by_receipt(self, receipt_no: str) -> SaleRecord:
        row = self.db.query_one("SELECT * FROM sales WHERE receipt_no = ?", ((receipt_no or "").strip().upper(),))
        if row is None:
            raise NotFoundError(_("no sale with receipt number %(receipt)s", receipt=repr(receipt_no)))
        return self._from_row(row)

    def refunded_qty(self, tx_id: str) -> dict[str, int]:
        """How much of each SKU of a sale has been refunded already (positive numbers)."""
        rows = self.db.query("SELECT l.sku, -sum(l.qty) AS q FROM sales s JOIN sale_lines l ON l.tx_id = s.tx_id"
                             " WHERE s.refund_of = ? AND s.status = 'refunded' GROUP BY l.sku", (tx_id,))
        return {r["sku"]: int(r["q"]) for r in rows}

    def refunds_of(self, tx_id: str) -> list[dict[str, Any]]:
        """The refunds made against a sale, oldest first: receipt number, total (negative) and when."""
        return self.db.query("SELECT receipt_no, total, completed_at FROM sales WHERE refund_of = ?"
                             " AND status = 'refunded' ORDER BY seq", (tx_id,))

    def cashier_payloads(self, cashier_id: str, limit: int) -> list[dict[str, Any]]:
        """A cashier's newest sale payloads, newest first (the anomaly scorer's context)."""
        rows = self.db.query("SELECT payload FROM sales WHERE cashier_id = ? ORDER BY completed_at DESC,"
                             " seq DESC LIMIT ?", (cashier_id, limit))
        return [json.loads(r["payload"]) for r in rows]

    def drawer_opens_without_sale(self, user_id: str, after: str, until: str) -> int:
        """How often ``user_id`` opened the drawer outside any sale in (``after``, ``until``]."""
        return int(self.db.scalar("SELECT count(*) FROM events WHERE tx_id IS NULL AND type = 'drawer_open'"
                                  " AND user_id = ? AND at > ? AND at <= ?", (user_id, after, until)) or 0)

    def refund_state(self, sale: SaleRecord) -> dict[str, Any] | None:
        """How much of a completed sale has been refunded since: None when nothing, else ``state``
        (``partly`` / ``fully``), the refund receipts, units and amount (positive) given back."""
        if sale.status != "completed":
            return None
        rows = self.db.query("SELECT receipt_no, total FROM sales WHERE refund_of = ? AND status = 'refunded'"
                             " ORDER BY seq", (sale.tx_id,))
        if not rows:
            return None
        sold = sum(line.qty for line in sale.lines)
        refunded = sum(self.refunded_qty(sale.tx_id).values())
        return {"state": "fully" if refunded >= sold else "partly", "receipts": [r["receipt_no"] for r in rows],
                "items": refunded, "of_items": sold, "amount": -sum(int(r["total"]) for r in rows)}

    def recent(self, limit: int = 50, since: str | None = None, until: str | None = None,
               cashier_id: str | None = None) -> list[dict[str, Any]]:
        """Summary rows (no lines) for lists, newest first."""
        clauses, params = [], []
        for clause, value in (("completed_at >= ?", since), ("completed_at < ?", until),
                              ("cashier_id = ?", cashier_id)):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return self.db.query(
            "SELECT tx_id, seq, receipt_no, status, cashier_id, customer_id, started_at, completed_at, subtotal,"
            f" discount, tax, total, payment_method, anomaly_score, refund_of FROM sales {where}"
            " ORDER BY completed_at DESC, seq DESC LIMIT ?", (*params, limit))

    def last_seq(self) -> int:
        return int(self.db.scalar("SELECT value FROM counters WHERE name = 'tx_seq'") or 0)

    def history_payloads(self, since: str | None = None, limit: int = 20000) -> list[dict[str, Any]]:
        """Payloads in time order (the anomaly model's training data)."""
        where, params = ("WHERE completed_at >= ?", (since, limit)) if since else ("", (limit,))
        rows = self.db.query(f"SELECT payload FROM (SELECT payload, completed_at, seq FROM sales {where}"
                             " ORDER BY completed_at DESC, seq DESC LIMIT ?) ORDER BY completed_at, seq", params)
        return [json.loads(r["payload"]) for r in rows]


