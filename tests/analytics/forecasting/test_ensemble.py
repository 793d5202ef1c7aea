"""The hub's forecaster where a store has enough SKUs to pool: an ensemble of the pooled LightGBM models
(full and standard features, learnt from one set of samples), ADIDA and each SKU's own choice, whose mean
stays the expected demand, and whose model label says what the mean came from."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.forecasting import global_model as gm
from analytics.forecasting.demand import ADIDA, forecast_series

DAYS = pd.date_range("2026-01-05", periods=168, freq="D")  # 24 weeks from a Monday
FUTURE = pd.date_range(DAYS[-1] + pd.Timedelta(days=1), periods=28, freq="D")


def _store(n: int, seed: int = 5) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """``n`` SKUs selling Poisson units at rates from 0.2 to 4 a day, closed on Sundays; and the rates."""
    rng = np.random.default_rng(seed)
    rates = np.geomspace(0.2, 4.0, n)
    open_day = np.asarray(DAYS.dayofweek != 6)
    units = pd.DataFrame({f"S{i:02d}": rng.poisson(rates[i] * open_day).astype(float) for i in range(n)},
                         index=DAYS)
    return units, open_day, rates


def test_a_store_with_enough_skus_gets_the_ensemble_and_its_label_says_so() -> None:
    units, traded, rates = _store(24)
    closed = np.asarray(FUTURE.dayofweek == 6)
    fc = forecast_series(units, traded, FUTURE, closed)
    assert fc.global_weight > 0
    labels = fc.used_models()
    for sku, chosen in fc.model.items():
        expected = f"pooled + {ADIDA}" if chosen == ADIDA else f"pooled + {ADIDA} + {chosen}"
        assert labels[sku] == expected
    # the mean is the expected demand, not a median: a slow SKU's median day is 0, its forecast is not
    open_days = int((~closed).sum())
    total = fc.mean.sum().to_numpy()
    assert abs(total.sum() / (rates.sum() * open_days) - 1) < 0.1
    slow = fc.mean.iloc[:, 0][~closed]
    assert (slow > 0.05).all() and abs(slow.mean() / rates[0] - 1) < 0.6
    assert (fc.mean[closed] == 0).all().all()  # closed Sundays still get nothing


def test_a_store_too_small_to_pool_keeps_each_skus_own_model_and_label() -> None:
    units, traded, _ = _store(gm.MIN_SERIES - 1)
    fc = forecast_series(units, traded, FUTURE, np.asarray(FUTURE.dayofweek == 6))
    assert fc.global_weight == 0
    pd.testing.assert_series_equal(fc.used_models(), fc.model)
    assert not fc.used_models().str.contains("pooled").any()


def test_the_pooled_members_learn_from_one_set_of_samples_as_each_would_alone() -> None:
    units, traded, _ = _store(24, seed=8)
    open_units = units.loc[traded]
    panel = gm.Panel(open_units.to_numpy(), pd.DatetimeIndex(open_units.index), None, np.zeros(24, dtype=str),
                     np.array([], dtype="datetime64[D]"))
    targets = FUTURE[FUTURE.dayofweek != 6]
    together = gm.fit_predict(panel, len(open_units), targets, (gm.FEATURES, gm.STANDARD_FEATURES))
    for features, pred in zip((gm.FEATURES, gm.STANDARD_FEATURES), together, strict=True):
        alone = gm.GlobalModel(features=features).fit(panel, len(open_units), len(targets))
        np.testing.assert_allclose(pred, alone.predict(panel, len(open_units), targets))
    assert not np.allclose(together[0], together[1])  # two members that differ
