"""Rolling-origin backtest of the hub's demand forecaster side by side with the standard models.

At each origin (the last ``origins`` multiples of ``horizon`` days before the end of the data, or
given dates) every model forecasts the next ``horizon`` days from the history before the origin
only: the SKUs are chosen (the best sellers before the origin), and everything is fitted, on that
history.  The models: the hub's forecaster (``demand.forecast_series``), the pooled gradient-boosted
model on its own (``global_gbm``, the hub's pooled part; present when there are enough series to
pool), and the standard models of ``standard.py`` (weekly seasonal naive, ADIDA, IMAPA,
CrostonOptimized, AutoETS).

Per series and origin, MASE = mean absolute error over the horizon / the in-sample mean absolute
error of the weekly seasonal naive on the history (calendar days from the series' first sale);
series without such a scale (fewer than eight weeks since the first sale, or a constant series)
are left out of that origin.  Per model: the mean MASE, WAPE (total absolute error / total units),
bias (total forecast / total units - 1) and the coverage of the 80 % and 95 % intervals: the share
of outcomes inside them, over the days the store was expected to open (a closed day's zero is
inside every interval and would only flatter them).  ``ratio_to_best_standard`` = the hub's MASE /
the lowest MASE of the others; ``mase_ratio`` = the hub's / the seasonal naive's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from analytics.forecasting.demand import PROFILE_PRIOR, forecast_series
from analytics.forecasting.effects import day_multipliers
from analytics.forecasting.standard import STANDARD_MODELS, standard_forecasts
from analytics.jobs.calendar import StoreCalendar

log = logging.getLogger(__name__)

MIN_HISTORY_DAYS = 56
HUB = "hub"
GLOBAL = "global_gbm"
LEVELS = (0.8, 0.95)


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
    """The ``n`` series with the most units in ``units`` (pass only the history before an origin)."""
    return list(units.sum().sort_values(ascending=False, kind="stable").index[:n])


def origin_cuts(days: pd.DatetimeIndex, horizon: int, origins: int | Sequence[date]) -> list[int]:
    """Positions in ``days`` of the first forecast day of each origin: the last ``origins`` multiples of
    ``horizon`` before the end, or the given dates (each needs ``horizon`` days of data from it)."""
    if isinstance(origins, int):
        return [len(days) - k * horizon for k in range(origins, 0, -1)]
    cuts = []
    for d in sorted(origins):
        pos = int(days.searchsorted(pd.Timestamp(d)))
        if pos >= len(days) or days[pos] != pd.Timestamp(d):
            raise ValueError(f"origin {d.isoformat()} is outside the data ({days[0].date()} to {days[-1].date()})")
        if pos + horizon > len(days):
            raise ValueError(f"origin {d.isoformat()}: the data ends before its {horizon} days ({days[-1].date()})")
        cuts.append(pos)
    return cuts


def parse_origins(text: str) -> int | list[date]:
    """``--origins``: a count ("4") or dates ("2011-06-02,2011-07-07")."""
    text = text.strip()
    if text.isdigit():
        n = int(text)
        if n < 1:
            raise ValueError("--origins: at least one origin")
        return n
    try:
        return [date.fromisoformat(p.strip()) for p in text.split(",") if p.strip()]
    except ValueError as exc:
        raise ValueError(f"--origins: a count or dates YYYY-MM-DD separated by commas, not {text!r}") from exc


class _Tally:
    """One model's running totals over the origins."""

    def __init__(self) -> None:
        self.mase: list[np.ndarray] = []
        self.abs_err = self.forecast = self.actual = 0.0
        self.inside = dict.fromkeys(LEVELS, 0)
        self.counted = dict.fromkeys(LEVELS, 0)

    def add(self, mean: np.ndarray, bounds: dict[float, tuple[np.ndarray, np.ndarray]], actual: np.ndarray,
            scale: np.ndarray, open_days: np.ndarray) -> np.ndarray:
        mase = np.abs(mean - actual).mean(axis=0) / scale
        self.mase.append(mase)
        self.abs_err += float(np.abs(mean - actual).sum())
        self.forecast += float(mean.sum())
        self.actual += float(actual.sum())
        for lv in LEVELS:
            lo, hi = bounds[lv]
            inside = (actual >= lo) & (actual <= hi)
            self.inside[lv] += int(inside[open_days].sum())
            self.counted[lv] += int(inside[open_days].size)
        return mase

    def figures(self) -> dict[str, float | None]:
        total = max(self.actual, 1e-9)
        return {"mase": round(float(np.concatenate(self.mase).mean()), 4), "wape": round(self.abs_err / total, 4),
                "bias": round(self.forecast / total - 1, 4),
                "coverage_80": round(self.inside[0.8] / self.counted[0.8], 4) if self.counted[0.8] else None,
                "coverage_95": round(self.inside[0.95] / self.counted[0.95], 4) if self.counted[0.95] else None}


