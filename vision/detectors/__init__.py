"""Detector back ends: each turns a prepared input tensor into the raw YOLO head output.

One output contract for all of them (``(1, 4 + classes, anchors)`` float32: box centre x, centre y,
width, height in input pixels, then per-class scores in 0..1); decoding, NMS and the class to SKU
map live in :mod:`vision.detector`, so a new back end (another ONNX Runtime execution provider,
TensorRT, a Hailo or Coral runtime) is one small file with its own typed config.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class DetectorBackend(Protocol):
    input_name: str

    def run(self, tensor: np.ndarray) -> np.ndarray:
        """Run the model on a ``(1, 3, S, S)`` float32 tensor and return the raw head output."""
        ...

    def input_shape(self) -> tuple:
        ...
