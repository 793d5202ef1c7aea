"""One store's credit picture in one call: histories, risk scores, predicted payment dates, the
collections priority list and the headline figures (what the hub page, the CLI and the device
reminders show)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from analytics.credit.collections import PriorityRow, priority_list
from analytics.credit.data import CreditStore
from analytics.credit.history import CustomerHistory, load_histories
from analytics.credit.payment_date import PaymentPrediction, predict_all
from analytics.credit.risk import RiskScore, score_all

OVERDUE_DAYS = 30  # an unpaid amount older than this counts as overdue


@dataclass(frozen=True)
class CreditKpis:
    currency: str
    total_owed: int
    overdue: int  # unpaid amounts older than OVERDUE_DAYS
    customers_with_balance: int
    customers: int
    over_limit: int
    high_risk: int


@dataclass(frozen=True)
class CustomerRow:
    customer_id: str
    name: str
    phone: str | None
    active: bool
    balance: int
    credit_limit: int
    utilisation: float | None
    currency: str
    risk_score: int
    risk_band: str
    little_history: bool
    risk_factors: list[str]
    positive_factors: list[str]
    notes: list[str]
    oldest_unpaid_days: int | None
    avg_days_to_repay: float | None
    last_repayment: str | None
    repayments: int
    purchases: int
    cadence: str
    trend: str
    avg_basket: int
    predicted_payment_date: str | None
    payment_confidence: str | None


@dataclass
class CreditReport:
    store: CreditStore
    as_of: str  # store-local date
    kpis: CreditKpis
    histories: dict[str, CustomerHistory]
    scores: dict[str, RiskScore]
    predictions: dict[str, PaymentPrediction]
    priority: list[PriorityRow]
    customers: list[CustomerRow]


def _kpis(store: CreditStore, histories: list[CustomerHistory], scores: dict[str, RiskScore]) -> CreditKpis:
    owing = [h for h in histories if h.balance > 0]
    overdue = sum(i.outstanding for h in owing for i in h.open_items if i.age_days > OVERDUE_DAYS)
    return CreditKpis(store.currency, sum(h.balance for h in owing), overdue, len(owing), len(histories),
                      sum(1 for h in owing if h.credit_limit > 0 and h.balance > h.credit_limit),
                      sum(1 for h in owing if scores[h.customer_id].band == "high"))


def _row(h: CustomerHistory, r: RiskScore, p: PaymentPrediction | None) -> CustomerRow:
    return CustomerRow(
        customer_id=h.customer_id, name=h.name, phone=h.phone, active=h.active, balance=h.balance,
        credit_limit=h.credit_limit, utilisation=h.utilisation, currency=h.currency, risk_score=r.score,
        risk_band=r.band, little_history=r.little_history, risk_factors=r.risk_factors,
        positive_factors=r.positive_factors, notes=r.notes, oldest_unpaid_days=h.oldest_unpaid_days,
        avg_days_to_repay=h.avg_days_to_repay, last_repayment=h.repayments.last_day, repayments=h.repayments.count,
        purchases=h.purchases.purchases, cadence=h.purchases.cadence, trend=h.purchases.trend,
        avg_basket=h.purchases.avg_basket, predicted_payment_date=p.predicted_date if p else None,
        payment_confidence=p.confidence if p else None)


def credit_report(engine: Engine, store_id: str, as_of: datetime,
                  customer_id: str | None = None) -> CreditReport:
    """Everything about the store's credit customers at ``as_of`` (aware; the caller reads the clock).
    With ``customer_id`` only that customer (the store rhythm then comes from them alone: use the
    whole report for predicted dates)."""
    credit, histories = load_histories(engine, store_id, as_of, customer_id=customer_id)
    scores = score_all(histories)
    predictions = predict_all(histories)
    rows = [_row(h, scores[h.customer_id], predictions.get(h.customer_id)) for h in histories]
    rows.sort(key=lambda r: (-r.balance, -r.risk_score, r.name.lower()))
    today = as_of.astimezone(credit.store.zone).date().isoformat()
    return CreditReport(store=credit.store, as_of=today, kpis=_kpis(credit.store, histories, scores),
                        histories={h.customer_id: h for h in histories}, scores=scores, predictions=predictions,
                        priority=priority_list(histories, scores, predictions), customers=rows)
