"""Each credit customer's history: the ledger of credit sales, refunds and repayments (store-local
dates), the open balance, FIFO ageing of what is unpaid, days-to-repay of past purchases,
repayment regularity, purchase pattern and use of the credit limit.

FIFO: repayments pay the oldest unpaid purchase first.  A refund of a credit sale takes the
refunded amount off that sale (it was never owed); what is left of a refund pays like a
repayment.  A purchase counts as repaid on the day its last unit of money was allocated, so its
days-to-repay is that day minus the purchase day.

The open balance is the device's: the device keeps the customer's balance and enforces the
limit with it.  When the device's balance (at the time it reported it) differs from what the
hub's own records add up to, the difference is an "earlier balance" (debt from before the hub's
records, aged from the first record) or an "unrecorded repayment" (applied when it was
reported), so the open items always add up to the open balance.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from sqlalchemy import Engine

from analytics.credit.data import CustomerData, StoreCredit, load_credit

TREND_WINDOW_DAYS = 56  # purchase trend: the last 8 weeks against the 8 weeks before
STOPPED_MIN_DAYS = 45  # no purchase for this long (and 3 usual gaps) counts as stopped


@dataclass(frozen=True)
class LedgerEntry:
    day: str  # store-local date
    at: str  # UTC ISO
    kind: str  # sale | refund | repayment | earlier_balance | unrecorded_repayment
    ref: str  # tx_id / event_id
    amount: int  # + adds to what is owed, - takes it off
    balance: int  # running balance after the entry


@dataclass(frozen=True)
class OpenItem:
    ref: str
    day: str
    amount: int  # what the purchase put on the account (less refunds)
    outstanding: int
    age_days: int
    earlier: bool = False  # debt from before the hub's records: at least this old


@dataclass(frozen=True)
class PaidItem:
    ref: str
    day: str
    amount: int
    paid_day: str
    days_to_repay: int


@dataclass(frozen=True)
class PurchasePattern:
    purchases: int  # completed sales naming the customer (credit or not)
    credit_purchases: int
    first_day: str | None
    last_day: str | None
    months: float  # from the first purchase to today
    per_week: float
    avg_basket: int  # mean total of a purchase, minor units
    avg_items: float
    days_since_last: int | None
    cadence: str  # daily | several times a week | weekly | every two weeks | monthly | now and then | once
    trend: str  # new | growing | steady | falling | stopped
    trend_ratio: float | None  # spend in the last 8 weeks / the 8 weeks before


@dataclass(frozen=True)
class RepaymentPattern:
    count: int
    total: int
    last_day: str | None
    days_since_last: int | None
    median_interval_days: float | None
    interval_cv: float | None  # spread of the gaps between repayments (std / mean)
    regularity: str  # regular | fairly regular | irregular | too few
    intervals: tuple[int, ...] = ()


@dataclass(frozen=True)
class CustomerHistory:
    customer_id: str
    name: str
    phone: str | None
    active: bool
    credit_limit: int
    currency: str
    as_of: str  # store-local date the figures describe
    balance: int  # open balance (the device's, see the module doc)
    ledger_balance: int  # what the hub's own records add up to
    reported_balance: int | None
    ledger: tuple[LedgerEntry, ...]
    open_items: tuple[OpenItem, ...]
    paid_items: tuple[PaidItem, ...]
    oldest_unpaid_day: str | None
    oldest_unpaid_days: int | None
    avg_days_to_repay: float | None
    median_days_to_repay: float | None
    utilisation: float | None  # balance / limit (None without a limit)
    first_credit_day: str | None
    purchases: PurchasePattern
    repayments: RepaymentPattern

    @property
    def credit_sales(self) -> int:
        return self.purchases.credit_purchases

    @property
    def tenure_days(self) -> int:
        first = [d for d in (self.first_credit_day, self.purchases.first_day) if d]
        if not first:
            return 0
        return (date.fromisoformat(self.as_of) - date.fromisoformat(min(first))).days


@dataclass
class _Lot:
    ref: str
    day: date
    amount: int
    outstanding: int
    earlier: bool = False


@dataclass
class _Fifo:
    lots: list[_Lot] = field(default_factory=list)
    pool: int = 0  # paid ahead (more repaid than owed)
    paid: list[PaidItem] = field(default_factory=list)

    def pay(self, amount: int, day: date, count_as_repayment: bool = True) -> None:
        for lot in self.lots:
            if amount <= 0:
                break
            if lot.outstanding <= 0:
                continue
            take = min(lot.outstanding, amount)
            lot.outstanding -= take
            amount -= take
            if lot.outstanding == 0 and not lot.earlier and count_as_repayment:
                self.paid.append(PaidItem(lot.ref, lot.day.isoformat(), lot.amount, day.isoformat(),
                                          (day - lot.day).days))
        self.pool += max(0, amount)

    def add(self, lot: _Lot, day: date) -> None:
        self.lots.append(lot)
        if self.pool:
            use, self.pool = self.pool, 0
            self.pay(use, day)

    def refund(self, amount: int, refund_of: str | None, day: date) -> None:
        lot = next((x for x in self.lots if refund_of and x.ref == refund_of and x.outstanding > 0), None)
        if lot is not None:
            take = min(lot.outstanding, amount)
            lot.amount -= take
            lot.outstanding -= take
            amount -= take
        if amount > 0:
            self.pay(amount, day, count_as_repayment=False)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _regularity(cv: float | None, n: int) -> str:
    if cv is None or n < 2:
        return "too few"
    if cv <= 0.5:
        return "regular"
    if cv <= 1.0:
        return "fairly regular"
    return "irregular"


def _cadence(gaps: list[int], n: int) -> str:
    if n <= 1:
        return "once" if n == 1 else "never"
    median = statistics.median(gaps) if gaps else 0
    if median <= 1.5:
        return "daily"
    if median <= 4:
        return "several times a week"
    if median <= 9:
        return "weekly"
    if median <= 18:
        return "every two weeks"
    if median <= 40:
        return "monthly"
    return "now and then"


def purchase_pattern(data: CustomerData, today: date) -> PurchasePattern:
    done = [s for s in data.sales if s.status == "completed" and s.day <= today]
    credit = [s for s in done if s.credit > 0]
    if not done:
        return PurchasePattern(0, 0, None, None, 0.0, 0.0, 0, 0.0, None, "never", "new", None)
    days = sorted({s.day for s in done})
    first, last = days[0], days[-1]
    span = max((today - first).days, 1)
    gaps = [(b - a).days for a, b in pairwise(days)]
    cadence = _cadence(gaps, len(days))
    recent_from = today - timedelta(days=TREND_WINDOW_DAYS)
    prev_from = recent_from - timedelta(days=TREND_WINDOW_DAYS)
    recent = sum(s.total for s in done if s.day > recent_from)
    previous = sum(s.total for s in done if prev_from < s.day <= recent_from)
    since_last = (today - last).days
    usual_gap = statistics.median(gaps) if gaps else 0
    ratio = round(recent / previous, 2) if previous > 0 else None
    if since_last > max(STOPPED_MIN_DAYS, 3 * usual_gap):
        trend = "stopped"
    elif (today - first).days < TREND_WINDOW_DAYS + 14 or previous <= 0:
        trend = "new" if (today - first).days < TREND_WINDOW_DAYS + 14 else "growing"
    elif ratio is not None and ratio >= 1.25:
        trend = "growing"
    elif ratio is not None and ratio <= 0.5:
        trend = "falling"
    else:
        trend = "steady"
    return PurchasePattern(
        purchases=len(done), credit_purchases=len(credit), first_day=first.isoformat(), last_day=last.isoformat(),
        months=round(span / 30.44, 1), per_week=round(len(done) / max(span / 7, 1), 2),
        avg_basket=round(sum(s.total for s in done) / len(done)),
        avg_items=round(sum(s.items for s in done) / len(done), 1),
        days_since_last=since_last, cadence=cadence, trend=trend, trend_ratio=ratio)


def repayment_pattern(data: CustomerData, today: date) -> RepaymentPattern:
    reps = [r for r in data.repayments if r.day <= today]
    if not reps:
        return RepaymentPattern(0, 0, None, None, None, None, "too few")
    days = sorted({r.day for r in reps})
    intervals = tuple((b - a).days for a, b in pairwise(days))
    median = float(statistics.median(intervals)) if intervals else None
    cv = None
    if len(intervals) >= 2:
        mean = statistics.fmean(intervals)
        cv = round(statistics.pstdev(intervals) / mean, 2) if mean > 0 else None
    return RepaymentPattern(len(reps), sum(r.amount for r in reps), days[-1].isoformat(), (today - days[-1]).days,
                            median, cv, _regularity(cv, len(intervals)), intervals)


def customer_history(data: CustomerData, store: StoreCredit, as_of: datetime) -> CustomerHistory:
    tz = store.store.zone
    today = as_of.astimezone(tz).date()
    state = data.state
    # (time, order, kind, ref, signed amount, refund_of, day); sales before repayments at the same second
    events: list[tuple[datetime, int, str, str, int, str | None, date]] = []
    for s in data.sales:
        if s.credit > 0:
            events.append((s.at, 0, "sale", s.tx_id, s.credit, None, s.day))
        elif s.credit < 0:
            events.append((s.at, 1, "refund", s.tx_id, s.credit, s.refund_of, s.day))
    for r in data.repayments:
        events.append((r.at, 2, "repayment", r.event_id, -r.amount, None, r.day))
    events = [e for e in events if e[0] <= as_of]
    events.sort(key=lambda e: (e[0], e[1], e[3]))
    ledger_total = sum(e[4] for e in events)
    opening = 0
    if state.balance is not None and state.updated_at is not None and state.updated_at <= as_of:
        known_then = sum(e[4] for e in events if e[0] <= state.updated_at)
        opening = state.balance - known_then
        if opening < 0:
            events.append((state.updated_at, 3, "unrecorded_repayment", "device-balance", opening, None,
                           state.updated_at.astimezone(tz).date()))
            events.sort(key=lambda e: (e[0], e[1], e[3]))
    fifo = _Fifo()
    ledger: list[LedgerEntry] = []
    running = 0
    if opening > 0:
        candidates = [m for m in (events[0][0] if events else None, state.updated_at) if m is not None]
        first_at = min(candidates) if candidates else as_of
        first_day = first_at.astimezone(tz).date()
        fifo.add(_Lot("earlier-balance", first_day, opening, opening, earlier=True), first_day)
        running = opening
        ledger.append(LedgerEntry(first_day.isoformat(), _iso(first_at), "earlier_balance", "earlier-balance",
                                  opening, running))
    for at, _, kind, ref, amount, refund_of, day in events:
        if kind == "sale":
            fifo.add(_Lot(ref, day, amount, amount), day)
        elif kind == "refund":
            fifo.refund(-amount, refund_of, day)
        else:
            fifo.pay(-amount, day, count_as_repayment=(kind == "repayment"))
        running += amount
        ledger.append(LedgerEntry(day.isoformat(), _iso(at), kind, ref, amount, running))
    balance = running
    open_items = tuple(OpenItem(lot.ref, lot.day.isoformat(), lot.amount, lot.outstanding, (today - lot.day).days,
                                lot.earlier)
                       for lot in fifo.lots if lot.outstanding > 0)
    oldest = open_items[0] if open_items else None
    paid = tuple(fifo.paid)
    dtr = [p.days_to_repay for p in paid]
    credit_days = [e[6] for e in events if e[2] == "sale"]
    return CustomerHistory(
        customer_id=state.customer_id, name=state.name, phone=state.phone, active=state.active,
        credit_limit=state.credit_limit, currency=store.store.currency, as_of=today.isoformat(),
        balance=balance, ledger_balance=ledger_total, reported_balance=state.balance,
        ledger=tuple(ledger), open_items=open_items, paid_items=paid,
        oldest_unpaid_day=oldest.day if oldest else None, oldest_unpaid_days=oldest.age_days if oldest else None,
        avg_days_to_repay=round(statistics.fmean(dtr), 1) if dtr else None,
        median_days_to_repay=float(statistics.median(dtr)) if dtr else None,
        utilisation=round(balance / state.credit_limit, 3) if state.credit_limit > 0 else None,
        first_credit_day=min(credit_days).isoformat() if credit_days else (
            ledger[0].day if ledger and ledger[0].kind == "earlier_balance" else None),
        purchases=purchase_pattern(data, today), repayments=repayment_pattern(data, today))


def store_histories(credit: StoreCredit, as_of: datetime) -> list[CustomerHistory]:
    return [customer_history(data, credit, as_of) for _, data in sorted(credit.customers.items())]


def load_histories(engine: Engine, store_id: str, as_of: datetime,
                   customer_id: str | None = None) -> tuple[StoreCredit, list[CustomerHistory]]:
    """The store's credit data and every customer's history at ``as_of`` (aware; the caller reads the clock)."""
    credit = load_credit(engine, store_id, customer_id=customer_id, until=as_of)
    return credit, store_histories(credit, as_of)
