"""An Isolation Forest fitted on the store's own completed sales, with a calibrated 0..1 score.

The forest isolates sales that are unlike the store's history (few random splits separate them).
Its raw anomaly score (``-score_samples``) is mapped to 0..1 against the training distribution:

    u = (a - median_a) / (quantile_a(1 - c) - median_a)        c = contamination, 0.005 when "auto"
    score = 1 / (1 + exp(-K * (u - U0)))

with K and U0 chosen so that the median training sale scores 0.05 and the sale at the ``1 - c``
quantile scores `HIGH_ANCHOR_SCORE` (0.70, the default alert threshold): typical sales score low,
about one sale in 200 of the history reaches the threshold, and sales far beyond it approach 1.

Reasons: the features of the sale that lie beyond the history's 99.5th percentile, ordered by their
robust z-score (distance from the median in units of the inter-quartile spread), e.g.
"5 lines voided (usual 0)".
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import IsolationForest

from contracts.money import format_money

from .features import FEATURE_COLUMNS, SaleFeatures, features_matrix
from .reasons import Reason, duration, percent, plural, times

log = logging.getLogger(__name__)

LOW_ANCHOR_SCORE = 0.05  # score of the median training sale
HIGH_ANCHOR_SCORE = 0.70  # score of the training sale at the (1 - contamination) quantile
AUTO_TAIL = 0.005  # tail share used when contamination is "auto"
N_ESTIMATORS = 200

_K = math.log(HIGH_ANCHOR_SCORE / (1 - HIGH_ANCHOR_SCORE)) - math.log(LOW_ANCHOR_SCORE / (1 - LOW_ANCHOR_SCORE))
_U0 = -math.log(LOW_ANCHOR_SCORE / (1 - LOW_ANCHOR_SCORE)) / _K

# raw features described in reasons, with the smallest step above the median worth naming
_RAW: dict[str, float] = {
    "total": 0.0, "item_count": 3.0, "manual_lines": 2.0, "voids": 2.0, "overrides": 1.0,
    "discount_share": 0.1, "duration_s": 120.0, "vision_mismatches": 2.0, "cashier_void_rate": 0.05,
    "drawer_opens_no_sale": 2.0,
}
# reasons about the same thing as a rule share its key, so the two merge
_KEY = {"duration_s": "duration"}
# which model column measures each raw feature (for the robust z that orders the reasons)
_COLUMN = {"total": "log_total", "duration_s": "log_duration_s"}


def robust_center_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column: the median, and the inter-quartile range / 1.349 (a robust standard deviation).

    A column whose quartiles coincide (a count that is nearly always 0) falls back to its standard
    deviation, then to 1, so rare non-zero values still stand out without dividing by zero."""
    center = np.median(x, axis=0)
    q1, q3 = np.percentile(x, [25, 75], axis=0)
    scale = (q3 - q1) / 1.349
    std = x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, np.where(std > 1e-9, std, 1.0))
    return center, scale


