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


def zero_probability(mean: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    """P(demand = 0) for each (mean, dispersion) pair."""
    mu = np.maximum(np.asarray(mean, dtype=float), 0.0)
    phi = np.maximum(np.broadcast_to(np.asarray(dispersion, dtype=float), mu.shape), 1.0)
    nb = phi > 1.0 + POISSON_EPS
    with np.errstate(divide="ignore", invalid="ignore"):
        p_nb = np.power(1.0 / phi, mu / np.where(nb, phi - 1.0, 1.0))
    return np.where(nb, p_nb, np.exp(-mu))


def interval(mean: np.ndarray, dispersion: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """A ``level`` (e.g. 0.8) prediction interval: the central one, except where a day of no sale is
    more likely than the lower tail ((1 - level) / 2): there the interval starts at 0 and ends at the
    ``level`` quantile.  (The central interval of such a day starts at 0 too but reaches the
    1 - tail quantile, so it holds level + tail or more: 90 % for an "80 %" interval of a slow SKU.)"""
    tail = (1.0 - level) / 2.0
    lo, hi = quantile(mean, dispersion, tail), quantile(mean, dispersion, 1.0 - tail)
    from_zero = zero_probability(mean, dispersion) >= tail
    if from_zero.any():
        hi = np.where(from_zero, quantile(mean, dispersion, level), hi)
        lo = np.where(from_zero, 0.0, lo)
    return lo, hi
