"""Identify a crop's embedding against the gallery: SKU, confidence, alternatives, or "unknown item".

Scores are cosines (the embeddings are unit vectors).  A SKU's score is the mean of its ``top_k``
best-matching examples (``top_k=1``: its best example), so one lucky look-alike photo counts less
than several good ones.  The best SKU is *known* only when its score reaches ``min_score`` and
beats the runner-up SKU by at least ``min_margin``; otherwise the result is an unknown item whose
alternatives still list the closest SKUs, best first, for the cashier to pick from.

With a :class:`~vision.gallery.verify.Verifier` and the query crops, the rule is geometric
verification instead (``vision/gallery/verify.py``): the best SKU is known when its score
reaches ``min_score - SCORE_SLACK``, beats the runner-up by ``min_margin``, *and* the crop's local
features line up with one of that SKU's photos with at least ``MIN_INLIERS`` inliers.  When it does
not, the **shortlist rule** looks again at the ``SHORTLIST`` best SKUs (a crop that takes in part of a
neighbour, or a pack seen at an angle, scores a lower cosine although its print lines up): the one
with the most inliers is known when its score reaches ``min_score - SHORTLIST_SLACK``, it has at least
``SHORTLIST_INLIERS`` inliers and ``SHORTLIST_LEAD`` times as many as each other shortlisted SKU, and
its colours after alignment match (colour distance at most ``MAX_COLOUR``: a sibling flavour shares
the brand's print but not its colours).  A SKU with no photo to verify against (missing, small, or a
plain pack with too few keypoints), and a crop under ``MIN_SIDE`` px, keep the cosine rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vision.gallery.verify import (
    MAX_COLOUR,
    MIN_INLIERS,
    SCORE_SLACK,
    SHORTLIST,
    SHORTLIST_INLIERS,
    SHORTLIST_LEAD,
    SHORTLIST_SLACK,
    Keypoints,
    Verifier,
    extract,
    verifiable,
)


@dataclass(frozen=True)
class Thresholds:
    min_score: float
    min_margin: float


@dataclass(frozen=True)
class Identification:
    sku: str | None  # None for an unknown item
    known: bool
    confidence: float  # the best SKU's score (cosine, 0..1 for these embeddings)
    best: str | None  # the best-scoring SKU, also for an unknown item (None: empty gallery)
    margin: float  # best score minus the runner-up SKU's
    alternatives: tuple[tuple[str, float], ...]  # the next SKUs (all candidates when unknown), best first
    inliers: int | None = None  # geometric verification of the best SKU (None: not verified)

    def to_json(self) -> dict:
        return {"sku": self.sku, "known": self.known, "confidence": round(self.confidence, 4),
                "alternatives": [[s, round(v, 4)] for s, v in self.alternatives]}


def sku_scores(queries: np.ndarray, embeddings: np.ndarray, labels: np.ndarray, n_skus: int,
               top_k: int = 1) -> np.ndarray:
    """(Q, n_skus) scores: for each query and SKU, the mean cosine of the SKU's ``top_k`` best examples
    (fewer when the SKU has fewer).  ``labels[i]`` is row i's SKU index; a SKU with no rows scores -1."""
    sims = queries @ embeddings.T  # (Q, N)
    out = np.full((len(queries), n_skus), -1.0, np.float32)
    for s in range(n_skus):
        cols = sims[:, labels == s]
        if cols.shape[1] == 0:
            continue
        k = min(top_k, cols.shape[1])
        best = -np.sort(-cols, axis=1)[:, :k]
        out[:, s] = best.mean(axis=1)
    return out


class Matcher:
    """Scores embeddings against a fixed set of gallery rows."""

    def __init__(self, skus: list[str], embeddings: np.ndarray, labels: np.ndarray, thresholds: Thresholds,
                 top_k: int = 1, alternatives: int = 3, verifier: Verifier | None = None):
        self.skus = list(skus)
        self.embeddings = embeddings.astype(np.float32)
        self.labels = labels.astype(np.int64)
        self.thresholds = thresholds
        self.top_k = top_k
        self.alternatives = alternatives
        self.verifier = verifier

    def scores(self, queries: np.ndarray) -> np.ndarray:
        return sku_scores(queries, self.embeddings, self.labels, len(self.skus), self.top_k)

    def identify(self, queries: np.ndarray, crops: Sequence[np.ndarray] | None = None) -> list[Identification]:
        """One identification per query row; with ``crops`` (the images the rows were embedded from, in
        order) and a verifier, the best SKU is verified geometrically (see the module docstring)."""
        if len(self.skus) == 0 or len(self.embeddings) == 0:
            return [Identification(None, False, 0.0, None, 0.0, ()) for _ in range(len(queries))]
        if crops is not None and len(crops) != len(queries):
            raise ValueError(f"{len(crops)} crops for {len(queries)} embeddings")
        scores = self.scores(queries)
        results = []
        for n, row in enumerate(scores):
            order = np.argsort(-row, kind="stable")
            best = int(order[0])
            top = float(row[best])
            second = float(row[order[1]]) if len(order) > 1 and row[order[1]] > -1 else 0.0
            margin = top - second
            known = top >= self.thresholds.min_score and margin >= self.thresholds.min_margin
            verified: int | None = None
            if crops is not None and self.verifier is not None and self.verifier.covers(self.skus[best]) \
                    and verifiable(crops[n]):
                query = extract(crops[n], keep_lab=True)
                known = top >= self.thresholds.min_score - SCORE_SLACK and margin >= self.thresholds.min_margin
                if known:  # only then is the crop's local feature matching worth its cost
                    verified = self.verifier.inliers(query, self.skus[best])
                    known = verified >= MIN_INLIERS
                if not known:
                    pick = self._shortlist(query, row, order)
                    if pick is not None:
                        best, verified, known = pick[0], pick[1], True
                        top = float(row[best])
                        margin = top - max((float(row[i]) for i in order[:2] if i != best), default=0.0)
            ranked = [(self.skus[i], float(row[i])) for i in order[:self.alternatives + 1] if row[i] > -1]
            if known:
                ranked = [(self.skus[best], top)] + [r for r in ranked if r[0] != self.skus[best]]
            results.append(Identification(
                sku=self.skus[best] if known else None, known=known, confidence=top, best=self.skus[best],
                margin=margin, alternatives=tuple(ranked[1:self.alternatives + 1] if known else ranked),
                inliers=verified))
        return results

    def _shortlist(self, query: Keypoints, row: np.ndarray, order: np.ndarray) -> tuple[int, int] | None:
        """The shortlist rule (see the module docstring): (SKU index, inliers) of the SKU it accepts, or None."""
        assert self.verifier is not None
        shortlist = [int(i) for i in order[:SHORTLIST] if row[i] > -1]
        checks = {i: self.verifier.check(query, self.skus[i]) for i in shortlist if self.verifier.covers(self.skus[i])}
        if not checks:
            return None
        pick = max(checks, key=lambda i: checks[i].inliers)
        most = checks[pick].inliers
        others = max((c.inliers for i, c in checks.items() if i != pick), default=0)
        if (row[pick] >= self.thresholds.min_score - SHORTLIST_SLACK and most >= SHORTLIST_INLIERS
                and most >= SHORTLIST_LEAD * max(others, 1) and checks[pick].colour <= MAX_COLOUR):
            return pick, most
        return None