def average_path_length(n: np.ndarray) -> np.ndarray:
    """c(n): the average path length of an unsuccessful search in a binary search tree of n points
    (Liu et al., 2008), the normaliser of isolation depths."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


@dataclass
class _TreeTables:
    """Per tree: the isolation depth credited to a sample that ends in each node."""

    trees: list  # sklearn Tree objects
    features: list[np.ndarray]  # the feature subset each tree was grown on
    node_values: list[np.ndarray]  # depth(node) + c(samples in node), used at the leaves
    normaliser: float  # c(max_samples)

    @classmethod
    def build(cls, forest: IsolationForest) -> _TreeTables:
        trees, features, values = [], [], []
        for est, feats in zip(forest.estimators_, forest.estimators_features_, strict=True):
            tree = est.tree_
            depth = np.zeros(tree.node_count, dtype=np.float64)
            for node in range(tree.node_count):  # parents come before their children
                for child in (tree.children_left[node], tree.children_right[node]):
                    if child >= 0:
                        depth[child] = depth[node] + 1.0
            trees.append(tree)
            features.append(np.asarray(feats))
            values.append(depth + average_path_length(tree.n_node_samples))
        normaliser = float(average_path_length(np.array([forest.max_samples_]))[0])
        return cls(trees, features, values, normaliser)

    def scores(self, x: np.ndarray) -> np.ndarray:
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        depth = np.zeros(x32.shape[0], dtype=np.float64)
        for tree, feats, values in zip(self.trees, self.features, self.node_values, strict=True):
            depth += values[tree.apply(np.ascontiguousarray(x32[:, feats]))]
        return 2.0 ** (-depth / (len(self.trees) * self.normaliser))


@dataclass
class ForestModel:
    forest: IsolationForest
    center: np.ndarray  # robust scaling of the model columns
    scale: np.ndarray
    a_median: float  # calibration anchors on the training anomaly scores
    a_high: float
    medians: dict[str, float]  # raw features: history median and 99.5th percentile
    highs: dict[str, float]
    low_duration_s: float  # 0.5th percentile of durations (for "too fast" reasons)

    @classmethod
    def fit(cls, features: Sequence[SaleFeatures], contamination: float | str = "auto",
            random_state: int | None = 0, n_estimators: int = N_ESTIMATORS) -> ForestModel:
        x = features_matrix(features)
        if len(x) < 2:
            raise ValueError("the forest needs at least 2 sales")
        center, scale = robust_center_scale(x)
        forest = IsolationForest(n_estimators=n_estimators, contamination=contamination,
                                 random_state=random_state, n_jobs=1)
        forest.fit((x - center) / scale)
        a = -forest.score_samples((x - center) / scale)
        tail = float(contamination) if not isinstance(contamination, str) else AUTO_TAIL
        a_median = float(np.median(a))
        a_high = float(np.quantile(a, 1.0 - tail))
        if a_high - a_median < 1e-6:
            a_high = a_median + 1e-3
        medians, highs = {}, {}
        for name in _RAW:
            values = np.array([getattr(f, name) for f in features], dtype=np.float64)
            medians[name] = float(np.median(values))
            highs[name] = float(np.percentile(values, 99.5))
        lows = np.percentile([f.duration_s for f in features], 0.5)
        log.info("anomaly forest fitted on %d sales (anchors %.3f / %.3f)", len(x), a_median, a_high)
        return cls(forest=forest, center=center, scale=scale, a_median=a_median, a_high=a_high,
                   medians=medians, highs=highs, low_duration_s=float(lows))

    def raw_scores(self, x: np.ndarray) -> np.ndarray:
        """The forest's anomaly score (higher = more anomalous), before calibration.

        Equal to ``-IsolationForest.score_samples``, computed from the fitted trees' public arrays
        in one pass per tree: sklearn's own path dispatches every tree through joblib, which costs
        ~25 ms per sale on a 2-core machine (far more on a Pi) while the till waits to print."""
        fast = self.__dict__.get("_fast")
        if fast is None:
            fast = _TreeTables.build(self.forest)
            self.__dict__["_fast"] = fast
        return fast.scores((np.atleast_2d(x) - self.center) / self.scale)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_fast", None)  # rebuilt on first use after loading
        return state

    def calibrate(self, a: np.ndarray) -> np.ndarray:
        u = (np.asarray(a, dtype=np.float64) - self.a_median) / (self.a_high - self.a_median)
        return 1.0 / (1.0 + np.exp(-_K * (u - _U0)))

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Calibrated 0..1 scores, one per row of `x` (columns as in FEATURE_COLUMNS)."""
        return self.calibrate(self.raw_scores(x))

    def _z(self, f: SaleFeatures, name: str) -> float:
        column = FEATURE_COLUMNS.index(_COLUMN.get(name, name))
        value = f.as_vector()[column]
        return float((value - self.center[column]) / self.scale[column])

    def explain(self, f: SaleFeatures, currency: str, fallback: bool = False) -> list[Reason]:
        """The features beyond the history's 99.5th percentile, most deviant (robust z) first.

        fallback: for a sale the forest finds unusual although no single feature is extreme (a rare
        combination), name instead the two features furthest above the store's median (z >= 2)."""
        money: Callable[[float], str] = lambda minor: format_money(int(round(minor)), currency)  # noqa: E731
        texts: dict[str, Callable[[float, float], str]] = {
            "total": lambda v, m: f"total {money(v)} (usual {money(m)})",
            "item_count": lambda v, m: f"{plural(int(v), 'item')} in the basket (usual {m:.0f})",
            "manual_lines": lambda v, m: f"{plural(int(v), 'line')} typed in by hand (usual {m:.0f})",
            "voids": lambda v, m: f"{plural(int(v), 'line')} voided (usual {m:.0f})",
            "overrides": lambda v, m: f"{plural(int(v), 'price override')} (usual {m:.0f})",
            "discount_share": lambda v, m: f"discount {percent(v)} of the sale (usual {percent(m)})",
            "duration_s": lambda v, m: f"sale took {duration(v)} (usual {duration(m)})",
            "vision_mismatches": lambda v, m: f"camera disagreed {times(int(v))} (usual {m:.0f})",
            "cashier_void_rate": lambda v, m: f"cashier voided {percent(v)} of lines lately (usual {percent(m)})",
            "drawer_opens_no_sale": lambda v, m: f"drawer opened {times(int(v))} without a sale (usual {m:.0f})",
        }
        out: list[Reason] = []
        for name, step in _RAW.items():
            value = float(getattr(f, name))
            median, high = self.medians[name], self.highs[name]
            if fallback:
                z = self._z(f, name)
                if value > median and z >= 2.0:
                    out.append(Reason(_KEY.get(name, name), min(0.5, 0.2 + 0.03 * z), texts[name](value, median)))
                continue
            if value > high and value >= median + step and (name != "total" or value >= 2 * median):
                z = abs(self._z(f, name))
                out.append(Reason(_KEY.get(name, name), min(0.85, 0.3 + 0.05 * z), texts[name](value, median)))
        if fallback:
            out.sort(key=lambda r: -r.weight)
            return out[:2]
        if f.item_count >= 5 and f.duration_s < self.low_duration_s:
            z = abs(self._z(f, "duration_s"))
            out.append(Reason("duration", min(0.85, 0.3 + 0.05 * z),
                              f"{f.item_count} items checked out in {duration(f.duration_s)} "
                              f"(usual {duration(self.medians['duration_s'])} a sale)"))
        out.sort(key=lambda r: -r.weight)
        return out
