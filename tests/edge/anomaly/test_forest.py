"""The forest's fast scoring path gives exactly sklearn's scores."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import IsolationForest

from edge.anomaly.forest import _TreeTables


def test_fast_path_matches_sklearn_score_samples():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2000, 9))
    forest = IsolationForest(n_estimators=60, random_state=1).fit(x)
    probe = np.vstack([rng.normal(size=(40, 9)), rng.normal(size=(10, 9)) * 6])
    fast = _TreeTables.build(forest).scores(probe)
    assert np.allclose(fast, -forest.score_samples(probe), atol=1e-12)
    # outliers score higher than inliers, as the forest says
    assert fast[40:].mean() > fast[:40].mean()
