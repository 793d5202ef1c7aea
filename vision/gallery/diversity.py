"""A bounded, diverse set of examples per SKU.

A new photo that is a near-duplicate of one the SKU already has (cosine above ``duplicate``) adds
nothing and is dropped; when a SKU has more than ``limit`` examples, the set is thinned by
farthest-point selection (keep the oldest, then repeatedly the example least like those kept), so
the views that differ most (other sides, other light) stay.
"""

from __future__ import annotations

import numpy as np

DEFAULT_LIMIT = 24
DEFAULT_DUPLICATE = 0.995  # same-SKU real photos from one session: median 0.93


def near_duplicate_of(candidate: np.ndarray, kept: np.ndarray, duplicate: float = DEFAULT_DUPLICATE) -> int | None:
    """Index of the row of ``kept`` that ``candidate`` (unit vector) nearly duplicates, or None."""
    if kept.size == 0:
        return None
    sims = kept @ candidate
    best = int(np.argmax(sims))
    return best if float(sims[best]) >= duplicate else None


def thin(embeddings: np.ndarray, limit: int = DEFAULT_LIMIT) -> list[int]:
    """Indices (in their original order) of at most ``limit`` rows chosen by farthest-point selection."""
    n = len(embeddings)
    if n <= limit:
        return list(range(n))
    chosen = [0]
    closest = embeddings @ embeddings[0]
    while len(chosen) < limit:
        nxt = int(np.argmin(closest + np.isin(np.arange(n), chosen) * 10.0))
        chosen.append(nxt)
        closest = np.maximum(closest, embeddings @ embeddings[nxt])
    return sorted(chosen)
