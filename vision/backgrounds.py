"""Procedural tray and counter surfaces for rendered checkout scenes.

Each family draws a whole class of surfaces from a random generator, so a new seed gives a new
surface.  ``TRAIN_FAMILIES`` are used to make training data; ``HELD_OUT_FAMILIES`` are kept for
evaluation only, so the test set has backgrounds the model has never seen.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

Size = tuple[int, int]  # (width, height)


def _smooth_noise(rng: np.random.Generator, size: Size, cells: int) -> np.ndarray:
    w, h = size
    small = rng.random((max(2, cells * h // max(w, 1)), max(2, cells))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _colour(rng: np.random.Generator, lo: int = 30, hi: int = 220) -> np.ndarray:
    return rng.integers(lo, hi, 3).astype(np.float32)


def wood(rng: np.random.Generator, size: Size) -> np.ndarray:
    w, h = size
    base = np.array([rng.uniform(40, 90), rng.uniform(80, 140), rng.uniform(120, 200)], np.float32)
    y = np.arange(h, dtype=np.float32)[:, None]
    x = np.arange(w, dtype=np.float32)[None, :]
    warp = _smooth_noise(rng, size, 6) * rng.uniform(10, 40)
    freq = rng.uniform(0.05, 0.2)
    grain = 0.5 + 0.5 * np.sin((y + warp + 0 * x) * freq)
    plank = max(40, int(rng.uniform(0.15, 0.4) * h))
    seams = ((y.astype(int) % plank) < 2).astype(np.float32)
    tone = 0.8 + 0.25 * grain - 0.35 * seams
    img = base[None, None, :] * tone[..., None]
    return img


def steel(rng: np.random.Generator, size: Size) -> np.ndarray:
    w, h = size
    g = rng.uniform(110, 200)
    tint = rng.uniform(-8, 8, 3).astype(np.float32)
    streaks: np.ndarray = rng.normal(0, 1, (h, 1)).astype(np.float32)
    streaks = cv2.GaussianBlur(np.repeat(streaks, w, 1), (0, 0), sigmaX=30, sigmaY=0.8)
    img = np.full((h, w, 3), g, np.float32) + tint + streaks[..., None] * rng.uniform(4, 12)
    return img


def laminate(rng: np.random.Generator, size: Size) -> np.ndarray:
    w, h = size
    c = _colour(rng)
    blot = _smooth_noise(rng, size, 12)[..., None] * rng.uniform(5, 25)
    return np.zeros((h, w, 3), np.float32) + c + blot


def checker_mat(rng: np.random.Generator, size: Size) -> np.ndarray:
    w, h = size
    a, b = _colour(rng, 20, 120), _colour(rng, 60, 200)
    cell = int(rng.integers(12, 48))
    yy, xx = np.mgrid[0:h, 0:w]
    pattern = ((yy // cell + xx // cell) % 2).astype(np.float32)[..., None]
    if rng.random() < 0.5:  # ribbed rubber mat instead of a checker
        pattern = ((yy // max(3, cell // 4)) % 2).astype(np.float32)[..., None]
    return a * pattern + b * (1 - pattern)


def fabric(rng: np.random.Generator, size: Size) -> np.ndarray:
    w, h = size
    c = _colour(rng)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = rng.uniform(3, 7)
    weave = 0.5 + 0.25 * np.sin(xx * 2 * np.pi / period) * np.sin(yy * 2 * np.pi / period)
    return c * (0.75 + 0.4 * weave[..., None]) + _smooth_noise(rng, size, 8)[..., None] * 15


def speckled(rng: np.random.Generator, size: Size) -> np.ndarray:
    """Terrazzo, speckled laminate or flecked vinyl: fine chips and grain of random colours.

    Teaches the detector that dense small-scale texture is surface, not product print.  The chip
    sizes, grain scale, contrast and palette are all drawn per surface, from barely flecked to
    busy, so no one look is learned.
    """
    w, h = size
    base = _colour(rng, 25, 230)
    img = np.zeros((h, w, 3), np.float32) + base
    img += (_smooth_noise(rng, size, int(rng.integers(3, 10)))[..., None] - 0.5) * rng.uniform(0, 40)
    # grain in one or two octaves, each at a random pixel scale, grey or coloured, faint to harsh
    for _ in range(int(rng.integers(1, 3))):
        grain_px = float(rng.uniform(1.0, 5.0))
        gw, gh = max(2, int(w / grain_px)), max(2, int(h / grain_px))
        channels = 3 if rng.random() < 0.5 else 1
        coarse = rng.standard_normal((gh, gw, channels)).astype(np.float32)
        grain = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR).reshape(h, w, channels)
        img += grain * rng.uniform(4, 70)
    # chips: a small palette of stone colours scattered at random density and size
    palette = [_colour(rng, 0, 255) for _ in range(int(rng.integers(2, 6)))]
    n_chips = int(rng.uniform(0.0005, 0.012) * w * h)
    max_r = int(rng.integers(1, 5))
    xs = rng.integers(0, w, n_chips)
    ys = rng.integers(0, h, n_chips)
    radii = rng.integers(1, max_r + 1, n_chips)
    picks = rng.integers(0, len(palette), n_chips)
    for x, y, r, k in zip(xs.tolist(), ys.tolist(), radii.tolist(), picks.tolist(), strict=True):
        cv2.circle(img, (x, y), r, palette[k].tolist(), -1, lineType=cv2.LINE_AA)
    return img


def granite(rng: np.random.Generator, size: Size) -> np.ndarray:
    """Speckled stone counter: evaluation only."""
    w, h = size
    c = _colour(rng, 40, 200)
    img = np.zeros((h, w, 3), np.float32) + c
    for scale, amp in ((1, 50), (2, 35), (4, 20)):
        n: np.ndarray = rng.normal(0, 1, (h // scale + 1, w // scale + 1, 1)).astype(np.float32)
        n = cv2.resize(n, (w, h), interpolation=cv2.INTER_NEAREST)[..., None] if n.ndim == 3 else n
        img += np.clip(n, -2, 2) * amp * (rng.random() * 0.6 + 0.4)
    return img


def paper_sheet(rng: np.random.Generator, size: Size) -> np.ndarray:
    """A printed advertising mat or newspaper on the counter: evaluation only."""
    w, h = size
    img = np.zeros((h, w, 3), np.float32) + rng.uniform(200, 240)
    for _ in range(int(rng.integers(20, 60))):
        y = int(rng.integers(0, h))
        x = int(rng.integers(0, w))
        cv2.line(img, (x, y), (min(w, x + int(rng.integers(20, 200))), y), (60, 60, 60), 1)
    for _ in range(int(rng.integers(1, 4))):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        cv2.rectangle(img, (x, y), (x + int(rng.integers(30, 150)), y + int(rng.integers(30, 120))),
                      _colour(rng).tolist(), -1)
    return img


TRAIN_FAMILIES: dict[str, Callable[[np.random.Generator, Size], np.ndarray]] = {
    "wood": wood, "steel": steel, "laminate": laminate, "checker_mat": checker_mat, "fabric": fabric,
    "speckled": speckled,
}
HELD_OUT_FAMILIES: dict[str, Callable[[np.random.Generator, Size], np.ndarray]] = {
    "granite": granite, "paper_sheet": paper_sheet,
}
ALL_FAMILIES = {**TRAIN_FAMILIES, **HELD_OUT_FAMILIES}


def draw_background(rng: np.random.Generator, size: Size,
                    families: tuple[str, ...] | None = None) -> tuple[str, np.ndarray]:
    """One of ``families`` (default: the training families), drawn from ``rng``: its name and a BGR
    uint8 surface of ``size``."""
    names = families or tuple(TRAIN_FAMILIES)
    unknown = [n for n in names if n not in ALL_FAMILIES]
    if unknown:
        raise ValueError(f"unknown background families {unknown}; known: {sorted(ALL_FAMILIES)}")
    name = names[int(rng.integers(0, len(names)))]
    img = ALL_FAMILIES[name](rng, size)
    return name, np.clip(img, 0, 255).astype(np.uint8)


def make_background(rng: np.random.Generator, size: Size, families: tuple[str, ...] | None = None) -> np.ndarray:
    """A BGR uint8 surface of ``size`` drawn from one of ``families`` (default: the training families)."""
    return draw_background(rng, size, families)[1]
