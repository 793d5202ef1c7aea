"""Credit-risk score per credit customer: a transparent scorecard, 0 (safest) to 100 (riskiest).

Every customer starts at ``BASE_SCORE`` (50, neutral).  Each factor below adds points (a risk)
or takes them off (a strength); the sum is clamped to 0..100.  The weights live in ``SCORECARD``
and nowhere else, and every factor that applies is reported in plain words with its points, so
the owner can see why a customer scores as they do.  docs/credit.md lists the same table.

A customer with little history (fewer than ``MIN_CREDIT_SALES`` credit purchases, or a first
credit purchase less than ``MIN_TENURE_DAYS`` ago) gets the neutral score; the factors are still
listed (with 0 points) together with "little history".

No statistical model is fitted: a small shop has tens of credit customers and few defaults, too
few to fit or validate one honestly; the scorecard's order is checked by tests on histories with
known answers (tests/analytics/credit/).
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics.credit.history import CustomerHistory

BASE_SCORE = 50
MIN_CREDIT_SALES = 3
MIN_TENURE_DAYS = 30

# factor -> bands of (upper bound of the measured value, points); the first band whose bound is
# >= the value applies (None = no upper bound).  Positive points = more risk.
SCORECARD: dict[str, tuple[tuple[float | None, int], ...]] = {
    # mean days from a credit purchase to its full repayment (settled purchases, at least 2)
    "days_to_repay": ((7, -15), (14, -8), (30, 0), (60, 10), (None, 20)),
    # age in days of the oldest unpaid amount (FIFO), when something is owed
    "oldest_unpaid_days": ((14, 0), (30, 5), (60, 15), (None, 25)),
    # days since the last repayment, when something is owed
    "days_since_repayment": ((14, -5), (30, 0), (60, 10), (None, 20)),
    # balance as a share of the credit limit
    "utilisation": ((0.3, -5), (0.7, 0), (0.9, 7), (1.0, 15), (None, 20)),
    # spread of the gaps between repayments (std / mean), at least 3 repayments
    "repayment_cv": ((0.5, -5), (1.0, 0), (None, 5)),
}
# single-condition factors
POINTS = {
    "never_repaid": 15,  # owes for more than 30 days and has never made a repayment
    "nothing_owed": -10,  # owes nothing today
    "loyal_frequent": -10,  # a customer for 6+ months who buys about weekly or more often
    "loyal": -5,  # a customer for 3+ months
    "stopped_buying": 10,  # no purchase for a long while (see history.STOPPED_MIN_DAYS) while owing
    "buying_less": 5,  # spends half or less of the previous 8 weeks while owing
    "inactive_with_balance": 5,  # the shop closed the account and a balance is left
}
BANDS = ((35, "low"), (65, "medium"), (101, "high"))  # score < bound -> band


@dataclass(frozen=True)
class Factor:
    code: str
    text: str
    points: int

    @property
    def kind(self) -> str:
        return "risk" if self.points > 0 else "positive" if self.points < 0 else "info"


@dataclass(frozen=True)
class RiskScore:
    customer_id: str
    score: int  # 0 = safest, 100 = riskiest
    band: str  # low | medium | high
    little_history: bool
    factors: tuple[Factor, ...]

    @property
    def risk_factors(self) -> list[str]:
        return [f.text for f in self.factors if f.points > 0]

    @property
    def positive_factors(self) -> list[str]:
        return [f.text for f in self.factors if f.points < 0]

    @property
    def notes(self) -> list[str]:
        return [f.text for f in self.factors if f.points == 0]


def band_points(factor: str, value: float) -> int:
    for bound, points in SCORECARD[factor]:
        if bound is None or value <= bound:
            return points
    return 0


def band_of(score: int) -> str:
    return next(name for bound, name in BANDS if score < bound)


def _days(n: float) -> str:
    n = round(n)
    return f"{n} day" if n == 1 else f"{n} days"


def _months(m: float) -> str:
    n = int(m)
    return f"{n} month" if n == 1 else f"{n} months"


def score_customer(h: CustomerHistory) -> RiskScore:
    """The scorecard applied to one customer's history."""
    factors: list[Factor] = []
    owes = h.balance > 0
    rp, pp = h.repayments, h.purchases
    if len(h.paid_items) >= 2 and h.avg_days_to_repay is not None:
        d = h.avg_days_to_repay
        pts = band_points("days_to_repay", d)
        text = f"pays within {_days(d)} on average" if pts <= 0 else f"takes {_days(d)} on average to pay"
        factors.append(Factor("days_to_repay", text, pts))
    if owes and h.oldest_unpaid_days is not None:
        oldest = h.open_items[0]
        pts = band_points("oldest_unpaid_days", h.oldest_unpaid_days)
        prefix = "at least " if oldest.earlier else ""
        factors.append(Factor("oldest_unpaid_days",
                              f"oldest unpaid amount is {prefix}{_days(h.oldest_unpaid_days)} old", pts))
    if owes:
        if rp.count == 0:
            if (h.oldest_unpaid_days or 0) > 30:
                factors.append(Factor("never_repaid", "has never made a repayment", POINTS["never_repaid"]))
        elif rp.days_since_last is not None:
            pts = band_points("days_since_repayment", rp.days_since_last)
            text = (f"no repayment for {_days(rp.days_since_last)}" if pts > 0
                    else f"last repayment {_days(rp.days_since_last)} ago")
            factors.append(Factor("days_since_repayment", text, pts))
    else:
        factors.append(Factor("nothing_owed", "owes nothing today", POINTS["nothing_owed"]))
    if h.credit_limit > 0 and owes and h.utilisation is not None:
        u = h.utilisation
        pts = band_points("utilisation", u)
        text = f"balance {round(u * 100)} % of limit" + (" (over the limit)" if u > 1.0 else "")
        factors.append(Factor("utilisation", text, pts))
    elif h.credit_limit <= 0 and owes:
        factors.append(Factor("utilisation", "owes without a credit limit set", band_points("utilisation", 1.01)))
    if rp.interval_cv is not None:
        pts = band_points("repayment_cv", rp.interval_cv)
        if pts < 0:
            text = f"repays regularly, about every {_days(rp.median_interval_days or 0)}"
        elif pts > 0:
            text = f"repays irregularly (gaps of {min(rp.intervals)} to {max(rp.intervals)} days)"
        else:
            text = f"repays fairly regularly, about every {_days(rp.median_interval_days or 0)}"
        factors.append(Factor("repayment_cv", text, pts))
    if pp.months >= 6 and pp.per_week >= 0.75:
        how = "weekly" if pp.cadence in ("weekly", "every two weeks", "monthly", "now and then") else pp.cadence
        factors.append(Factor("loyal_frequent", f"buys {how} for {_months(pp.months)}", POINTS["loyal_frequent"]))
    elif pp.months >= 3:
        factors.append(Factor("loyal", f"customer for {_months(pp.months)}", POINTS["loyal"]))
    if owes and pp.trend == "stopped" and pp.days_since_last is not None:
        factors.append(Factor("stopped_buying", f"no purchase for {_days(pp.days_since_last)} while owing",
                              POINTS["stopped_buying"]))
    elif owes and pp.trend == "falling" and pp.trend_ratio is not None:
        factors.append(Factor("buying_less", f"buys less than before ({round(pp.trend_ratio * 100)} % of the "
                                             "previous 8 weeks)", POINTS["buying_less"]))
    if owes and not h.active:
        factors.append(Factor("inactive_with_balance", "account closed with a balance left",
                              POINTS["inactive_with_balance"]))
    little = h.credit_sales < MIN_CREDIT_SALES or h.tenure_days < MIN_TENURE_DAYS
    if little:
        what = f"{h.credit_sales} credit purchase{'s' if h.credit_sales != 1 else ''}"
        span = f" over {_days(h.tenure_days)}" if h.tenure_days else ""
        factors = [Factor(f.code, f.text, 0) for f in factors]
        factors.insert(0, Factor("little_history", f"little history ({what}{span}): neutral score", 0))
        score = BASE_SCORE
    else:
        score = max(0, min(100, BASE_SCORE + sum(f.points for f in factors)))
    factors.sort(key=lambda f: (-abs(f.points), f.code))
    if little:
        factors.sort(key=lambda f: f.code != "little_history")
    return RiskScore(h.customer_id, int(score), band_of(int(score)), little, tuple(factors))


def score_all(histories: list[CustomerHistory]) -> dict[str, RiskScore]:
    return {h.customer_id: score_customer(h) for h in histories}
