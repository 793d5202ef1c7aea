"""Sales per store-local hour, and the staff that traffic needs.

The daily sales forecast is split over the hours by the store's hour-of-day profile for that
weekday (last eight weeks, shrunk towards the all-days profile where a weekday has few sales).
The hour's count is quasi-Poisson with the daily series' dispersion; staff per hour = the
``plan_quantile`` of the hour's sales / ``sales_per_staff_hour``, rounded up, within
[``min_staff``, ``max_staff``] while the store trades that hour.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.forecasting.distribution import quantile
from analytics.jobs.settings import StaffingSettings

PROFILE_WEEKS = 8
SHRINK_SALES = 20.0


def hour_profile(sales: pd.DataFrame, until: pd.Timestamp, weeks: int = PROFILE_WEEKS) -> np.ndarray:
    """7 x 24 shares of a weekday's sales per hour (each open weekday's row sums to 1)."""
    done = sales[(sales["status"] == "completed") & (sales["local"] < until)
                 & (sales["local"] >= until - pd.Timedelta(weeks=weeks))]
    if done.empty:
        done = sales[(sales["status"] == "completed") & (sales["local"] < until)]
    counts = np.zeros((7, 24))
    if len(done):
        np.add.at(counts, (done["local"].dt.dayofweek.to_numpy(), done["local"].dt.hour.to_numpy()), 1)
    all_days = counts.sum(axis=0)
    prior = all_days / all_days.sum() if all_days.sum() else np.zeros(24)
    day_tot = counts.sum(axis=1, keepdims=True)
    shares = (counts + SHRINK_SALES * prior[None, :]) / (day_tot + SHRINK_SALES)
    return np.where(day_tot > 0, shares, prior[None, :])


def staff_for(planned_sales: np.ndarray, open_hour: np.ndarray, cfg: StaffingSettings) -> np.ndarray:
    need = np.ceil(np.asarray(planned_sales, dtype=float) / cfg.sales_per_staff_hour - 1e-9).astype(int)
    need = np.clip(need, cfg.min_staff, cfg.max_staff)
    return np.where(open_hour, need, 0)


def hourly_forecast(daily_sales: pd.Series, dispersion: float, profile: np.ndarray,
                    cfg: StaffingSettings) -> pd.DataFrame:
    """Rows (day, hour, sales_mean, sales_hi80, staff) for the hours the store trades on each day
    with sales expected."""
    rows = []
    for day, mean in zip(pd.DatetimeIndex(daily_sales.index), daily_sales.to_numpy(dtype=float), strict=True):
        if mean <= 0:
            continue
        shares = profile[day.dayofweek]
        hours = np.nonzero(shares > 0.002)[0]
        if len(hours) == 0:
            continue
        mu = mean * shares[hours] / shares[hours].sum()
        hi80 = quantile(mu, np.full(len(mu), dispersion), 0.9)
        plan = quantile(mu, np.full(len(mu), dispersion), cfg.plan_quantile)
        staff = staff_for(plan, np.ones(len(mu), dtype=bool), cfg)
        for h, m, hi, s in zip(hours, mu, hi80, staff, strict=True):
            rows.append({"day": day.date().isoformat(), "hour": int(h), "sales_mean": round(float(m), 3),
                         "sales_hi80": float(hi), "staff": int(s)})
    return pd.DataFrame(rows, columns=["day", "hour", "sales_mean", "sales_hi80", "staff"])


def staffing_summary(hourly: pd.DataFrame, day: str) -> list[dict[str, object]]:
    """The hours of one day with their expected sales and staff, for the insights."""
    part = hourly[hourly["day"] == day]
    return [{"hour": int(hour), "sales": round(float(sales), 1), "staff": int(staff)}
            for hour, sales, staff in zip(part["hour"].tolist(), part["sales_mean"].tolist(), part["staff"].tolist(),
                                          strict=True)]


def peak_hours(hourly: pd.DataFrame, day: str, n: int = 3) -> list[int]:
    part = hourly[hourly["day"] == day].sort_values("sales_mean", ascending=False)
    return [int(h) for h in part["hour"].head(n)]


__all__ = ["hour_profile", "hourly_forecast", "peak_hours", "staff_for", "staffing_summary"]
