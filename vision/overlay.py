"""Draw boxes and product names over a frame for the live camera view."""

from __future__ import annotations

import zlib

import cv2
import numpy as np

from vision.detector import Detection


def _colour(sku: str) -> tuple[int, int, int]:
    h = zlib.crc32(sku.encode())
    return (64 + (h & 0x7F), 64 + ((h >> 8) & 0x7F), 128 + ((h >> 16) & 0x7F))


def draw_detections(image: np.ndarray, detections: list[Detection] | tuple[Detection, ...],
                    names: dict[str, str] | None = None) -> np.ndarray:
    """A copy of ``image`` with a box and "name 93%" label per detection."""
    out = image.copy()
    names = names or {}
    for d in detections:
        x1, y1, x2, y2 = (int(round(v)) for v in d.box)
        if d.sku is None:  # an unknown item: red, and said so
            c, label = (40, 40, 230), "unknown item"
        else:
            c = _colour(d.sku) if d.source == "vision" else (0, 200, 255)
            label = f"{names.get(d.sku, d.sku)} {d.confidence:.0%}" + (" [barcode]" if d.source == "barcode" else "")
        cv2.rectangle(out, (x1, y1), (x2, y2), c, 2, cv2.LINE_AA)
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
        ty = max(th + 4, y1)
        cv2.rectangle(out, (x1, ty - th - 4), (x1 + tw + 4, ty + base - 2), c, -1)
        cv2.putText(out, label, (x1 + 2, ty - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return out
