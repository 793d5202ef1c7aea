"""Reorder advice per SKU from its forecast, the stock the devices report, the supplier lead time
and the service level: an (s, S) policy reviewed every ``review_days``.

With L = lead time, R = review period, alpha = service level, mu_t the daily forecast and phi the
series' dispersion (demand over a span is negative binomial with mean sum(mu_t) and variance
phi * sum(mu_t); days past the horizon repeat the horizon's mean day):

- lead-time demand  D_L = sum of mu_t over the first L days
- reorder point     s   = the alpha quantile of demand over L days
- safety stock          = s - D_L (rounded, never negative)
- order-up-to level S   = the alpha quantile of demand over L + R days
- stock known (on hand = h): order now when h <= s, for S - h (else 0); the stock-out date is the
  first day on which the expected cumulative demand exceeds h (none within the horizon: blank);
  days of cover = h / mean daily demand
- stock unknown: the quantity to order when the shelf reaches s is S - s; no stock-out date.
Order quantities are raised to the SKU's ``min_order_qty`` and rounded up to whole ``pack_size``.

Slow movers: at most ``slow_mover_units_per_week`` a week over the last eight weeks, or no sale for
``slow_mover_idle_days``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from analytics.forecasting.distribution import quantile


@dataclass(frozen=True)
class ReorderInput:
    sku: str
    daily_mean: np.ndarray  # forecast for day 1..H (day 1 = the first day after the data)
    dispersion: float
    lead_time_days: int
    review_days: int
    service_level: float
    on_hand: int | None = None
    pack_size: int = 1
    min_order_qty: int = 0


@dataclass(frozen=True)
class ReorderAdvice:
    sku: str
    mean_daily: float
    lead_time_demand: float
    safety_stock: int
    reorder_point: int
    order_up_to: int
    order_qty: int
    order_now: bool | None
    stockout_day: int | None  # 1-based day of the horizon; None: not within it, or stock unknown
    days_of_cover: float | None


def span_mean(daily: np.ndarray, days: int) -> float:
    """Expected demand over the first ``days`` days (past the horizon: its mean day repeated)."""
    if days <= 0:
        return 0.0
    h = len(daily)
    if days <= h:
        return float(daily[:days].sum())
    per_day = float(daily.mean()) if h else 0.0
    return float(daily.sum()) + per_day * (days - h)


def span_quantile(daily: np.ndarray, days: int, dispersion: float, level: float) -> int:
    mean = span_mean(daily, days)
    if mean <= 0:
        return 0
    return int(quantile(np.array([mean]), np.array([dispersion]), level)[0])


def round_order(qty: int, pack: int, minimum: int) -> int:
    if qty <= 0:
        return 0
    qty = max(qty, minimum)
    return int(math.ceil(qty / pack) * pack)


def advise(inp: ReorderInput) -> ReorderAdvice:
    daily = np.clip(np.asarray(inp.daily_mean, dtype=float), 0, None)
    mean_daily = float(daily.mean()) if len(daily) else 0.0
    lead_demand = span_mean(daily, inp.lead_time_days)
    rop = span_quantile(daily, inp.lead_time_days, inp.dispersion, inp.service_level)
    up_to = max(rop, span_quantile(daily, inp.lead_time_days + inp.review_days, inp.dispersion, inp.service_level))
    safety = max(0, int(round(rop - lead_demand)))
    if inp.on_hand is None:
        return ReorderAdvice(inp.sku, mean_daily, lead_demand, safety, rop, up_to,
                             round_order(up_to - rop, inp.pack_size, inp.min_order_qty), None, None, None)
    on_hand = max(0, int(inp.on_hand))
    order_now = on_hand <= rop and up_to > 0
    qty = round_order(up_to - on_hand, inp.pack_size, inp.min_order_qty) if order_now else 0
    cum = np.cumsum(daily)
    out = np.nonzero(cum > on_hand)[0]
    stockout = int(out[0]) + 1 if len(out) else None
    cover = round(on_hand / mean_daily, 1) if mean_daily > 0 else None
    return ReorderAdvice(inp.sku, mean_daily, lead_demand, safety, rop, up_to, qty, order_now, stockout, cover)


def slow_mover(units_8w: float, last_sold: date | None, as_of: date, units_per_week: float,
               idle_days: int) -> str | None:
    """The reason a SKU is a slow mover, or None."""
    if last_sold is not None and (as_of - last_sold).days >= idle_days:
        return f"no sale for {(as_of - last_sold).days} days"
    if units_8w / 8.0 <= units_per_week:
        return f"{units_8w / 8.0:.1f} units a week over the last 8 weeks"
    return None


def stockout_date(first_day: date, day: int | None) -> date | None:
    return None if day is None else first_day + timedelta(days=day - 1)
