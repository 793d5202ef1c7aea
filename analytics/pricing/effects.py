"""The expected effect of a new price over the next :data:`HORIZON_DAYS` days: units, revenue and
profit against keeping the current price, each with an 80 % range from the elasticity's uncertainty.

The baseline is the product's recent rate (units a day over the last 28 days) held flat; the new
price scales it by ``(new / old) ** elasticity``.  Money is integer minor units.

Two ranges: ``units``, ``revenue`` and ``profit`` carry the elasticity's uncertainty (the range of the
*mean* effect, what a suggestion is decided on); ``units_outcome`` adds the week-to-week noise of
demand (variance = mean × the product's dispersion), the range the units actually sold should fall
in, which the after-the-fact comparison and the backtest check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from analytics.pricing.elasticity import Z80

HORIZON_DAYS = 28


@dataclass(frozen=True)
class Range:
    expected: float
    low: float
    high: float

    def rounded(self) -> Range:
        return Range(round(self.expected), round(self.low), round(self.high))

    def as_dict(self) -> dict[str, float]:
        return {"expected": self.expected, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class Effect:
    """Changes against the current price over the horizon (new minus baseline)."""

    horizon_days: int
    base_units: float
    units: Range
    revenue: Range  # minor units
    profit: Range | None  # minor units; None when the cost is unknown
    units_outcome: Range | None = None  # the units change with demand's own noise added

    def as_dict(self) -> dict[str, object]:
        return {"horizon_days": self.horizon_days, "base_units": round(self.base_units, 2),
                "units": self.units.as_dict(), "revenue": self.revenue.as_dict(),
                "units_outcome": self.units_outcome.as_dict() if self.units_outcome else None,
                "profit": self.profit.as_dict() if self.profit else None}


def _span(values: list[float], expected: float) -> Range:
    return Range(expected, min(values), max(values))


def expected_effect(daily_units: float, old: int, new: int, cost: int | None, elasticity: float, se: float,
                    horizon_days: int = HORIZON_DAYS, net_ratio: float = 1.0, dispersion: float = 1.0) -> Effect:
    """``cost`` is the unit cost; ``net_ratio`` the share of a shelf price left after tax and discount
    (profit is measured against net revenue, as on the Products page)."""
    base = daily_units * horizon_days
    ratio = new / old

    def units_at(e: float) -> float:
        return base * ratio ** e

    betas = (elasticity - Z80 * se, elasticity, elasticity + Z80 * se)
    units = [units_at(b) - base for b in betas]
    revenue = [(units_at(b) * new) - base * old for b in betas]
    profit = ([(units_at(b) * (new * net_ratio - cost)) - base * (old * net_ratio - cost) for b in betas]
              if cost is not None else None)
    spread = Z80 * math.sqrt(max(units_at(elasticity), 1.0) * max(dispersion, 1.0))
    mid, lo, hi = units[1], min(units), max(units)
    outcome = Range(mid, mid - math.hypot(mid - lo, spread), mid + math.hypot(hi - mid, spread))
    return Effect(horizon_days, base, _span(units, units[1]), _span(revenue, revenue[1]).rounded(),
                  _span(profit, profit[1]).rounded() if profit is not None else None, outcome)
