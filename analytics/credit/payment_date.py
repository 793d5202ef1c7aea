"""A predicted payment date for each open balance: the store-local day the customer's next
repayment is expected, with a range and a confidence.

* The customer's own rhythm (3 or more repayments on different days): the next repayment comes
  a typical gap (the median of their gaps between repayments) after the last one; the range is
  the 25th..75th percentile of their gaps.  Confidence is ``high`` with 6+ gaps that vary little
  (spread std/mean <= 0.5), else ``medium``.
* Otherwise the store's rhythm: the oldest unpaid purchase is expected to be repaid after the
  store's typical days-to-repay (median over every purchase repaid in the store; range 25th..75th
  percentile), confidence ``low``.  With no repaid purchase in the store yet: 30 days
  (``DEFAULT_DAYS``), confidence ``low``, range 14..60 days.
* A date that has already passed (the customer is late against the rhythm): when late by less
  than one typical gap, the payment is expected soon (today + half the range's width, at least one
  day) and the confidence drops one step; when later than that, not before another typical gap
  from today, with ``low`` confidence.  ``late_days`` says by how much.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date, timedelta

from analytics.credit.history import CustomerHistory

DEFAULT_DAYS = 30
DEFAULT_RANGE = (14, 60)
MIN_GAPS = 2  # 3 repayments


@dataclass(frozen=True)
class StoreRhythm:
    days_to_repay: float | None  # median over the store's repaid purchases
    low: float | None
    high: float | None
    repaid_purchases: int


@dataclass(frozen=True)
class PaymentPrediction:
    customer_id: str
    balance: int
    predicted_date: str  # store-local
    earliest: str
    latest: str
    confidence: str  # high | medium | low
    basis: str  # customer | store | default
    late_days: int  # days past the rhythm's date (0 when not late)
    explanation: str


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))


def store_rhythm(histories: list[CustomerHistory]) -> StoreRhythm:
    days = [float(p.days_to_repay) for h in histories for p in h.paid_items]
    if not days:
        return StoreRhythm(None, None, None, 0)
    return StoreRhythm(float(statistics.median(days)), _quantile(days, 0.25), _quantile(days, 0.75), len(days))


def _lower(confidence: str) -> str:
    return {"high": "medium", "medium": "low"}.get(confidence, "low")


def predict(h: CustomerHistory, rhythm: StoreRhythm) -> PaymentPrediction | None:
    """None when the customer owes nothing."""
    if h.balance <= 0:
        return None
    today = date.fromisoformat(h.as_of)
    rp = h.repayments
    if len(rp.intervals) >= MIN_GAPS and rp.last_day and rp.median_interval_days is not None:
        gaps = [float(g) for g in rp.intervals]
        anchor = date.fromisoformat(rp.last_day)
        typical, lo, hi = rp.median_interval_days, _quantile(gaps, 0.25), _quantile(gaps, 0.75)
        confidence = "high" if len(gaps) >= 6 and (rp.interval_cv or 0) <= 0.5 else "medium"
        basis = "customer"
        why = f"repays about every {round(typical)} days; last repayment {rp.last_day}"
    else:
        anchor = date.fromisoformat(h.oldest_unpaid_day or h.as_of)
        if rhythm.days_to_repay is not None:
            typical, lo, hi = rhythm.days_to_repay, rhythm.low or 0.0, rhythm.high or rhythm.days_to_repay
            basis = "store"
            why = (f"too few repayments of their own; customers here repay a purchase in about "
                   f"{round(typical)} days (oldest unpaid purchase {anchor.isoformat()})")
        else:
            typical, (lo, hi) = float(DEFAULT_DAYS), (float(x) for x in DEFAULT_RANGE)
            basis = "default"
            why = f"no repayment history in this store yet: assumed {DEFAULT_DAYS} days after {anchor.isoformat()}"
        confidence = "low"
    predicted = anchor + timedelta(days=round(typical))
    earliest = anchor + timedelta(days=math.floor(lo))
    latest = anchor + timedelta(days=math.ceil(hi))
    late = 0
    if predicted < today:
        late = (today - predicted).days
        if late <= typical:  # a little late: soon, a little less sure
            predicted = today + timedelta(days=max(1, math.ceil((hi - lo) / 2)))
            confidence = _lower(confidence)
        else:  # a whole rhythm late: not before another cycle, and unsure
            predicted = today + timedelta(days=max(1, round(typical)))
            confidence = "low"
        earliest = today
        latest = max(latest, predicted + timedelta(days=max(1, math.ceil(hi - lo))))
        why += f"; {late} days late against that rhythm"
    earliest = max(earliest, today)
    latest = max(latest, predicted)
    earliest = min(earliest, predicted)
    return PaymentPrediction(h.customer_id, h.balance, predicted.isoformat(), earliest.isoformat(), latest.isoformat(),
                             confidence, basis, late, why)


def predict_all(histories: list[CustomerHistory]) -> dict[str, PaymentPrediction]:
    rhythm = store_rhythm(histories)
    out = {}
    for h in histories:
        p = predict(h, rhythm)
        if p is not None:
            out[h.customer_id] = p
    return out
