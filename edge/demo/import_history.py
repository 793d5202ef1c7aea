"""Write generated (or exported) ``tillsight.tx/1`` payloads into a store as its sales history,
scored by an anomaly model fitted on that same history, in one transaction."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from contracts.events import from_payload as event_from_payload
from contracts.timestamps import format_utc
from edge.anomaly.features import rolling_contexts
from edge.anomaly.scorer import AnomalyScorer
from edge.store import Store
from edge.store.records import Payment, SaleLine, SaleRecord

log = logging.getLogger(__name__)


def record_from_payload(p: dict) -> SaleRecord:
    payment = p.get("payment")
    payments: list[Payment] = []
    if payment:
        parts = payment.get("parts") or [{"method": payment["method"], "amount": p["total"]}]
        for part in parts:
            cash = part["method"] == "cash"
            tendered = payment["tendered"] if (cash and len(parts) == 1) else part["amount"]
            payments.append(Payment(part["method"], part["amount"], tendered,
                                    payment.get("change", 0) if cash else 0,
                                    p.get("customer_id") if part["method"] == "credit" else None))
    return SaleRecord(
        tx_id=p["tx_id"], status=p["status"], store_id=p["store_id"], device_id=p["device_id"],
        cashier_id=p["cashier_id"], currency=p["currency"], started_at=p["started_at"],
        completed_at=p["completed_at"],
        lines=[SaleLine(ln["sku"], ln["name"], ln["qty"], ln["unit_price"], ln["line_total"], ln["source"],
                        ln.get("confidence")) for ln in p["lines"]],
        payments=payments,
        events=[event_from_payload(e) for e in p.get("events", [])],
        subtotal=p["subtotal"], discount=p["discount"], tax=p["tax"], total=p["total"],
        customer_id=p.get("customer_id"), refund_of=p.get("refund_of"), anomaly=p.get("anomaly"))


def import_history(store: Store, payloads: list[dict], now: datetime, score: bool = True) -> int:
    """Import payloads (time order) as sales, as seen at ``now`` (the history's end); returns how
    many were written."""
    settings = store.settings.get()
    flags = [False] * len(payloads)
    if score and payloads:
        scorer = AnomalyScorer(settings.timezone, settings.currency)
        scorer.fit(payloads, now=now)
        results = scorer.score_many(payloads, rolling_contexts(payloads))
        payloads = [{**p, "anomaly": r.to_payload()} for p, r in zip(payloads, results, strict=True)]
        flags = [scorer.is_alert(r) for r in results]
    records = [(record_from_payload(p), f) for p, f in zip(payloads, flags, strict=True)]
    # credit limits were checked at the till when these sales happened; balances are settled below
    n = store.sales.record_many(records, enforce_credit_limits=False)
    _settle_credit(store, now)
    log.info("imported %d sales (%d alerts)", n, sum(flags))
    return n


def _settle_credit(store: Store, now: datetime) -> None:
    """Customers repay on account: keep as owed only the 10 days of their credit purchases before
    ``now``, capped at their limit."""
    since = format_utc(now - timedelta(days=10))
    with store.db.transaction() as conn:
        rows = conn.execute("SELECT s.customer_id, sum(p.amount) FROM sales s JOIN payments p ON p.tx_id = s.tx_id"
                            " WHERE p.method = 'credit' AND s.completed_at >= ? GROUP BY s.customer_id",
                            (since,)).fetchall()
        conn.execute("UPDATE customers SET balance = 0")
        for cid, owed in rows:
            conn.execute("UPDATE customers SET balance = min(credit_limit, ?) WHERE id = ?", (int(owed or 0), cid))
