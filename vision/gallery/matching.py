"""Identify a crop's embedding against the gallery: SKU, confidence, alternatives, or "unknown item".

Scores are cosines (the embeddings are unit vectors).  A SKU's score is the mean of its ``top_k``
best-matching examples (``top_k=1``: its best example), so one lucky look-alike photo counts less
than several good ones.  The best SKU is *known* only when its score reaches ``min_score`` and
beats the runner-up SKU by at least ``min_margin``; otherwise the result is an unknown item whose
alternatives still list the closest SKUs, best first, for the cashier to pick from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
                 top_k: int = 1, alternatives: int = 3):
        self.skus = list(skus)
        self.embeddings = embeddings.astype(np.float32)
        self.labels = labels.astype(np.int64)
        self.thresholds = thresholds
        self.top_k = top_k
        self.alternatives = alternatives

    def scores(self, queries: np.ndarray) -> np.ndarray:
        return sku_scores(queries, self.embeddings, self.labels, len(self.skus), self.top_k)

    def identify(self, queries: np.ndarray) -> list[Identification]:
        """One identification per query row."""
        if len(self.skus) == 0 or len(self.embeddings) == 0:
            return [Identification(None, False, 0.0, None, 0.0, ()) for _ in range(len(queries))]
        scores = self.scores(queries)
        results = []
        for row in scores:
            order = np.argsort(-row, kind="stable")
            best = int(order[0])
            top = float(row[best])
            second = float(row[order[1]]) if len(order) > 1 and row[order[1]] > -1 else 0.0
            margin = top - second
            known = top >= self.thresholds.min_score and margin >= self.thresholds.min_margin
            ranked = [(self.skus[i], float(row[i])) for i in order[:self.alternatives + 1] if row[i] > -1]
            results.append(Identification(
                sku=self.skus[best] if known else None, known=known, confidence=top, best=self.skus[best],
                margin=margin, alternatives=tuple(ranked[1:] if known else ranked)))
        return results
