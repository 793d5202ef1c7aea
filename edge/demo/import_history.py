"""Write generated (or exported) ``tillsight.tx/1`` or ``/2`` payloads into a store as its sales history,
scored by an anomaly model fitted on that same history, in one transaction.

Credit customers repay on account during that history, through the device's own writer
(:meth:`Customers.record_repayment`), in time order between the sales: each customer settles up on
a rhythm of their own (every 7, 14 or 30 days at 18:00 store time, paying all or half of what was
bought more than :data:`NOT_YET_DUE_DAYS` days before), and pays down first (at least half of what
they owe) when a credit sale would take them over their limit (the till would refuse it otherwise).
So the device's balances are what its sales and repayments add up to, and the hub, which gets the
same sales and ``tillsight.credit/1`` repayments, adds up to the same balances.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from contracts.events import from_payload as event_from_payload
from contracts.money import exponent
from contracts.timestamps import format_utc, parse_utc
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
                        ln.get("confidence"), ln.get("unit_cost")) for ln in p["lines"]],
        payments=payments,
        events=[event_from_payload(e) for e in p.get("events", [])],
        subtotal=p["subtotal"], discount=p["discount"], tax=p["tax"], total=p["total"],
        customer_id=p.get("customer_id"), refund_of=p.get("refund_of"), anomaly=p.get("anomaly"))


NOT_YET_DUE_DAYS = 3  # purchases this recent are not paid off on a settling day
SETTLE_HOUR = time(18, 0)  # store-local time customers come in to pay
RHYTHMS = ((7, 1.0), (14, 1.0), (7, 0.5), (30, 1.0), (14, 0.5))  # (days between settling up, share paid)
ROUND_UNITS = 100  # a part payment is rounded down to this many major units (RD$100)


@dataclass(frozen=True)
class Repayment:
    """A repayment to write during the history (``at`` UTC)."""

    at: datetime
    customer_id: str
    amount: int


@dataclass
class _Account:
    balance: int
    limit: int
    every_days: int
    share: float
    next_settle: datetime
    purchases: list[tuple[datetime, int]]  # recent credit purchases (UTC time, amount)


def _credit_moves(rec: SaleRecord) -> list[tuple[str, int]]:
    """(customer, amount) the sale puts on accounts, as the store applies them (voids move nothing)."""
    if rec.status == "voided":
        return []
    return [(p.customer_id, p.amount) for p in rec.payments if p.method == "credit" and p.customer_id and p.amount]


def plan_repayments(store: Store, records: list[SaleRecord], now: datetime,
                    seed: int = 7) -> list[Repayment | SaleRecord]:
    """``records`` (time order) with the repayments credit customers make between them up to ``now``,
    in the order the store applies them; see the module doc.  Starts from the customers' balances in
    the store."""
    settings = store.settings.get()
    tz = ZoneInfo(settings.timezone)
    unit = ROUND_UNITS * 10 ** exponent(settings.currency)
    rng = random.Random(seed)
    start = parse_utc(records[0].completed_at) if records else now
    accounts: dict[str, _Account] = {}
    for c in sorted(store.customers.list(include_inactive=True), key=lambda c: c.id):
        every, share = rng.choice(RHYTHMS)
        first_day = start.astimezone(tz).date() + timedelta(days=rng.randrange(every))
        first = datetime.combine(first_day, SETTLE_HOUR, tzinfo=tz)
        accounts[c.id] = _Account(c.balance, c.credit_limit, every, share, first, [])
    out: list[Repayment | SaleRecord] = []

    def settle_until(moment: datetime) -> None:
        for cid, acc in accounts.items():
            while acc.next_settle < moment:
                due_before = acc.next_settle - timedelta(days=NOT_YET_DUE_DAYS)
                recent = sum(a for t, a in acc.purchases if t >= due_before)
                due = acc.balance - recent
                pay = due if acc.share >= 1 else min(due, max(unit, int(due * acc.share) // unit * unit))
                if pay > 0:
                    out.append(Repayment(acc.next_settle, cid, pay))
                    acc.balance -= pay
                acc.purchases = [(t, a) for t, a in acc.purchases if t >= due_before]
                acc.next_settle += timedelta(days=acc.every_days)

    for rec in records:
        at = parse_utc(rec.completed_at)
        settle_until(at)
        for cid, amount in _credit_moves(rec):
            acc = accounts.get(cid)
            if acc is None:
                continue
            over = acc.balance + amount - acc.limit
            if amount > 0 and over > 0 and acc.balance > 0:  # pays down (at least half) before buying more
                pay = min(acc.balance, max(over, acc.balance // 2))
                out.append(Repayment(parse_utc(rec.started_at), cid, pay))
                acc.balance -= pay
            acc.balance += amount
            if amount > 0:
                acc.purchases.append((at, amount))
        out.append(rec)
    settle_until(now)
    return out


def import_history(store: Store, payloads: list[dict], now: datetime, score: bool = True) -> int:
    """Import payloads (time order) as sales, with the credit customers' repayments between them,
    as seen at ``now`` (the history's end); returns how many sales were written."""
    settings = store.settings.get()
    flags = [False] * len(payloads)
    if score and payloads:
        scorer = AnomalyScorer(settings.timezone, settings.currency)
        scorer.fit(payloads, now=now)
        results = scorer.score_many(payloads, rolling_contexts(payloads))
        payloads = [{**p, "anomaly": r.to_payload()} for p, r in zip(payloads, results, strict=True)]
        flags = [scorer.is_alert(r) for r in results]
    records = [record_from_payload(p) for p in payloads]
    alert = {rec.tx_id: flag for rec, flag in zip(records, flags, strict=True)}
    steps = plan_repayments(store, records, now)
    with store.db.transaction() as conn:
        for step in steps:
            if isinstance(step, Repayment):
                store.customers.record_repayment(step.customer_id, step.amount, at=format_utc(step.at), conn=conn)
            else:
                # credit limits were checked at the till when these sales happened
                store.sales.record_many([(step, alert[step.tx_id])], enforce_credit_limits=False, conn=conn)
    log.info("imported %d sales (%d alerts) and %d repayments", len(records), sum(flags),
             len(steps) - len(records))
    return len(records)
