"""Daily demand forecasts for many series at once (units per SKU, or a store's sales or revenue).

How (docs/analytics.md has the reasoning and the backtest figures):

1. Each series is read on the days the store traded (a day with no sale at all is a closed day, not
   a day of zero demand), from its first sale on.
2. Candidate models from statsforecast, for intermittent and for smooth demand: Croston (SBA),
   TSB, ADIDA, IMAPA, simple exponential smoothing, and moving averages of four and eight weeks.
3. Each is scored on a rolling-origin backtest inside the history (two windows of the horizon's
   length) and each series takes the model with the lowest error on its own backtest.  The model
   with the best error relative to the others over all the store's series (geometric mean) is the
   store's default, used for series too short to backtest.  ``SWITCH_MARGIN`` can make a series
   keep the default unless its own best beats it by that share; on the retail data a margin of
   0, 0.1 and 0.25 gave MASE ratios of 0.804, 0.813 and 0.811, so it is 0.
4. Weekly seasonality: the level is spread over the week by the series' weekday profile, shrunk
   towards the store's profile in proportion to how few units the series sold (``PROFILE_PRIOR``).
   Closed days (closed weekdays, holidays the store closes on) get zero; payday and open-holiday
   effects multiply (``effects.py``).
4b. Where a store has enough series to pool (``global_model.MIN_SERIES``), the mean is an ensemble:
   ``GLOBAL_WEIGHT`` of two pooled LightGBM models over all the series (``global_model.py``: one on the
   hub's full features, one on the standard ones), ``ADIDA_WEIGHT`` of ADIDA and the rest of the
   series' own choice; :meth:`SeriesForecast.used_models` names it ("pooled + ADIDA + TSB").
5. Intervals: negative binomial around the mean with the dispersion of the series' own forecast
   errors (``distribution.py``): those of its inner backtest when the series is long enough for
   one, otherwise those of a one-step-ahead trailing average over its own history
   (:func:`history_dispersion`), pooled with the other series' like a prior.  A dispersion is in
   the series' own units, so a revenue series in minor units gets one thousands of times a count's;
   a fixed prior of 2 (a count's) gave the demo store's revenue an interval of +-0.07 %.
   ``tillsight hub backtest`` reports the coverage of the 80 % and 95 % intervals, for the SKUs and
   for the store's daily sales and revenue.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analytics.forecasting import global_model as gm
from analytics.forecasting.distribution import interval

if TYPE_CHECKING:  # statsforecast loads numba: imported only when a forecast runs
    from statsforecast import StatsForecast

log = logging.getLogger(__name__)

SWITCH_MARGIN = 0.0
PROFILE_PRIOR = 2000.0  # units in the profile window at which a series trusts its own weekday profile half
PROFILE_WEEKS = 12
INNER_WINDOWS = 2
MIN_TRAIN_OPEN_DAYS = 14
LEVELS = (0.8, 0.95)
DISPERSION_PRIOR_POINTS = 28.0
SHORT_SMOOTH_MODEL = "MovingAverage4w"  # for smooth series when no series is long enough to backtest
ADIDA = "ADIDA"
POOLED_LABEL = "pooled"  # the pooled gradient-boosted models' name in a series' model label
# Where a store has at least ``global_model.MIN_SERIES`` series the mean is an ensemble: ``GLOBAL_WEIGHT`` of the
# pooled gradient-boosted models (the average of one on the hub's full feature set and one on the standard features),
# ``ADIDA_WEIGHT`` of ADIDA and the rest of each series' own statsforecast choice (both with the weekday profile).
# Picked on the retail backtest's tuning origins (2011-02-17, 03-17 and 04-14, before the reported ones), MASE over
# the three: the per-series choice alone 0.763, the full-feature pooled model alone 0.745, the standard-feature one
# 0.758, the former ensemble (0.8 full-feature pooled + 0.2 choice) 0.741, this one 0.741; with every forecast
# scaled to no bias on those origins (MASE rewards a low forecast on lumpy data, so this compares shapes, not
# levels) 0.761 / 0.750 / 0.751 / 0.745 / 0.741.  Tweedie and Poisson objectives scored 2-3 % better but only by
# forecasting 6-12 % less than was sold: at the same bias they equalled L2, so the mean stays an L2 (expected
# demand) forecast.  (Choosing the share per store on the inner backtest's last window picked 0, where 0.5 to 0.8
# did better.)
GLOBAL_WEIGHT = 0.6
ADIDA_WEIGHT = 0.2
POOLED_MEMBERS = (gm.FEATURES, gm.STANDARD_FEATURES)
# The level each interval is drawn at so that it holds its stated share, picked on the same tuning origins: drawn at
# 80 % / 95 % the SKUs' intervals held 77.7 % / 94.9 % of the outcomes there, at 82 % / 95.5 %: 80.2 % / 95.4 % (the
# negative binomial's tail is a little short for a wholesaler's lumpy orders)
CALIBRATED_LEVEL = {0.8: 0.82, 0.95: 0.955}
HISTORY_ERROR_WINDOW = 2  # weeks of open days in the trailing average whose errors size a short series' interval


def candidate_models(open_days_per_week: int) -> list:
    from statsforecast.models import (
        ADIDA,
        IMAPA,
        TSB,
        CrostonSBA,
        SimpleExponentialSmoothingOptimized,
        WindowAverage,
    )

    week = max(1, open_days_per_week)
    return [CrostonSBA(), TSB(alpha_d=0.1, alpha_p=0.1), ADIDA(), IMAPA(),
            SimpleExponentialSmoothingOptimized(alias="SES"),
            WindowAverage(window_size=4 * week, alias="MovingAverage4w"),
            WindowAverage(window_size=8 * week, alias="MovingAverage8w")]


@dataclass
class SeriesForecast:
    days: pd.DatetimeIndex
    mean: pd.DataFrame  # future day x series
    bounds: dict[float, tuple[pd.DataFrame, pd.DataFrame]]  # level -> (lo, hi)
    model: pd.Series  # series -> chosen model
    backtest_mae: pd.Series  # series -> the chosen model's mean absolute error in the inner backtest
    dispersion: pd.Series
    demand_class: pd.Series
    default_model: str = ""
    model_scores: dict[str, float] = field(default_factory=dict)  # scaled error of each candidate
    global_weight: float = 0.0  # the pooled gradient-boosted model's share of the mean (0: per-series models only)
    # the pooled model on its own (mean, bounds), for the backtest's side-by-side table; None when not run
    global_only: tuple[pd.DataFrame, dict[float, tuple[pd.DataFrame, pd.DataFrame]]] | None = None

    def used_models(self) -> pd.Series:
        """Per series, what its mean really came from: ``model`` (the series' own choice) alone, or with the
        ensemble ("pooled + ADIDA + CrostonSBA"; "pooled + ADIDA" where the series chose ADIDA)."""
        if self.global_weight <= 0:
            return self.model.copy()
        return self.model.map(lambda m: f"{POOLED_LABEL} + {ADIDA}" if m in (ADIDA, "none")
                              else f"{POOLED_LABEL} + {ADIDA} + {m}")


def demand_class(y: np.ndarray) -> str:
    """Syntetos-Boylan class of an open-day series: smooth, erratic, intermittent or lumpy."""
    nz = y[y > 0]
    if len(nz) < 2:
        return "lumpy" if len(nz) else "none"
    adi = len(y) / len(nz)
    cv2 = float(np.var(nz) / np.mean(nz) ** 2)
    if adi < 1.32:
        return "smooth" if cv2 < 0.49 else "erratic"
    return "intermittent" if cv2 < 0.49 else "lumpy"


def weekday_profiles(open_hist: pd.DataFrame, prior: np.ndarray | None = None,
                     strength: float = PROFILE_PRIOR) -> tuple[np.ndarray, np.ndarray]:
    """Per series weekday multipliers (series x 7), shrunk towards the store's (returned second),
    from the last ``PROFILE_WEEKS`` weeks of open days; averaging 1 over the open days."""
    window = open_hist[open_hist.index >= open_hist.index.max() - pd.Timedelta(weeks=PROFILE_WEEKS)] \
        if len(open_hist) else open_hist
    wd = pd.DatetimeIndex(window.index).dayofweek.to_numpy()
    n_days = np.bincount(wd, minlength=7).astype(float)
    units = np.zeros((window.shape[1], 7))
    vals = window.to_numpy(dtype=float)
    for d in range(7):
        if n_days[d]:
            units[:, d] = vals[wd == d].sum(axis=0)
    open_mask = n_days > 0
    rate = np.divide(units, n_days, out=np.zeros_like(units), where=n_days > 0)
    total_units = units.sum(axis=1)
    mean_rate = total_units / max(n_days.sum(), 1.0)

    def normalise(w: np.ndarray) -> np.ndarray:
        w = np.where(open_mask, w, 0.0)
        avg = (w * n_days).sum(axis=-1, keepdims=True) / max(n_days.sum(), 1.0)
        return np.divide(w, avg, out=np.where(open_mask, 1.0, 0.0) * np.ones_like(w), where=avg > 0)

    if prior is None:
        store_rate = units.sum(axis=0) / np.maximum(n_days, 1)
        prior = normalise(store_rate[None, :])[0] if units.sum() > 0 else np.where(open_mask, 1.0, 0.0)
    raw = np.divide(rate, mean_rate[:, None], out=np.tile(prior, (len(rate), 1)), where=mean_rate[:, None] > 0)
    weight = (total_units / (total_units + strength))[:, None]
    return normalise(weight * raw + (1 - weight) * prior[None, :]), prior


def relative_scores(err: pd.DataFrame) -> dict[str, float]:
    """Each model's error relative to the average model on the same series, as a geometric mean
    over the series (scale-free, so a slow SKU counts as much as a best-seller, and robust to a
    series whose errors are tiny or huge); series where a model has no forecast are left out."""
    finite = err.loc[np.isfinite(err.to_numpy()).all(axis=1)]
    if finite.empty:
        return {str(c): 1.0 for c in err.columns}
    eps = 1e-6 + 0.01 * float(finite.to_numpy().mean())
    ratio = (finite + eps).div(finite.mean(axis=1) + eps, axis=0)
    return {str(c): round(float(np.exp(np.log(ratio[c]).mean())), 4) for c in finite.columns}


def history_dispersion(open_hist: pd.DataFrame, profiles: np.ndarray, week: int,
                       window_weeks: int = HISTORY_ERROR_WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Per series (dispersion, points) of one-step-ahead errors over its own open-day history: each
    day forecast as the trailing average of the ``window_weeks`` weeks of open days before it (with
    the weekday profile taken out and put back), from the series' first sale on.  The dispersion is
    sum(error^2) / sum(forecast), as :mod:`distribution` reads it; 1 with 0 points where no day
    could be forecast."""
    vals = open_hist.to_numpy(dtype=float)
    n_series = vals.shape[1]
    k = max(1, window_weeks * week)
    if len(vals) <= k:
        return np.ones(n_series), np.zeros(n_series, dtype=int)
    wd = pd.DatetimeIndex(open_hist.index).dayofweek.to_numpy()
    w = profiles[:, wd].T  # day x series
    z = np.divide(vals, w, out=np.zeros_like(vals), where=w > 0)
    csum = np.vstack([np.zeros((1, n_series)), np.cumsum(z, axis=0)])
    trailing = (csum[k:-1] - csum[:-k - 1]) / k  # the mean of z over the k days before day t (t >= k)
    pred = trailing * w[k:]
    started = np.cumsum(vals > 0, axis=0) > 0
    ok = started[:-k] & (w[k:] > 0)  # the whole window lies after the first sale
    err2 = np.where(ok, (vals[k:] - pred) ** 2, 0.0).sum(axis=0)
    scale = np.where(ok, pred, 0.0).sum(axis=0)
    points = ok.sum(axis=0)
    phi = np.divide(err2, scale, out=np.ones(n_series), where=scale > 0)
    # The weekday profile was estimated on these same days, so these errors are in-sample for it: with
    # n weeks behind each weekday an in-sample error has (n - 1) / n of the variance and a forecast
    # (n + 1) / n (the average of n days misses by 1/n of a day's variance).
    weeks = min(len(vals), PROFILE_WEEKS * week) / week
    phi *= (weeks + 1) / (weeks - 1) if weeks > 2 else 3.0
    return np.maximum(phi, 1.0), np.where(scale > 0, points, 0)


def _long(open_hist: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """statsforecast's long format on the open-day index; each series from its first sale."""
    vals = open_hist.to_numpy(dtype=float)
    started = (vals > 0).cumsum(axis=0) > 0
    ids, pos = np.nonzero(started.T)
    df = pd.DataFrame({"unique_id": open_hist.columns.to_numpy()[ids].astype(str), "ds": pos.astype("int64"),
                       "y": vals[pos, ids]})
    lengths = {str(u): int(n) for u, n in df.groupby("unique_id", sort=False).size().items()}
    return df, lengths


def _pandas(frame: object) -> pd.DataFrame:
    """statsforecast answers in the frame type it was given (pandas here); its signature allows polars too."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"statsforecast answered a {type(frame).__name__}, not a pandas DataFrame")
    return frame


def _statsforecast(models: list) -> StatsForecast:
    from statsforecast import StatsForecast

    return StatsForecast(models=models, freq=1, n_jobs=1)


def forecast_series(history: pd.DataFrame, traded: np.ndarray, future: pd.DatetimeIndex, future_closed: np.ndarray,
                    multipliers: np.ndarray | None = None, store_profile: np.ndarray | None = None,
                    profile_strength: float = PROFILE_PRIOR, levels: tuple[float, ...] = LEVELS,
                    margin: float = SWITCH_MARGIN, prices: pd.DataFrame | None = None,
                    groups: pd.Series | None = None, global_weight: float = GLOBAL_WEIGHT,
                    standard_global: bool = False) -> SeriesForecast:
    """``history``: daily values (rows: every day up to the forecast start; columns: series).
    ``traded``: whether the store traded on each history day.  ``future``: the days to forecast;
    ``future_closed``: those the store will be closed.  ``multipliers``: payday/holiday effects.
    ``prices``: mean unit price per day and series (NaN where it did not sell), ``groups``: each
    series' category, both optional, for the pooled model.  ``global_weight``: the pooled models' share
    of the mean where there are at least ``global_model.MIN_SERIES`` series (0: the per-series models alone; above
    0, ADIDA takes ``ADIDA_WEIGHT`` of it too).
    ``standard_global``: also forecast with the backtest's standard global model (``global_only``)."""
    cols = [str(c) for c in history.columns]
    history = history.set_axis(cols, axis=1)
    open_hist = history.loc[np.asarray(traded, dtype=bool)]
    future_open = ~np.asarray(future_closed, dtype=bool)
    h = int(future_open.sum())
    mult = np.ones(len(future)) if multipliers is None else np.asarray(multipliers, dtype=float)
    profiles, prior = weekday_profiles(open_hist, store_profile, profile_strength)
    week = int(np.count_nonzero(prior)) or 7
    models = candidate_models(week)
    names = [getattr(m, "alias", type(m).__name__) for m in models]
    df, lengths = _long(open_hist)
    classes = pd.Series({c: demand_class(open_hist[c].to_numpy()[np.argmax(open_hist[c].to_numpy() > 0):])
                         if (open_hist[c].to_numpy() > 0).any() else "none" for c in cols}, dtype=object)
    chosen: pd.Series = pd.Series("none", index=cols, dtype=object)
    mae: pd.Series = pd.Series(np.nan, index=cols)
    dispersion = pd.Series(1.0, index=cols)
    level = pd.Series(0.0, index=cols)
    adida_level = pd.Series(0.0, index=cols)
    scores: dict[str, float] = {}
    default = names[0]
    hist_weekday = pd.DatetimeIndex(open_hist.index).dayofweek.to_numpy()
    col_pos = {c: i for i, c in enumerate(cols)}
    if len(df) and h > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            need = INNER_WINDOWS * h + MIN_TRAIN_OPEN_DAYS
            long_ids = [u for u, n in lengths.items() if n >= need]
            phi_raw: dict[str, tuple[float, int]] = {}
            if long_ids:
                cv = _pandas(_statsforecast(models).cross_validation(
                    df=df[df["unique_id"].isin(set(long_ids))], h=h, n_windows=INNER_WINDOWS, step_size=h))
                w = profiles[cv["unique_id"].map(col_pos).to_numpy(), hist_weekday[cv["ds"].to_numpy()]]
                y = cv["y"].to_numpy()
                abs_err = {}
                for name in names:
                    pred = np.clip(cv[name].to_numpy(dtype=float), 0, None) * w
                    miss = np.where(np.isnan(pred), np.inf, np.abs(pred - y))
                    abs_err[name] = pd.Series(miss).groupby(cv["unique_id"].to_numpy()).mean()
                # a model with no forecast for a series (too short for its window) cannot be chosen for it
                err = pd.DataFrame(abs_err).fillna(np.inf)
                scores = relative_scores(err)
                default = min(scores, key=lambda n: scores[n])
                best = err.idxmin(axis=1)
                pick = np.where((err.min(axis=1) < (1 - margin) * err[default]) | ~np.isfinite(err[default]), best,
                                default)
                picked = pd.Series(pick, index=err.index)
                chosen.loc[picked.index] = picked
                mae.loc[picked.index] = [err[m][u] if np.isfinite(err[m][u]) else np.nan
                                         for u, m in zip(picked.index, picked.to_numpy(), strict=True)]
                for key, grp in cv.groupby("unique_id", sort=False):
                    u = str(key)
                    m = picked[u]
                    wu = profiles[col_pos[u], hist_weekday[grp["ds"].to_numpy()]]
                    pred = np.clip(grp[m].to_numpy(dtype=float), 0, None) * wu
                    ok = np.isfinite(pred)
                    if ok.any():
                        phi_raw[u] = (float(((grp["y"].to_numpy()[ok] - pred[ok]) ** 2).sum()
                                            / max(pred[ok].sum(), 1e-9)), int(ok.sum()))
            started = list(lengths)
            short = [u for u in started if u not in set(long_ids)]
            if long_ids:
                chosen.loc[short] = default
            else:  # no series to backtest: Croston's bias correction would shave ~5 % off a smooth series
                chosen.loc[short] = [SHORT_SMOOTH_MODEL if classes[u] in ("smooth", "erratic") else default
                                     for u in short]
            fc = _pandas(_statsforecast(models).forecast(df=df, h=1)).set_index("unique_id")
            for u in started:
                value = float(fc[chosen[u]][u]) if chosen[u] in fc.columns else np.nan
                if not np.isfinite(value):
                    value = float(df.loc[df["unique_id"] == u, "y"].mean())
                level[u] = max(value, 0.0)
                adida = float(fc[ADIDA][u]) if ADIDA in fc.columns else np.nan
                adida_level[u] = max(adida, 0.0) if np.isfinite(adida) else level[u]
            # a series too short for the inner backtest is sized by its own history's errors
            hist_phi, hist_n = history_dispersion(open_hist, profiles, week)
            for u in started:
                if u not in phi_raw and hist_n[col_pos[u]] > 0:
                    phi_raw[u] = (float(hist_phi[col_pos[u]]), int(hist_n[col_pos[u]]))
            prior_phi = float(np.median([v for v, _ in phi_raw.values()])) if phi_raw else 1.0
            prior_phi = max(prior_phi, 1.0)
            for u in started:
                raw, n = phi_raw.get(u, (prior_phi, 0))
                pooled = (n * raw + DISPERSION_PRIOR_POINTS * prior_phi) / (n + DISPERSION_PRIOR_POINTS)
                dispersion[u] = max(1.0, pooled)
    wd = future.dayofweek.to_numpy()
    day_factor = np.where(future_open, mult, 0.0)
    shape = profiles[:, wd].T * day_factor[:, None]
    mean = level.to_numpy()[None, :] * shape
    weight = 0.0
    global_only = None
    can_pool = h > 0 and len(cols) >= gm.MIN_SERIES and len(df) > 0
    members: tuple[tuple[str, ...], ...] = POOLED_MEMBERS if global_weight > 0 else ()
    if standard_global and gm.STANDARD_FEATURES not in members:
        members = (*members, gm.STANDARD_FEATURES)
    pooled_fc = _pooled(open_hist, pd.DatetimeIndex(history.index), traded, future[future_open], future_closed,
                        future, prior, prices, groups, members) if can_pool and members else {}

    def spread(values: np.ndarray) -> np.ndarray:  # series x open days -> future day x series
        out = np.zeros_like(mean)
        out[future_open] = values.T * mult[future_open][:, None]
        return out

    fitted = [f for f in (pooled_fc.get(m) for m in POOLED_MEMBERS) if f is not None] if global_weight > 0 else []
    if fitted:
        weight = float(global_weight)
        g_mean = spread(np.mean(fitted, axis=0))
        adida_mean = adida_level.to_numpy()[None, :] * shape
        mean = (1 - weight - ADIDA_WEIGHT) * mean + ADIDA_WEIGHT * adida_mean + weight * g_mean
    s_pooled = pooled_fc.get(gm.STANDARD_FEATURES) if standard_global else None
    if s_pooled is not None:
        s_mean = spread(s_pooled)
        global_only = (pd.DataFrame(s_mean, index=future, columns=cols), _bounds(s_mean, dispersion, future, levels))
    mean_df = pd.DataFrame(mean, index=future, columns=cols)
    bounds = _bounds(mean, dispersion, future, levels)
    return SeriesForecast(future, mean_df, bounds, chosen, mae, dispersion, classes, default, scores, weight,
                          global_only)


def _bounds(mean: np.ndarray, dispersion: pd.Series, future: pd.DatetimeIndex,
            levels: tuple[float, ...]) -> dict[float, tuple[pd.DataFrame, pd.DataFrame]]:
    """Negative binomial intervals with each series' dispersion, at the calibrated levels."""
    cols = list(dispersion.index)
    phi = np.broadcast_to(dispersion.to_numpy()[None, :], mean.shape)
    out = {}
    for lv in levels:
        lo, hi = interval(mean, phi, CALIBRATED_LEVEL.get(lv, lv))
        out[lv] = (pd.DataFrame(lo, index=future, columns=cols), pd.DataFrame(hi, index=future, columns=cols))
    return out


def _pooled(open_hist: pd.DataFrame, days: pd.DatetimeIndex, traded: np.ndarray, future_open_days: pd.DatetimeIndex,
            future_closed: np.ndarray, future: pd.DatetimeIndex, store_profile: np.ndarray, prices: pd.DataFrame | None,
            groups: pd.Series | None,
            members: tuple[tuple[str, ...], ...]) -> dict[tuple[str, ...], np.ndarray | None]:
    """The pooled models' forecasts (series x future open days), one per feature set in ``members``, fitted on
    the whole history; empty (or None for a member) where there is too little to learn from."""
    cols = list(open_hist.columns)
    h = len(future_open_days)
    if len(open_hist) < gm.MIN_AGE + h:
        return {}
    usual_closed = np.flatnonzero(np.asarray(store_profile) == 0)
    traded = np.asarray(traded, dtype=bool)
    past = days[~traded & ~np.isin(days.dayofweek, usual_closed)]
    past = past[past > open_hist.index[0]]
    ahead = future[np.asarray(future_closed, dtype=bool) & ~np.isin(future.dayofweek, usual_closed)]
    closures = np.sort(np.concatenate([past.to_numpy(), ahead.to_numpy()]).astype("datetime64[D]"))
    price_vals = None
    if prices is not None:
        price_vals = prices.reindex(index=open_hist.index, columns=cols).to_numpy(dtype=float)
    group_of = groups.reindex(cols).fillna("").astype(str).to_numpy() if groups is not None \
        else np.zeros(len(cols), dtype=str)
    panel = gm.Panel(open_hist.to_numpy(dtype=float), pd.DatetimeIndex(open_hist.index), price_vals, group_of,
                     closures)
    return dict(zip(members, gm.fit_predict(panel, len(open_hist), future_open_days, members), strict=True))
