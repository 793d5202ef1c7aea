"""Sprites for the scene compositor: cut-outs and clutter scaled and turned onto transparent
canvases, and the part of a sprite that lands inside a frame."""

from __future__ import annotations

import cv2
import numpy as np


def rotated_sprite(rgba: np.ndarray, scale: float, angle: float) -> np.ndarray:
    """``rgba`` scaled by ``scale`` and turned by ``angle`` degrees on a transparent canvas just
    large enough to hold it."""
    h, w = rgba.shape[:2]
    nw, nh = max(2, int(round(w * scale))), max(2, int(round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(rgba, (nw, nh), interpolation=interp)
    rad = np.deg2rad(angle)
    cw = int(np.ceil(abs(nw * np.cos(rad)) + abs(nh * np.sin(rad)))) + 2
    ch = int(np.ceil(abs(nw * np.sin(rad)) + abs(nh * np.cos(rad)))) + 2
    m = cv2.getRotationMatrix2D((nw / 2, nh / 2), angle, 1.0)
    m[0, 2] += cw / 2 - nw / 2
    m[1, 2] += ch / 2 - nh / 2
    return cv2.warpAffine(small, m, (cw, ch), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=(0, 0, 0, 0))


Window = tuple[tuple[slice, slice], tuple[slice, slice]]


def frame_window(frame_shape: tuple[int, ...], sprite_shape: tuple[int, ...], cx: float, cy: float) -> Window | None:
    """Where a sprite centred at (``cx``, ``cy``) lands in a frame: (frame rows, columns) and the
    matching (sprite rows, columns), clipped at the frame's edges; None when nothing lands."""
    h, w = sprite_shape[:2]
    x0, y0 = int(round(cx - w / 2)), int(round(cy - h / 2))
    fh, fw = frame_shape[:2]
    sx0, sy0 = max(0, -x0), max(0, -y0)
    sx1, sy1 = min(w, fw - x0), min(h, fh - y0)
    if sx1 <= sx0 or sy1 <= sy0:
        return None
    return (slice(y0 + sy0, y0 + sy1), slice(x0 + sx0, x0 + sx1)), (slice(sy0, sy1), slice(sx0, sx1))
