"""One gradient-boosted model (LightGBM) for all of a store's SKUs at once, forecasting each of the next
open days directly from what was known at the forecast's origin.

Every SKU teaches the model (pooling): a slow SKU borrows the shape of the many like it.  A sample is
one (SKU, origin, day ahead): the origin is a past open day (every ``ORIGIN_STEP`` open days), the
target the units sold on the ``k``-th open day after it, divided by the SKU's recent level so that a
best-seller and a slow mover speak the same scale.  Features, all read before the origin:

* the SKU's recent level (last 6, 24 and 96 open days against the last 48), the share of days it sold,
  the days since its last sale, its age, how lumpy its sales are and its own weekday profile;
* the same trends for the whole store and for the SKU's category (what related products are doing);
* the price it last sold at against its usual price (where the data has prices);
* the day ahead: how far, its weekday, and the store's calendar (days to the next and since the last
  day the store was closed outside its usual closed weekdays: the run-up to a holiday);
* a yearly pattern where the history holds a year: the ratio, one year earlier, of the weeks around
  the day ahead to the weeks before the origin (the autumn run-up), missing otherwise.

The model is trained on origins whose targets all lie before the one forecast, so nothing after the
origin is read (``tests/analytics/forecasting`` checks it).  Paydays and the holidays a store opens
on are applied afterwards as the store's multipliers, as for the per-series models.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

ORIGIN_STEP = 3  # open days between two training origins
MAX_TRAIN_ROWS = 200_000
MIN_SERIES = 20  # fewer series than this: too little to pool, the per-series models forecast alone
MIN_AGE = 14  # open days of history a SKU needs at an origin to be a training sample
CAP_DAYS = 60.0
YEAR = 364
# Picked on the retail backtest's tuning origins (2011-02-17, 03-17, 04-14; the reported ones come after): 31 leaves
# and 100 samples a leaf scored MASE 0.860 / 0.803 / 0.646, 15 leaves and 300 samples 0.781 / 0.812 / 0.641 (steadier
# on a short history)
PARAMS: dict[str, Any] = {"objective": "l2", "n_estimators": 150, "learning_rate": 0.05, "num_leaves": 15,
                          "min_child_samples": 300, "subsample": 0.8, "subsample_freq": 1,
                          "colsample_bytree": 0.8, "reg_lambda": 1.0, "max_bin": 63, "verbose": -1,
                          "random_state": 0, "deterministic": True, "force_row_wise": True, "n_jobs": 1}
TARGET_CAP = 30.0  # a day of 30x a SKU's usual level is one order, not a level: capped when learning
FEATURES = ("step", "weekday", "to_closure", "since_closure", "log_level", "r6", "r24", "r96", "sold_share",
            "idle", "age", "lumpiness", "own_weekday", "store_weekday", "store_r6", "store_r24", "group_r6",
            "group_r24", "rel_price", "year_ratio")
# the standard global model of the backtest: lags, rolling windows, the weekday and the price only, without
# what the hub adds (the store's calendar, the store's and the category's trends, the yearly pattern)
STANDARD_FEATURES = ("step", "weekday", "log_level", "r6", "r24", "r96", "sold_share", "idle", "age", "lumpiness",
                     "own_weekday", "rel_price")


@dataclass
class Panel:
    """A store's SKUs on the days it traded: ``vals`` (open days x SKUs), ``dates`` (those days),
    ``prices`` (mean unit price per open day and SKU, NaN on days it did not sell; or None),
    ``groups`` (a category number per SKU) and ``closures`` (days the store was or will be closed on
    a weekday it usually trades: holidays, breaks)."""

    vals: np.ndarray
    dates: pd.DatetimeIndex
    prices: np.ndarray | None
    groups: np.ndarray
    closures: np.ndarray  # datetime64[D], sorted

    def __post_init__(self) -> None:
        n_days, n = self.vals.shape
        sold = self.vals > 0
        self.first = np.where(sold.any(axis=0), np.argmax(sold, axis=0), n_days)
        self.csum = np.vstack([np.zeros((1, n)), np.cumsum(self.vals, axis=0)])
        self.csold = np.vstack([np.zeros((1, n)), np.cumsum(sold, axis=0)])
        store = self.vals.sum(axis=1)
        self.store_csum = np.concatenate([[0.0], np.cumsum(store)])
        codes = np.unique(self.groups, return_inverse=True)[1]
        self.group_codes = codes
        group_vals = np.zeros((n_days, int(codes.max()) + 1 if n else 1))
        for g in np.unique(codes):
            group_vals[:, g] = self.vals[:, codes == g].sum(axis=1)
        self.group_csum = np.vstack([np.zeros((1, group_vals.shape[1])), np.cumsum(group_vals, axis=0)])
        self.day_num = self.dates.to_numpy().astype("datetime64[D]").astype("int64")
        if self.prices is not None:
            filled = pd.DataFrame(self.prices).ffill().to_numpy()
            self.last_price = filled

    def window_mean(self, csum: np.ndarray, o: int, w: int) -> np.ndarray:
        lo = max(0, o - w)
        return (csum[o] - csum[lo]) / max(o - lo, 1)


@contextmanager
def _quiet() -> Iterator[None]:
    """numpy's all-NaN-slice warnings are expected here (a SKU with no price or no sale in a window)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        yield


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.full(np.broadcast(a, b).shape, np.nan), where=b > 0)


