"""Rolling-origin backtest of the demand forecaster against the weekly seasonal-naive baseline.

For each origin (the last ``origins`` multiples of ``horizon`` days before the end of the data),
both forecast the next ``horizon`` days from the history before the origin only.  Per series and
origin, MASE = mean absolute error / the in-sample mean absolute error of the weekly seasonal
naive on the history (calendar days from the series' first sale); series without such a scale
(fewer than eight weeks of history, or a constant series) are left out of that origin.  Reported:
the mean MASE of each method, WAPE (total absolute error / total units), bias, the coverage of the
80% and 95% intervals (the share of actual days inside them), and ``mase_ratio`` = hub MASE /
seasonal-naive MASE.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from analytics.forecasting.demand import PROFILE_PRIOR, forecast_series
from analytics.forecasting.effects import day_multipliers
from analytics.jobs.calendar import StoreCalendar

log = logging.getLogger(__name__)

MIN_HISTORY_DAYS = 56


def seasonal_naive(history: pd.DataFrame, future: pd.DatetimeIndex, season: int = 7) -> np.ndarray:
    """Each future day gets the value of the same weekday in the last week of the history."""
    last = history.to_numpy(dtype=float)[-season:]
    idx = np.arange(len(future)) % season
    return last[idx]


def mase_scale(history: pd.DataFrame, season: int = 7) -> pd.Series:
    """In-sample MAE of the seasonal naive, per series, from each series' first sale."""
    vals = history.to_numpy(dtype=float)
    started = np.cumsum(vals > 0, axis=0) > 0
    diff = np.abs(vals[season:] - vals[:-season])
    valid = started[:-season]
    days = valid.sum(axis=0)
    scale = np.where(days > 0, (diff * valid).sum(axis=0) / np.maximum(days, 1), np.nan)
    return pd.Series(scale, index=history.columns)


def top_series(units: pd.DataFrame, n: int) -> list[str]:
    return list(units.sum().sort_values(ascending=False, kind="stable").index[:n])


def run_backtest(units: pd.DataFrame, traded: np.ndarray, calendar: StoreCalendar, horizon: int = 28,
                 origins: int = 4, profile_strength: float = PROFILE_PRIOR) -> dict[str, Any]:
    """``units``: daily history (every calendar day, columns = series); ``traded``: store open.
    ``profile_strength``: as :func:`forecast_series` (0 for a store's own sales or revenue, as the
    nightly forecast runs them)."""
    started = time.perf_counter()
    days = units.index
    rows = []
    cover = {0.8: [0, 0], 0.95: [0, 0]}
    totals = {"abs_hub": 0.0, "abs_naive": 0.0, "actual": 0.0, "hub": 0.0, "naive": 0.0}
    per_origin = []
    for k in range(origins, 0, -1):
        cut = len(days) - k * horizon
        if cut < MIN_HISTORY_DAYS:
            continue
        hist, fut_units = units.iloc[:cut], units.iloc[cut:cut + horizon]
        future = pd.DatetimeIndex(fut_units.index)
        first = hist.to_numpy() > 0
        age = len(hist) - np.argmax(first, axis=0)
        scale = mase_scale(hist)
        sold = np.asarray(first.any(axis=0), dtype=bool)
        keep = [c for c, a, s, any_ in zip(hist.columns, age, scale, sold, strict=True)
                if any_ and a >= MIN_HISTORY_DAYS and np.isfinite(s) and s > 0]
        if not keep:
            continue
        hist_k = hist[keep]
        closed = calendar.closed(future)
        fc = forecast_series(hist_k, traded[:cut], future, closed, day_multipliers(calendar, hist_k.sum(axis=1),
                                                                                   traded[:cut], future),
                             profile_strength=profile_strength)
        actual = fut_units[keep].to_numpy(dtype=float)
        hub = fc.mean[keep].to_numpy()
        naive = seasonal_naive(hist_k, future)
        s = scale[keep].to_numpy()
        mase_hub = np.abs(hub - actual).mean(axis=0) / s
        mase_naive = np.abs(naive - actual).mean(axis=0) / s
        for lv in cover:
            lo, hi = fc.bounds[lv]
            inside = (actual >= lo[keep].to_numpy()) & (actual <= hi[keep].to_numpy())
            cover[lv][0] += int(inside.sum())
            cover[lv][1] += inside.size
        totals["abs_hub"] += float(np.abs(hub - actual).sum())
        totals["abs_naive"] += float(np.abs(naive - actual).sum())
        totals["actual"] += float(actual.sum())
        totals["hub"] += float(hub.sum())
        totals["naive"] += float(naive.sum())
        rows.append(pd.DataFrame({"origin": future[0].date().isoformat(), "series": keep, "mase_hub": mase_hub,
                                  "mase_naive": mase_naive, "model": fc.model[keep].to_numpy()}))
        per_origin.append({"origin": future[0].date().isoformat(), "series": len(keep),
                           "mase_hub": round(float(mase_hub.mean()), 4),
                           "mase_naive": round(float(mase_naive.mean()), 4),
                           "default_model": fc.default_model})
        log.info("backtest origin %s: %d series, MASE hub %.3f, seasonal naive %.3f", future[0].date(), len(keep),
                 mase_hub.mean(), mase_naive.mean())
    if not rows:
        raise ValueError("not enough history for a backtest: needs "
                         f"{MIN_HISTORY_DAYS + horizon} days before the last origin")
    res = pd.concat(rows, ignore_index=True)
    mase_h, mase_n = float(res["mase_hub"].mean()), float(res["mase_naive"].mean())
    actual_total = max(totals["actual"], 1e-9)
    return {
        "series": int(res["series"].nunique()), "origins": len(per_origin), "horizon_days": horizon,
        "mase": round(mase_h, 4), "wape": round(totals["abs_hub"] / actual_total, 4),
        "baseline_mase": round(mase_n, 4), "baseline_wape": round(totals["abs_naive"] / actual_total, 4),
        "mase_ratio": round(mase_h / mase_n, 4) if mase_n > 0 else None,
        "bias": round(totals["hub"] / actual_total - 1, 4),
        "baseline_bias": round(totals["naive"] / actual_total - 1, 4),
        "coverage80": round(cover[0.8][0] / max(cover[0.8][1], 1), 4),
        "coverage95": round(cover[0.95][0] / max(cover[0.95][1], 1), 4),
        "models": {str(k): int(v) for k, v in res["model"].value_counts().items()},
        "per_origin": per_origin, "seconds": round(time.perf_counter() - started, 2),
    }
