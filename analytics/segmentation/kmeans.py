"""k-means with k chosen by the silhouette score, sized for a million rows on a small machine.

The silhouette of each candidate k is measured on a fixed random sample (it is quadratic in the
rows); the chosen k is then fitted on a larger sample and every row gets its nearest centre.
Deterministic: the same rows give the same clusters.  Runs single-threaded: on a busy machine
OpenMP's spinning threads made k-means twenty times slower, and the jobs run stores in parallel
processes anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

SILHOUETTE_SAMPLE = 3000
FIT_SAMPLE = 60000


@dataclass
class KChoice:
    k: int
    labels: np.ndarray  # one per row
    centres: np.ndarray  # in the scaled feature space
    silhouettes: dict[int, float] = field(default_factory=dict)


def choose_k(x: np.ndarray, k_range: range = range(2, 9), seed: int = 0,
             silhouette_sample: int = SILHOUETTE_SAMPLE, fit_sample: int = FIT_SAMPLE) -> KChoice:
    """Fit k-means for each k in ``k_range`` (those below the number of distinct rows) and keep
    the k with the highest silhouette (the smaller k on a tie)."""
    with threadpool_limits(limits=1):
        return _choose_k(x, k_range, seed, silhouette_sample, fit_sample)


def _choose_k(x: np.ndarray, k_range: range, seed: int, silhouette_sample: int, fit_sample: int) -> KChoice:
    n = len(x)
    rng = np.random.default_rng(seed)
    distinct = len(np.unique(x, axis=0)) if n <= 200_000 else n
    ks = [k for k in k_range if k < min(n, distinct)]
    if n < 3 or not ks:
        return KChoice(1, np.zeros(n, dtype=int), x.mean(axis=0, keepdims=True) if n else np.zeros((1, x.shape[1])))
    sample = x if n <= silhouette_sample else x[rng.choice(n, silhouette_sample, replace=False)]
    fit_rows = x if n <= fit_sample else x[rng.choice(n, fit_sample, replace=False)]
    scores: dict[int, float] = {}
    models: dict[int, KMeans] = {}
    for k in ks:
        km = KMeans(n_clusters=k, n_init=3, random_state=seed, max_iter=200).fit(fit_rows)
        lab = km.predict(sample)
        if len(np.unique(lab)) < 2:
            continue
        scores[k] = float(silhouette_score(sample, lab))
        models[k] = km
    if not scores:
        return KChoice(1, np.zeros(n, dtype=int), x.mean(axis=0, keepdims=True))
    best = max(scores, key=lambda k: (round(scores[k], 6), -k))
    km = models[best]
    return KChoice(best, km.predict(x), km.cluster_centers_, {k: round(v, 4) for k, v in scores.items()})
