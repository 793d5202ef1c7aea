"""A counter tray drawn by the project's own scene compositor, for the teaching tests: the empty tray,
one product lying on it in a chosen pose, two products, and sensor noise."""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

from vision.backgrounds import make_background
from vision.catalogue import demo_catalogue
from vision.cutouts import CutoutLibrary
from vision.scene import PlacedItem, Scene, SceneStyle, render_tray

SIZE = (640, 480)
STYLE = SceneStyle(frame_size=SIZE, effects=False)
PX_PER_MM = SIZE[0] / STYLE.tray_mm[0]
# where a product lies and how it is turned, per pose: (x mm, y mm, angle, which face)
POSES = [(400, 300, 10.0, 0), (380, 280, 100.0, 1), (420, 310, 200.0, 2), (350, 320, 290.0, 0),
         (440, 270, 45.0, 1), (390, 330, 160.0, 2), (410, 290, 250.0, 0), (370, 300, 330.0, 1)]


@cache
def library() -> CutoutLibrary:
    return CutoutLibrary.from_products(demo_catalogue())


def empty_tray(seed: int = 0) -> np.ndarray:
    return make_background(np.random.default_rng([seed, 0]), SIZE)


def tray_scene(placed: list[tuple[str, int]], seed: int = 0) -> Scene:
    """The tray with each ``(sku, pose)`` lying on it (poses from POSES; a second product lies 250 mm
    to the left of where its pose says), with the compositor's labels."""
    lib = library()
    items = []
    for sku, pose in placed:
        x, y, angle, face = POSES[pose % len(POSES)]
        items.append(PlacedItem(sku, face % len(lib.entry(sku).cutouts), x - 250 * len(items), y, angle))
    return render_tray(lib, items, empty_tray(seed), STYLE, px_per_mm=PX_PER_MM)


def tray_with(placed: list[tuple[str, int]], seed: int = 0) -> np.ndarray:
    return tray_scene(placed, seed).image


def noisy(image: np.ndarray, index: int, sigma: float = 1.5) -> np.ndarray:
    noise = np.random.default_rng([7, index]).standard_normal(image.shape, dtype=np.float32) * sigma
    return cv2.add(image, noise, dtype=cv2.CV_8U)
