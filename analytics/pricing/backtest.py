"""Backtest of the pricing model: predict the effect of past price changes from the data before them.

A **price change** is a product whose shelf price in a week (``elasticity.shelf_weeks``) differs by
:data:`MIN_CHANGE` to :data:`MAX_CHANGE` from the two weeks before, which agree, and holds the next
week; with sales in the :data:`WEEKS` weeks before.  For each
month holding changes, the elasticities are estimated (``elasticity.py``, pooling included) only on
the sales before that month's first day, then each change's units over the :data:`WEEKS` weeks from
it are predicted as ``units before × (new / old) ** elasticity``.

Reported: WAPE of the predicted units against the actual, the same for "no change" (units after =
units before, the benchmark a prediction must beat), the skill (1 − ratio), how often the actual
units fell inside the 80 % range (the elasticity's uncertainty and demand's own noise, as
``effects.units_outcome``), and how often the direction of the change was right.  Changes
whose elasticity cannot be told are counted and left out, as the suggestions leave them out.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analytics.pricing.elasticity import Z80, estimate_elasticities, price_cells, shelf_weeks

log = logging.getLogger(__name__)

MIN_CHANGE = 0.05
MAX_CHANGE = 0.4  # a bigger jump of the "shelf" price is a change of who buys, not of the price
WEEKS = 4


@dataclass(frozen=True)
class PriceEvent:
    sku: str
    week: pd.Timestamp
    old: int
    new: int
    units_before: int
    units_after: int


@dataclass
class BacktestResult:
    events: int = 0
    source: str = "shelf"
    predicted: int = 0
    untold: int = 0
    wape: float | None = None
    wape_no_change: float | None = None
    coverage_80: float | None = None
    direction: float | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def skill(self) -> float | None:
        if self.wape is None or not self.wape_no_change:
            return None
        return 1 - self.wape / self.wape_no_change

    def summary(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 4)
        return {"events": self.events, "predicted": self.predicted, "untold": self.untold, "wape": r(self.wape),
                "wape_no_change": r(self.wape_no_change), "skill": r(self.skill),
                "coverage_80": r(self.coverage_80), "direction": r(self.direction), "weeks": WEEKS,
                "min_change": MIN_CHANGE, "max_change": MAX_CHANGE, "source": self.source}


def find_events(weekly: pd.DataFrame) -> list[PriceEvent]:
    """Price changes in the weekly shelf prices (``elasticity.shelf_weeks``)."""
    events: list[PriceEvent] = []
    for sku, part in weekly.groupby("sku"):
        s = part.set_index("week").sort_index()
        weeks = pd.date_range(s.index.min(), s.index.max(), freq="7D")
        s = s.reindex(weeks)
        units = s["units"].fillna(0).to_numpy()
        shelf = s["price"].to_numpy(dtype=float)
        for i in range(WEEKS, len(weeks) - WEEKS + 1):
            a, b, now, nxt = shelf[i - 2], shelf[i - 1], shelf[i], shelf[i + 1] if i + 1 < len(weeks) else np.nan
            if np.isnan([a, b, now, nxt]).any() or a != b or now != nxt:
                continue
            if not MIN_CHANGE <= abs(now / b - 1) <= MAX_CHANGE:
                continue
            before = int(units[i - WEEKS:i].sum())
            if before <= 0:
                continue
            events.append(PriceEvent(str(sku), weeks[i], int(b), int(now), before, int(units[i:i + WEEKS].sum())))
    return events


def run_backtest(lines: pd.DataFrame, report: Callable[[str], object] | None = None,
                 source: str = "shelf") -> BacktestResult:
    weekly = shelf_weeks(lines)
    events = find_events(weekly)
    result = BacktestResult(events=len(events), source=source)
    if not events:
        return result
    cats = dict(zip(lines["sku"].astype(str), lines["category"].astype(str), strict=True))
    by_origin: dict[pd.Timestamp, list[PriceEvent]] = {}
    for ev in events:
        by_origin.setdefault(ev.week.to_period("M").start_time, []).append(ev)
    pred, nochange, actual, inside, right = [], [], [], [], []
    for origin in sorted(by_origin):
        before = lines[lines["local"] < origin]
        if before.empty:
            result.untold += len(by_origin[origin])
            continue
        obs = weekly[weekly["week"] < origin] if source == "shelf" else price_cells(before)
        el = estimate_elasticities(obs, cats)
        told = 0
        for ev in by_origin[origin]:
            e = el.get(ev.sku)
            if e is None or not e.told or e.estimate is None or e.se is None:
                result.untold += 1
                continue
            told += 1
            ratio = ev.new / ev.old
            p = ev.units_before * ratio ** e.estimate
            lo, hi = sorted((ev.units_before * ratio ** (e.estimate - Z80 * e.se),
                             ev.units_before * ratio ** (e.estimate + Z80 * e.se)))
            noise = Z80 * math.sqrt(max(p, 1.0) * e.dispersion)  # demand's own noise (effects.units_outcome)
            lo, hi = p - math.hypot(p - lo, noise), p + math.hypot(hi - p, noise)
            pred.append(p)
            nochange.append(ev.units_before)
            actual.append(ev.units_after)
            inside.append(lo <= ev.units_after <= hi)
            right.append(np.sign(p - ev.units_before) == np.sign(ev.units_after - ev.units_before))
            result.rows.append({"sku": ev.sku, "week": ev.week.date().isoformat(), "old": ev.old, "new": ev.new,
                                "elasticity": round(e.estimate, 3), "units_before": ev.units_before,
                                "predicted": round(p, 1), "actual": ev.units_after})
        if report:
            report(f"origin {origin.date()}: {len(by_origin[origin])} price change(s), {told} with an elasticity "
                   f"estimated on the data before")
    if pred:
        a = np.array(actual, dtype=float)
        total = a.sum() or 1.0
        result.predicted = len(pred)
        result.wape = float(np.abs(np.array(pred) - a).sum() / total)
        result.wape_no_change = float(np.abs(np.array(nochange, dtype=float) - a).sum() / total)
        result.coverage_80 = float(np.mean(inside))
        result.direction = float(np.mean(right))
    return result
