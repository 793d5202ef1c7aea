"""Where each product stands before any price is suggested: its current price, cost and margin, its
demand trend (last 28 days against the 28 before) and its stock position (near stock-out, overstock,
slow mover) from the stock the devices report and the store's slow-mover settings."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from analytics.forecasting.reorder import slow_mover
from analytics.forecasting.run import StockLevel
from analytics.jobs.settings import AnalyticsSettings

TREND_DAYS = 28
OVERSTOCK_DAYS = 90  # more than this many days of cover at the recent rate
PRICE_LINES = 10  # the current price is read from the product's newest lines


@dataclass(frozen=True)
class Cost:
    unit_cost: int
    assumed: bool


@dataclass(frozen=True)
class Position:
    sku: str
    name: str
    category: str
    price: int
    cost: int | None
    cost_assumed: bool
    units_28d: int
    units_prev_28d: int
    trend: str  # rising | steady | falling | new | no recent sales
    trend_change: float | None  # units change, last 28 days vs the 28 before (share)
    on_hand: int | None
    days_of_cover: float | None
    stock: str  # near stock-out | overstock | slow mover | normal | unknown
    slow_reason: str | None
    last_sold: date | None
    net_ratio: float = 1.0  # share of the shelf price left after tax and discount (profit is net)

    def margin_at(self, price: int) -> float | None:
        net = price * self.net_ratio
        return None if self.cost is None or net <= 0 else (net - self.cost) / net

    @property
    def margin(self) -> float | None:
        return self.margin_at(self.price)

    @property
    def shelf_cost(self) -> int | None:
        """The cost in shelf-price terms (the price at which the product makes nothing)."""
        return None if self.cost is None else math.ceil(self.cost / self.net_ratio)

    @property
    def daily_units(self) -> float:
        return self.units_28d / TREND_DAYS


def current_price(lines: pd.DataFrame) -> int:
    """The price a single item is sold at now: among the product's newest lines, those of the smallest
    quantity (a case price is not the shelf price), the most common unit price (ties: the newest)."""
    newest = lines.sort_values("local").tail(PRICE_LINES)
    small = newest[newest["qty"] == newest["qty"].min()]
    prices = (small["line_total"] / small["qty"]).round().astype("int64")
    counts = prices.value_counts()
    best = counts[counts == counts.max()].index
    for p in reversed(prices.tolist()):
        if p in best:
            return int(p)
    return int(prices.iloc[-1])


def _trend(now: int, before: int) -> tuple[str, float | None]:
    if now == 0 and before == 0:
        return "no recent sales", None
    if before == 0:
        return "new", None
    change = now / before - 1
    return ("rising" if change > 0.15 else "falling" if change < -0.15 else "steady"), change


def positions(lines: pd.DataFrame, as_of: date, costs: dict[str, Cost], stock: dict[str, StockLevel],
              settings: AnalyticsSettings, net_ratios: dict[str, float] | None = None) -> list[Position]:
    """One :class:`Position` per product sold in the store (completed lines before ``as_of``)."""
    done = lines[(lines["status"] == "completed") & (lines["qty"] > 0) & (lines["line_total"] > 0)]
    done = done[done["local"] < pd.Timestamp(as_of)]
    start = pd.Timestamp(as_of - timedelta(days=TREND_DAYS))
    prev = pd.Timestamp(as_of - timedelta(days=2 * TREND_DAYS))
    eight = pd.Timestamp(as_of - timedelta(weeks=8))
    out: list[Position] = []
    for key, part in done.groupby("sku", sort=True):
        sku = str(key)
        units_now = int(part.loc[part["local"] >= start, "qty"].sum())
        units_prev = int(part.loc[(part["local"] >= prev) & (part["local"] < start), "qty"].sum())
        units_8w = float(part.loc[part["local"] >= eight, "qty"].sum())
        last_sold = part["local"].max().date()
        trend, change = _trend(units_now, units_prev)
        cost = costs.get(sku)
        level = stock.get(sku)
        daily = units_now / TREND_DAYS
        cover = round(level.on_hand / daily, 1) if level is not None and daily > 0 else None
        slow = slow_mover(units_8w, last_sold, as_of, settings.slow_mover_units_per_week,
                          settings.slow_mover_idle_days)
        lead = settings.lead_time_days
        if level is not None and (level.on_hand <= 0 or (cover is not None and cover < max(lead, 3))):
            state = "near stock-out"
        elif level is not None and level.on_hand > 0 and (cover is None or cover > OVERSTOCK_DAYS):
            state = "overstock"
        elif slow:
            state = "slow mover"
        else:
            state = "normal" if level is not None else "unknown"
        out.append(Position(sku, str(part["name"].iloc[-1]), str(part["category"].iloc[-1]), current_price(part),
                            cost.unit_cost if cost else None, bool(cost and cost.assumed), units_now, units_prev,
                            trend, change, level.on_hand if level else None, cover, state, slow, last_sold,
                            (net_ratios or {}).get(sku, 1.0)))
    return out
