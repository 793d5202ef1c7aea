"""The standard models the hub's forecaster is measured against in ``tillsight hub backtest``, all from
statsforecast and all with conformal prediction intervals (statsforecast's ``ConformalIntervals``,
two windows of the horizon):

* the weekly seasonal naive, on calendar days (each day repeats the same weekday a week earlier);
* ADIDA, IMAPA and CrostonOptimized (intermittent demand) and AutoETS (weekly season, error and season
  chosen automatically, no trend: with trends it took 70 s for 200 series), on the days the store
  traded, as the hub reads a series, with the days it will be closed set to zero.

Each series starts at its first sale; one shorter than the two conformal windows and a fit of
``MIN_FIT_DAYS`` need is padded with the zeros it sold before.  Forecasts are clipped at zero (ETS can go below).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

STANDARD_MODELS = ("seasonal_naive", "ADIDA", "IMAPA", "CrostonOptimized", "AutoETS")
CONFORMAL_WINDOWS = 2
MIN_FIT_DAYS = 28  # days each conformal window's fit needs before it (ETS refuses "tiny datasets")


@dataclass
class ModelForecast:
    mean: np.ndarray  # future day x series
    bounds: dict[float, tuple[np.ndarray, np.ndarray]]  # level -> (lo, hi), future day x series


def _long(vals: np.ndarray, cols: list[str], min_len: int) -> pd.DataFrame:
    """statsforecast's long format, each series from its first sale (earlier if it needs ``min_len`` days)."""
    n_days = len(vals)
    sold = vals > 0
    first = np.where(sold.any(axis=0), np.argmax(sold, axis=0), n_days - 1)
    start = np.minimum(first, max(n_days - min_len, 0))
    parts = [pd.DataFrame({"unique_id": c, "ds": np.arange(s, n_days), "y": vals[s:, j]})
             for j, (c, s) in enumerate(zip(cols, start, strict=True))]
    return pd.concat(parts, ignore_index=True)


def _run(models: list, vals: np.ndarray, cols: list[str], h: int, levels: tuple[float, ...]) -> pd.DataFrame:
    from statsforecast import StatsForecast
    from statsforecast.utils import ConformalIntervals

    df = _long(vals, cols, CONFORMAL_WINDOWS * h + MIN_FIT_DAYS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = StatsForecast(models=models, freq=1, n_jobs=1).forecast(
            df=df, h=h, level=[round(100 * lv) for lv in levels],
            prediction_intervals=ConformalIntervals(h=h, n_windows=CONFORMAL_WINDOWS))
    if not isinstance(out, pd.DataFrame):
        raise TypeError(f"statsforecast answered a {type(out).__name__}, not a pandas DataFrame")
    return out


def _pivot(fc: pd.DataFrame, column: str, cols: list[str], h: int) -> np.ndarray:
    """A long forecast column as (h x series), in ``cols`` order, clipped at zero."""
    table = fc.pivot(index="ds", columns="unique_id", values=column).reindex(columns=cols)
    out = table.to_numpy(dtype=float)[:h]
    return np.clip(np.nan_to_num(out), 0, None)


def standard_forecasts(history: pd.DataFrame, traded: np.ndarray, future: pd.DatetimeIndex,
                       future_closed: np.ndarray, levels: tuple[float, ...] = (0.8, 0.95)) -> dict[str, ModelForecast]:
    """Each standard model's forecast of ``future`` from ``history`` (every calendar day up to the
    origin; columns: series), with ``traded`` the days the store traded and ``future_closed`` the
    future days it will be closed."""
    from statsforecast.models import ADIDA, IMAPA, AutoETS, CrostonOptimized, SeasonalNaive

    cols = [str(c) for c in history.columns]
    out: dict[str, ModelForecast] = {}
    n_fut = len(future)
    cal = _run([SeasonalNaive(season_length=7, alias="seasonal_naive")], history.to_numpy(dtype=float), cols,
               n_fut, levels)
    out["seasonal_naive"] = ModelForecast(_pivot(cal, "seasonal_naive", cols, n_fut), {
        lv: (_pivot(cal, f"seasonal_naive-lo-{round(100 * lv)}", cols, n_fut),
             _pivot(cal, f"seasonal_naive-hi-{round(100 * lv)}", cols, n_fut)) for lv in levels})
    open_vals = history.to_numpy(dtype=float)[np.asarray(traded, dtype=bool)]
    open_days = pd.DatetimeIndex(history.index[np.asarray(traded, dtype=bool)])
    week = max(1, len(set(open_days[-84:].dayofweek))) if len(open_days) else 7
    is_open = ~np.asarray(future_closed, dtype=bool)
    h = int(is_open.sum())
    names = ["ADIDA", "IMAPA", "CrostonOptimized", "AutoETS"]
    if h == 0:
        zero = np.zeros((n_fut, len(cols)))
        return {**out, **{m: ModelForecast(zero, dict.fromkeys(levels, (zero, zero))) for m in names}}
    models = [ADIDA(), IMAPA(), CrostonOptimized(), AutoETS(season_length=week, model="ZNZ")]
    fc = _run(models, open_vals, cols, h, levels)

    def spread(column: str) -> np.ndarray:
        full = np.zeros((n_fut, len(cols)))
        full[is_open] = _pivot(fc, column, cols, h)
        return full

    for m in names:
        out[m] = ModelForecast(spread(m), {lv: (spread(f"{m}-lo-{round(100 * lv)}"),
                                                spread(f"{m}-hi-{round(100 * lv)}")) for lv in levels})
    return out
