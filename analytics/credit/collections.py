"""The collections priority list: who to ask first.

``priority = amount at risk (major units) x risk (score / 100) x age weight`` where the age weight
is ``1 + oldest unpaid days / 30`` (a month-old debt counts double).  Only customers who owe
something are listed, highest priority first.  Equal priorities (to one decimal) are ordered by
the older debt, then the larger balance, then the higher risk score, then the name, and the row
says which rule decided (``tie_break``).
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.credit.history import CustomerHistory
from analytics.credit.payment_date import PaymentPrediction
from analytics.credit.risk import RiskScore
from contracts.money import exponent, format_money

AGE_MONTH_DAYS = 30


@dataclass(frozen=True)
class PriorityRow:
    rank: int
    customer_id: str
    name: str
    balance: int
    currency: str
    risk_score: int
    risk_band: str
    oldest_unpaid_days: int
    priority: float
    predicted_payment_date: str | None
    payment_date_range: str | None
    payment_confidence: str | None
    why: str
    tie_break: str  # "" unless the row ties with its neighbour


def priority_value(balance: int, currency: str, score: int, oldest_days: int) -> float:
    amount = balance / (10 ** exponent(currency))
    return round(amount * (score / 100) * (1 + max(0, oldest_days) / AGE_MONTH_DAYS), 1)


def _order_key(h: CustomerHistory, r: RiskScore, p: float) -> tuple:
    return (-p, -(h.oldest_unpaid_days or 0), -h.balance, -r.score, h.name.lower(), h.customer_id)


def _tie_reason(a: tuple[CustomerHistory, RiskScore], b: tuple[CustomerHistory, RiskScore]) -> str:
    (ha, ra), (hb, rb) = a, b
    if (ha.oldest_unpaid_days or 0) != (hb.oldest_unpaid_days or 0):
        return (f"same priority as {hb.name}: older debt first ({ha.oldest_unpaid_days} vs "
                f"{hb.oldest_unpaid_days} days)")
    if ha.balance != hb.balance:
        return f"same priority and age as {hb.name}: larger balance first"
    if ra.score != rb.score:
        return f"same priority, age and balance as {hb.name}: higher risk first"
    return f"same priority, age, balance and risk as {hb.name}: by name"


def priority_list(histories: list[CustomerHistory], scores: dict[str, RiskScore],
                  predictions: dict[str, PaymentPrediction]) -> list[PriorityRow]:
    owing = [(h, scores[h.customer_id]) for h in histories if h.balance > 0]
    keyed = [(h, r, priority_value(h.balance, h.currency, r.score, h.oldest_unpaid_days or 0)) for h, r in owing]
    keyed.sort(key=lambda x: _order_key(*x))
    rows: list[PriorityRow] = []
    for i, (h, r, p) in enumerate(keyed):
        tie = ""
        if i + 1 < len(keyed) and keyed[i + 1][2] == p:
            tie = _tie_reason((h, r), (keyed[i + 1][0], keyed[i + 1][1]))
        elif i > 0 and keyed[i - 1][2] == p:
            tie = f"same priority as {keyed[i - 1][0].name}, who comes first"
        pred = predictions.get(h.customer_id)
        age = h.oldest_unpaid_days or 0
        why = (f"{format_money(h.balance, h.currency)} owed × risk {r.score} × age weight "
               f"{1 + age / AGE_MONTH_DAYS:.2f} (oldest unpaid {age} days)")
        rows.append(PriorityRow(
            rank=i + 1, customer_id=h.customer_id, name=h.name, balance=h.balance, currency=h.currency,
            risk_score=r.score, risk_band=r.band, oldest_unpaid_days=age, priority=p,
            predicted_payment_date=pred.predicted_date if pred else None,
            payment_date_range=f"{pred.earliest} – {pred.latest}" if pred else None,
            payment_confidence=pred.confidence if pred else None, why=why, tie_break=tie))
    return rows
