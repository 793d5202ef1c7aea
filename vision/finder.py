"""The product finder's contract: class-blind boxes of every product on the tray, whatever the product.

A finder answers "where are products?" and nothing else; identification against the store's gallery
(``vision.identifier`` + ``vision.gallery``) answers "which product?".  Back ends implement ``Finder``:

- ``vision.finders.onnx_finder.OnnxFinder``: the trained class-blind finder network (``models/finder``).
- a class-blind reading of a trained YOLO bundle (its boxes with the class ignored), for bundles
  that ship no finder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class FoundBox:
    """One product found on a frame: ``box`` is x1, y1, x2, y2 in the frame's pixels, ``score`` 0..1."""

    box: Box
    score: float


class Finder(Protocol):
    """Finds products on one BGR uint8 frame (no empty-tray view needed)."""

    def find(self, image: np.ndarray) -> list[FoundBox]: ...