def run_backtest(units: pd.DataFrame, traded: np.ndarray, calendar: StoreCalendar, horizon: int = 28,
                 origins: int | Sequence[date] = 4, profile_strength: float = PROFILE_PRIOR, skus: int | None = None,
                 prices: pd.DataFrame | None = None, groups: pd.Series | None = None) -> dict[str, Any]:
    """``units``: daily history (every calendar day, columns = series); ``traded``: store open.
    ``skus``: at each origin, keep the best sellers before it (all series when None).  ``prices`` and
    ``groups``: as :func:`forecast_series`.  ``profile_strength``: as :func:`forecast_series` (0 for a
    store's own sales or revenue, as the nightly forecast runs them)."""
    started = time.perf_counter()
    days = pd.DatetimeIndex(units.index)
    tallies: dict[str, _Tally] = {}
    series_seen: set[str] = set()
    chosen: dict[str, int] = {}
    per_origin = []
    for cut in origin_cuts(days, horizon, origins):
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
        if skus is not None:
            keep = top_series(hist[keep], skus)
        if not keep:
            continue
        hist_k = hist[keep]
        # the closed weekdays as the store's sales before the origin show them (unless the settings say)
        cal = StoreCalendar.for_store(calendar.settings, set(days[:cut][traded[:cut]].date), days[cut - 1].date())
        closed = cal.closed(future)
        mult = day_multipliers(cal, hist_k.sum(axis=1), traded[:cut], future)
        fc = forecast_series(hist_k, traded[:cut], future, closed, mult, profile_strength=profile_strength,
                             prices=prices.iloc[:cut] if prices is not None else None, groups=groups,
                             standard_global=True)
        actual = fut_units[keep].to_numpy(dtype=float)
        s = scale[keep].to_numpy()
        open_days = ~np.asarray(closed, dtype=bool)
        runs: dict[str, tuple[np.ndarray, dict[float, tuple[np.ndarray, np.ndarray]]]] = {
            HUB: (fc.mean[keep].to_numpy(), {lv: (lo[keep].to_numpy(), hi[keep].to_numpy())
                                              for lv, (lo, hi) in fc.bounds.items()})}
        if fc.global_only is not None:
            g_mean, g_bounds = fc.global_only
            runs[GLOBAL] = (g_mean[keep].to_numpy(), {lv: (lo[keep].to_numpy(), hi[keep].to_numpy())
                                                       for lv, (lo, hi) in g_bounds.items()})
        for name, m in standard_forecasts(hist_k, traded[:cut], future, closed, LEVELS).items():
            runs[name] = (m.mean, m.bounds)
        row: dict[str, Any] = {"origin": future[0].date().isoformat(), "series": len(keep),
                               "global_weight": round(fc.global_weight, 2)}
        for name, (mean, bounds) in runs.items():
            mase = tallies.setdefault(name, _Tally()).add(mean, bounds, actual, s, open_days)
            row[name] = round(float(mase.mean()), 4)
        series_seen.update(keep)
        for m_name, count in fc.model[keep].value_counts().items():
            chosen[str(m_name)] = chosen.get(str(m_name), 0) + int(count)
        per_origin.append(row)
        log.info("backtest origin %s: %d series, MASE %s", row["origin"], len(keep),
                 ", ".join(f"{k} {row[k]}" for k in runs))
    if not per_origin:
        raise ValueError("not enough history for a backtest: needs "
                         f"{MIN_HISTORY_DAYS + horizon} days before the last origin")
    models = {name: t.figures() for name, t in tallies.items()}
    hub = models[HUB]
    others = {k: v["mase"] for k, v in models.items() if k != HUB and v["mase"] is not None}
    best = min(others, key=lambda k: others[k] or np.inf) if others else None
    naive = models.get("seasonal_naive", {})
    hub_mase = float(hub["mase"] or 0.0)
    return {
        "series": len(series_seen), "origins": len(per_origin), "horizon_days": horizon,
        "origin_dates": [r["origin"] for r in per_origin],
        "mase": hub["mase"], "wape": hub["wape"], "bias": hub["bias"],
        "coverage80": hub["coverage_80"], "coverage95": hub["coverage_95"],
        "baseline_mase": naive.get("mase"), "baseline_wape": naive.get("wape"), "baseline_bias": naive.get("bias"),
        "mase_ratio": round(hub_mase / float(naive.get("mase") or 1.0), 4) if naive.get("mase") else None,
        "best_standard": best,
        "ratio_to_best_standard": round(hub_mase / float(others[best]), 4) if best and others[best] else None,
        "coverage_80": hub["coverage_80"], "coverage_95": hub["coverage_95"],
        "models": models, "chosen_models": chosen, "per_origin": per_origin,
        "seconds": round(time.perf_counter() - started, 2),
    }


MODEL_ORDER = (HUB, GLOBAL, *STANDARD_MODELS)
