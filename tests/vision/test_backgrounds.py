"""Counter surfaces for rendered scenes: the speckled training family and the held-out split."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vision.backgrounds import HELD_OUT_FAMILIES, TRAIN_FAMILIES, laminate, make_background, speckled

SIZE = (320, 240)


def _fine_detail(img: np.ndarray) -> float:
    """Mean absolute Laplacian: how much pixel-scale texture a surface has."""
    grey = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY)
    return float(np.abs(cv2.Laplacian(grey.astype(np.float32), cv2.CV_32F)).mean())


def test_speckled_is_a_training_family_and_not_held_out():
    assert "speckled" in TRAIN_FAMILIES
    assert "speckled" not in HELD_OUT_FAMILIES


def test_speckled_surface_is_the_same_for_the_same_seed_and_new_for_a_new_one():
    a = speckled(np.random.default_rng(3), SIZE)
    b = speckled(np.random.default_rng(3), SIZE)
    c = speckled(np.random.default_rng(4), SIZE)
    assert a.shape == (240, 320, 3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_speckled_surfaces_carry_fine_texture_that_plain_laminate_lacks():
    speck = [_fine_detail(speckled(np.random.default_rng(s), SIZE)) for s in range(12)]
    plain = [_fine_detail(laminate(np.random.default_rng(s), SIZE)) for s in range(12)]
    assert min(speck) > 3 * max(plain)


def test_speckled_surfaces_vary_in_colour_and_busyness():
    surfaces = [speckled(np.random.default_rng(s), SIZE) for s in range(16)]
    means = np.array([s.reshape(-1, 3).mean(axis=0) for s in surfaces])
    detail = [_fine_detail(s) for s in surfaces]
    assert np.ptp(means, axis=0).min() > 60  # every channel spans a wide range across surfaces
    assert max(detail) > 2 * min(detail)  # from lightly flecked to busy


def test_make_background_renders_a_named_family_as_bytes_and_rejects_unknown_names():
    img = make_background(np.random.default_rng(5), SIZE, ("speckled",))
    # make_background spends one draw choosing the family, then hands the generator on
    rng = np.random.default_rng(5)
    rng.integers(0, 1)
    expected = np.clip(speckled(rng, SIZE), 0, 255).astype(np.uint8)
    assert img.dtype == np.uint8 and np.array_equal(img, expected)
    with pytest.raises(ValueError, match="marble"):
        make_background(np.random.default_rng(0), SIZE, ("marble",))
