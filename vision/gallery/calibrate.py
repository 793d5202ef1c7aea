"""Choose the unknown-item thresholds from the gallery's own examples, never from frames to be measured.

Two kinds of trial, both made from the enrolled photos alone:

- *known* trials, leave-one-out without siblings: each example is matched against the gallery
  without it and without the other examples of its SKU that look almost the same (cosine at least
  ``SIBLING``; the least similar one is always kept): a SKU's photos often come from one session, and
  a product on the tray later is seen anew, not as the photo's near twin;
- *unknown* trials, leave-one-SKU-out: each example is matched against the gallery without its
  whole SKU, as a product nobody enrolled would be.

The thresholds (``min_score``, ``min_margin``) are the pair on a fixed grid that flags the most
unknown trials while flagging at most ``max_false_unknown`` of the known trials.  With fewer than
two SKUs, or fewer than two examples of any SKU, there is nothing to learn from, and the default
thresholds apply.  The rule was fixed on the real-counter exemplars alone, never on measured frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vision.gallery.matching import sku_scores

# with nothing to calibrate on: the shipped embedder's products nobody enrolled score 0.87 (median, the
# real-counter exemplars left out SKU by SKU) and its enrolled ones 0.93, so a best score under 0.9 is unknown
DEFAULT_MIN_SCORE = 0.9
DEFAULT_MIN_MARGIN = 0.0
MAX_FALSE_UNKNOWN = 0.05
SIBLING = 0.95
SCORE_GRID = np.round(np.arange(0.20, 0.99, 0.005), 3)
MARGIN_GRID = np.round(np.arange(0.0, 0.101, 0.005), 3)


@dataclass(frozen=True)
class Calibration:
    min_score: float
    min_margin: float
    method: str
    known_trials: int
    unknown_trials: int
    loo_top1: float  # leave-one-out identification accuracy of the known trials
    loo_false_unknown: float  # known trials flagged unknown at the chosen thresholds
    loso_unknown_recall: float  # unknown trials flagged unknown at the chosen thresholds


def _best_and_margin(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(-scores, axis=1)
    rows = np.arange(len(scores))
    best = scores[rows, order[:, 0]]
    second = scores[rows, order[:, 1]] if scores.shape[1] > 1 else np.zeros(len(scores))
    second = np.where(second > -1, second, 0.0)
    return order[:, 0], best, best - second


def trials(embeddings: np.ndarray, labels: np.ndarray, n_skus: int, top_k: int = 1, sibling: float = SIBLING
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(known best, known margin, known correct, unknown best, unknown margin) over all trials."""
    kb, km, kc, ub, um = [], [], [], [], []
    n = len(embeddings)
    for i in range(n):
        keep = np.arange(n) != i
        same = np.flatnonzero(keep & (labels == labels[i]))
        if len(same) > 1:
            sims = embeddings[same] @ embeddings[i]
            close = same[sims >= sibling]
            if len(close) == len(same):
                close = same[np.argsort(-sims)[:-1]]  # keep the least similar one
            keep[close] = False
        s = sku_scores(embeddings[i:i + 1], embeddings[keep], labels[keep], n_skus, top_k)
        if s[0, labels[i]] <= -1:  # its SKU's only example: no known trial possible
            continue
        pred, best, margin = _best_and_margin(s)
        kb.append(best[0])
        km.append(margin[0])
        kc.append(pred[0] == labels[i])
    for sku in range(n_skus):
        mine = labels == sku
        if not mine.any() or mine.all():
            continue
        s = sku_scores(embeddings[mine], embeddings[~mine], labels[~mine], n_skus, top_k)
        s[:, sku] = -1.0
        _, best, margin = _best_and_margin(s)
        ub.extend(best.tolist())
        um.extend(margin.tolist())
    return (np.array(kb, np.float32), np.array(km, np.float32), np.array(kc, bool),
            np.array(ub, np.float32), np.array(um, np.float32))


def calibrate(embeddings: np.ndarray, labels: np.ndarray, n_skus: int, top_k: int = 1,
              max_false_unknown: float = MAX_FALSE_UNKNOWN, sibling: float = SIBLING,
              default: tuple[float, float] = (DEFAULT_MIN_SCORE, DEFAULT_MIN_MARGIN)) -> Calibration:
    """The unknown-item thresholds for these gallery rows (see the module docstring)."""
    kb, km, kc, ub, um = trials(embeddings, labels, n_skus, top_k, sibling)
    top1 = float(kc.mean()) if len(kc) else 0.0
    if len(kb) < 2 or len(ub) < 2:
        return Calibration(default[0], default[1], "default (too few examples to calibrate)", len(kb), len(ub),
                           top1, 0.0, 0.0)
    best: tuple[float, float, float] | None = None  # (unknown recall, -score, -margin)
    choice = (float(SCORE_GRID[0]), 0.0)
    for m in MARGIN_GRID:
        for t in SCORE_GRID:
            false_unknown = float(np.mean((kb < t) | (km < m)))
            if false_unknown > max_false_unknown:
                break  # higher t only flags more known trials
            recall = float(np.mean((ub < t) | (um < m)))
            key = (recall, -float(m), float(t))
            if best is None or key > best:
                best, choice = key, (float(t), float(m))
    min_score, min_margin = choice
    fu = float(np.mean((kb < min_score) | (km < min_margin)))
    ur = float(np.mean((ub < min_score) | (um < min_margin)))
    method = (f"leave-one-out without siblings (cosine >= {sibling:g}) on the gallery's {len(kb)} examples and "
              f"leave-one-SKU-out ({len(ub)} trials): most unknowns flagged with at most {max_false_unknown:.0%} "
              f"of known flagged")
    return Calibration(min_score, min_margin, method, len(kb), len(ub), top1, fu, ur)
