"""Frame normalisation: whatever a camera or caller hands us becomes BGR uint8 with 3 channels."""

from __future__ import annotations

import cv2
import numpy as np


def normalise_frame(img: np.ndarray | None) -> np.ndarray:
    """Return ``img`` as a contiguous BGR uint8 image with 3 channels.

    Accepts grey (H×W or H×W×1), BGR, BGRA, uint8, uint16 (scaled by 1/257), other integer types
    (clipped to 0..255), bool and float images (taken as 0..1 when no value exceeds 1, else as
    0..255; NaN becomes 0).  An image that is already BGR uint8 and contiguous is returned as is.
    Raises ValueError for None, non-arrays, empty arrays and arrays that are not 2-D or 3-D with
    1, 3 or 4 channels.
    """
    if img is None:
        raise ValueError("frame is None (the camera or file delivered no image)")
    if not isinstance(img, np.ndarray):
        raise ValueError(f"frame must be a numpy array, got {type(img).__name__}")
    if img.size == 0:
        raise ValueError(f"frame is empty (shape {img.shape})")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3, 4)):
        raise ValueError(f"frame must be H×W grey or H×W×3/4 colour, got shape {img.shape}")
    img = _to_uint8(img)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(img)


def _to_uint8(img: np.ndarray) -> np.ndarray:
    if img.dtype == np.uint8:
        return np.ascontiguousarray(img)
    if img.dtype == np.bool_:
        return img.astype(np.uint8) * 255
    if img.dtype == np.uint16:
        return ((img.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if np.issubdtype(img.dtype, np.floating):
        f = np.nan_to_num(img.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
        if f.max() <= 1.0:
            f = f * 255.0
        return np.clip(np.rint(f), 0, 255).astype(np.uint8)
    if np.issubdtype(img.dtype, np.integer):
        return np.clip(img, 0, 255).astype(np.uint8)
    raise ValueError(f"unsupported frame dtype {img.dtype}")
