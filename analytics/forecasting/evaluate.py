"""``tillsight hub backtest``: the rolling-origin backtest of the hub's demand forecaster, side by side
with the standard models, on a store's data (default: the shared retail file), for its best-selling
SKUs (chosen at each origin from the sales before it) and for the store's daily sales and revenue
(``store_series``: each forecast on its own, as the nightly job does), with the coverage of their
80 % and 95 % intervals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd

from analytics.forecasting.backtest import run_backtest
from analytics.forecasting.series import daily_prices, daily_units, day_range, sku_groups, store_daily, traded_days
from analytics.jobs.calendar import StoreCalendar
from analytics.jobs.data import StoreData

STORE_FIGURES = ("origins", "mase", "baseline_mase", "wape", "bias", "coverage80", "coverage95")


def backtest_store(data: StoreData, skus: int = 200, horizon: int = 28,
                   origins: int | Sequence[date] = 4) -> dict[str, Any]:
    """The SKUs (at each origin the ``skus`` best sellers before it) side by side with the standard
    models, and the store's daily sales and revenue; ``origins``: a count or the dates."""
    if data.sales.empty:
        raise ValueError("no sales to backtest on")
    days = day_range(data.sales["local"].min(), pd.Timestamp(data.as_of))
    units = daily_units(data.lines, days)
    traded = traded_days(data.sales, days)
    calendar = StoreCalendar.for_store(data.store.settings, set(data.sales["local"].dt.date), data.as_of)
    result = run_backtest(units, traded, calendar, horizon=horizon, origins=origins, skus=skus,
                          prices=daily_prices(data.lines, days), groups=sku_groups(data.lines))
    daily = store_daily(data.sales, days)
    store_series = {}
    for col in daily.columns:
        r = run_backtest(daily[[col]], traded, calendar, horizon=horizon, origins=origins, profile_strength=0.0)
        store_series[col] = {k: r[k] for k in STORE_FIGURES}
    return {"store_id": data.store.store_id, "skus_requested": skus, **result, "store_series": store_series}
