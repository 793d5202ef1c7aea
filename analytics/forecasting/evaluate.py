"""``tillsight hub backtest``: the rolling-origin backtest of the hub's demand forecaster on a
store's data (default: the shared retail file), for its best-selling SKUs."""

from __future__ import annotations

from typing import Any

import pandas as pd

from analytics.forecasting.backtest import run_backtest, top_series
from analytics.forecasting.series import daily_units, day_range, traded_days
from analytics.jobs.calendar import StoreCalendar
from analytics.jobs.data import StoreData


def backtest_store(data: StoreData, skus: int = 200, horizon: int = 28, origins: int = 4) -> dict[str, Any]:
    if data.sales.empty:
        raise ValueError("no sales to backtest on")
    days = day_range(data.sales["local"].min(), pd.Timestamp(data.as_of))
    units = daily_units(data.lines, days)
    traded = traded_days(data.sales, days)
    calendar = StoreCalendar.for_store(data.store.settings, set(data.sales["local"].dt.date), data.as_of)
    top = top_series(units, skus)
    result = run_backtest(units[top], traded, calendar, horizon=horizon, origins=origins)
    return {"store_id": data.store.store_id, "skus_requested": skus, **result}