def _weekday_share(panel: Panel, o: int, weeks: int = 12, strength: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    """Per SKU and weekday, the SKU's units on that weekday over its mean open day (last ``weeks``
    weeks before ``o``), shrunk towards the store's by ``strength`` units; and the store's."""
    lo = int(np.searchsorted(panel.day_num, panel.day_num[o - 1] - 7 * weeks, side="right")) if o else 0
    vals = panel.vals[lo:o]
    wd = panel.dates[lo:o].dayofweek.to_numpy()
    n_days = np.bincount(wd, minlength=7).astype(float)
    per_wd = np.zeros((vals.shape[1], 7))
    for d in range(7):
        if n_days[d]:
            per_wd[:, d] = vals[wd == d].sum(axis=0)
    rate = per_wd / np.maximum(n_days, 1)
    total = per_wd.sum(axis=1)
    mean = total / max(n_days.sum(), 1)
    store_rate = per_wd.sum(axis=0) / np.maximum(n_days, 1)
    store_mean = per_wd.sum() / max(n_days.sum(), 1)
    store = store_rate / store_mean if store_mean > 0 else np.ones(7)
    own = np.divide(rate, mean[:, None], out=np.tile(store, (len(rate), 1)), where=mean[:, None] > 0)
    weight = (total / (total + strength))[:, None]
    return weight * own + (1 - weight) * store[None, :], store


def origin_features(panel: Panel, o: int, targets: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Features of every SKU for each target day after origin ``o`` (the first ``o`` open days are the
    history).  Returns (X: SKUs*days x features, scale: the level per SKU the target is divided by; 0
    for a SKU with no sale in its history)."""
    n = panel.vals.shape[1]
    h = len(targets)
    age = np.clip(o - panel.first, 0, None).astype(float)
    m = {w: panel.window_mean(panel.csum, o, w) for w in (6, 24, 48, 96)}
    # the level: the mean over the last 48 open days since the SKU's first sale, else over all it has
    since = np.maximum(np.minimum(age, 48), 1)
    lvl48 = (panel.csum[o] - panel.csum[np.maximum(o - since.astype(int), 0), np.arange(n)]) / since
    scale = np.where(lvl48 > 0, lvl48, _ratio(panel.csum[o], np.maximum(age, 1)))
    scale = np.nan_to_num(scale)
    short = age < 96
    r96 = np.where(short, np.nan, _ratio(m[96], scale))
    sold_share = (panel.csold[o] - panel.csold[max(o - 48, 0)]) / np.maximum(np.minimum(age, 48), 1)
    last_sale = _idle(panel, o)
    recent = panel.vals[max(o - 96, 0):o]
    nz = np.where(recent > 0, recent, np.nan)
    with np.errstate(all="ignore"), _quiet():
        lump = np.nanstd(nz, axis=0) / np.nanmean(nz, axis=0)
    own_wd, store_wd = _weekday_share(panel, o)
    store_r6 = _ratio(panel.window_mean(panel.store_csum, o, 6), panel.window_mean(panel.store_csum, o, 48))
    store_r24 = _ratio(panel.window_mean(panel.store_csum, o, 24), panel.window_mean(panel.store_csum, o, 96))
    g48 = panel.window_mean(panel.group_csum, o, 48)
    group_r6 = _ratio(panel.window_mean(panel.group_csum, o, 6), g48)[panel.group_codes]
    group_r24 = _ratio(panel.window_mean(panel.group_csum, o, 24), panel.window_mean(panel.group_csum, o, 96))
    group_r24 = group_r24[panel.group_codes]
    if panel.prices is not None and o > 0:
        hist_prices = panel.prices[max(o - 96, 0):o]
        with _quiet():
            usual = np.nanmedian(hist_prices, axis=0)
        rel_price = _ratio(panel.last_price[o - 1], usual)
    else:
        rel_price = np.full(n, np.nan)
    # the day ahead
    t_num = targets.to_numpy().astype("datetime64[D]").astype("int64")
    wd = targets.dayofweek.to_numpy()
    closures = panel.closures.astype("int64")
    origin_day = panel.day_num[o - 1] if o else t_num[0] - 1
    known = closures[closures <= t_num[-1]]
    if len(known):
        nxt_i = np.searchsorted(known, t_num, side="right")
        to_closure = np.where(nxt_i < len(known), known[np.minimum(nxt_i, len(known) - 1)] - t_num, CAP_DAYS)
        prev_i = np.searchsorted(known, t_num, side="left") - 1
        since_closure = np.where(prev_i >= 0, t_num - known[np.maximum(prev_i, 0)], CAP_DAYS)
    else:
        to_closure = since_closure = np.full(len(t_num), CAP_DAYS)
    year = _year_ratio(panel, origin_day, t_num)  # SKUs x days
    step = np.arange(1, h + 1, dtype=float)
    cols = {
        "step": np.broadcast_to(step, (n, h)), "weekday": np.broadcast_to(wd, (n, h)),
        "to_closure": np.broadcast_to(np.minimum(to_closure, CAP_DAYS), (n, h)),
        "since_closure": np.broadcast_to(np.minimum(since_closure, CAP_DAYS), (n, h)),
        "log_level": np.log1p(scale)[:, None], "r6": _ratio(m[6], scale)[:, None],
        "r24": _ratio(m[24], scale)[:, None], "r96": r96[:, None], "sold_share": sold_share[:, None],
        "idle": np.minimum(last_sale, CAP_DAYS)[:, None], "age": np.minimum(age, 200)[:, None],
        "lumpiness": lump[:, None], "own_weekday": own_wd[:, wd],
        "store_weekday": np.broadcast_to(store_wd[wd], (n, h)),
        "store_r6": np.full((n, 1), store_r6), "store_r24": np.full((n, 1), store_r24),
        "group_r6": group_r6[:, None], "group_r24": group_r24[:, None], "rel_price": rel_price[:, None],
        "year_ratio": year,
    }
    x = np.empty((n, h, len(FEATURES)), dtype=np.float32)
    for i, name in enumerate(FEATURES):
        x[:, :, i] = np.broadcast_to(np.asarray(cols[name], dtype=float), (n, h))
    return x.reshape(n * h, len(FEATURES)), scale


def _idle(panel: Panel, o: int) -> np.ndarray:
    """Open days since each SKU's last sale before ``o`` (``CAP_DAYS`` when none)."""
    window = panel.vals[max(o - int(CAP_DAYS), 0):o] > 0
    if not len(window):
        return np.full(panel.vals.shape[1], CAP_DAYS)
    rev = window[::-1]
    any_ = rev.any(axis=0)
    return np.where(any_, np.argmax(rev, axis=0), CAP_DAYS).astype(float)


def _year_ratio(panel: Panel, origin_day: int, t_num: np.ndarray) -> np.ndarray:
    """Per SKU and target day: one year earlier, the mean units of the 15 days around the target
    over the mean of the 56 days before the origin.  NaN where the history does not reach back."""
    n = panel.vals.shape[1]
    if len(panel.day_num) == 0 or panel.day_num[0] > origin_day - YEAR - 56:
        return np.full((n, len(t_num)), np.nan)

    def mean_between(lo_day: np.ndarray, hi_day: np.ndarray) -> np.ndarray:
        lo = np.searchsorted(panel.day_num, lo_day, side="left")
        hi = np.searchsorted(panel.day_num, hi_day, side="left")
        return (panel.csum[hi] - panel.csum[lo]).T / np.maximum(hi - lo, 1)  # SKUs x days

    base = mean_between(np.array([origin_day - YEAR - 56]), np.array([origin_day - YEAR]))
    around = mean_between(t_num - YEAR - 7, t_num - YEAR + 8)
    return _ratio(around, np.broadcast_to(base, around.shape))


def training_set(panel: Panel, end: int, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Samples from origins whose ``horizon`` target days all lie before open day ``end``."""
    xs, ys, ss = [], [], []
    rows = 0
    o = end - horizon
    while o >= MIN_AGE and rows < MAX_TRAIN_ROWS:
        x, scale = origin_features(panel, o, panel.dates[o:o + horizon])
        age = o - panel.first
        keep = np.repeat((scale > 0) & (age >= MIN_AGE), horizon)
        y = panel.vals[o:o + horizon].T.reshape(-1)
        s = np.repeat(scale, horizon)
        xs.append(x[keep])
        ys.append(y[keep])
        ss.append(s[keep])
        rows += int(keep.sum())
        o -= ORIGIN_STEP
    if not xs:
        return np.empty((0, len(FEATURES)), np.float32), np.empty(0), np.empty(0)
    return np.vstack(xs), np.concatenate(ys), np.concatenate(ss)


class GlobalModel:
    """The fitted model, or None where there was nothing to learn from."""

    def __init__(self, params: dict[str, Any] | None = None, features: tuple[str, ...] = FEATURES) -> None:
        self.params = {**PARAMS, **(params or {})}
        self.columns = [FEATURES.index(f) for f in features]
        self.model: Any = None

    def fit(self, panel: Panel, end: int, horizon: int) -> GlobalModel:
        return self.fit_samples(*training_set(panel, end, horizon))

    def fit_samples(self, x: np.ndarray, y: np.ndarray, s: np.ndarray) -> GlobalModel:
        """Fit on samples of :func:`training_set` (all of ``FEATURES``; this model reads its own columns)."""
        if len(y) < 500 or not (y > 0).any():
            log.info("global model: %d samples, too few to learn from", len(y))
            return self
        import lightgbm as lgb

        # one thread: on a shared machine two threads ran seven times slower than one
        self.model = lgb.LGBMRegressor(**self.params).fit(x[:, self.columns], np.minimum(y / s, TARGET_CAP))
        return self

    def predict_features(self, x: np.ndarray, scale: np.ndarray, days: int) -> np.ndarray | None:
        """Mean units (SKUs x ``days``) from :func:`origin_features`' answer, or None when not fitted."""
        if self.model is None or days == 0:
            return None
        pred = np.clip(self.model.predict(x[:, self.columns]), 0, None).reshape(len(scale), days)
        return pred * scale[:, None]

    def predict(self, panel: Panel, o: int, targets: pd.DatetimeIndex) -> np.ndarray | None:
        """Mean units per SKU (rows) and target day (columns), or None when the model is not fitted."""
        if self.model is None or len(targets) == 0:
            return None
        x, scale = origin_features(panel, o, targets)
        return self.predict_features(x, scale, len(targets))


def fit_predict(panel: Panel, end: int, targets: pd.DatetimeIndex,
                members: tuple[tuple[str, ...], ...]) -> list[np.ndarray | None]:
    """One pooled model per feature set in ``members``, all learnt from the same samples (built once) and
    forecasting ``targets`` from open day ``end``: mean units per SKU and target day, None where a model had
    too little to learn from."""
    x, y, s = training_set(panel, end, len(targets))
    models = [GlobalModel(features=f).fit_samples(x, y, s) for f in members]
    if all(m.model is None for m in models):
        return [None] * len(models)
    fx, scale = origin_features(panel, end, targets)
    return [m.predict_features(fx, scale, len(targets)) for m in models]
