"""The predictive distribution of a day's demand: negative binomial with the forecast as its mean
and a variance ``dispersion`` times the mean (quasi-Poisson; ``dispersion`` = 1 is Poisson).

Counts are whole, never negative and skewed when they are small, which a normal interval around
the mean gets wrong for the few-units-a-week products of a small shop.  The dispersion of each
series is measured on its own backtest errors, so the intervals are as wide as the forecaster's
real errors (the backtest reports their coverage).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

POISSON_EPS = 1e-6


def quantile(mean: np.ndarray, dispersion: np.ndarray, q: float) -> np.ndarray:
    """The ``q`` quantile for each (mean, dispersion) pair; 0 where the mean is 0."""
    mu = np.maximum(np.asarray(mean, dtype=float), 0.0)
    phi = np.maximum(np.broadcast_to(np.asarray(dispersion, dtype=float), mu.shape), 1.0)
    out = np.zeros_like(mu)
    live = mu > 0
    nb = live & (phi > 1.0 + POISSON_EPS)
    po = live & ~nb
    if nb.any():
        n = mu[nb] / (phi[nb] - 1.0)
        out[nb] = stats.nbinom.ppf(q, n, 1.0 / phi[nb])
    if po.any():
        out[po] = stats.poisson.ppf(q, mu[po])
    return out


def interval(mean: np.ndarray, dispersion: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Central ``level`` (e.g. 0.8) prediction interval."""
    tail = (1.0 - level) / 2.0
    return quantile(mean, dispersion, tail), quantile(mean, dispersion, 1.0 - tail)
