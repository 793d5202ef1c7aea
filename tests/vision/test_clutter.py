"""Product-free clutter: loose labels, receipts and stickers drawn under the items of training scenes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from vision.catalogue import demo_catalogue, is_valid_ean13
from vision.clutter import add_clutter, random_ean13
from vision.cutouts import CutoutLibrary
from vision.scene import SceneStyle, compose_scene


@pytest.fixture(scope="module")
def library() -> CutoutLibrary:
    return CutoutLibrary.from_products(demo_catalogue()[:4], px_per_mm=1.5)


def test_random_codes_are_valid_ean13():
    rng = np.random.default_rng(3)
    assert all(is_valid_ean13(random_ean13(rng)) for _ in range(50))


def test_clutter_is_drawn_on_a_copy_and_is_the_same_for_the_same_stream():
    tray = np.full((480, 640, 3), 90, np.uint8)
    a = add_clutter(tray, np.random.default_rng(7), px_per_mm=0.8, codes=[demo_catalogue()[0].barcode])
    b = add_clutter(tray, np.random.default_rng(7), px_per_mm=0.8, codes=[demo_catalogue()[0].barcode])
    assert (tray == 90).all()  # the background itself is untouched
    assert a.shape == tray.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert (np.abs(a.astype(int) - 90).sum(axis=2) > 60).mean() > 0.002  # something light was laid down


def test_cluttered_scenes_keep_labels_for_products_only(library: CutoutLibrary):
    quick = {"frame_size": (320, 240), "effects": False}
    always = SceneStyle(**quick, clutter_probability=1.0, empty_share=0.0)
    for seed in range(5):
        scene = compose_scene(library, seed, always)
        assert scene.items and len(scene.labels) <= len(scene.items)
        assert {lab.sku for lab in scene.labels} <= set(library.skus)


def test_empty_cluttered_scenes_have_no_labels(library: CutoutLibrary):
    empty = SceneStyle(frame_size=(320, 240), effects=False, clutter_probability=1.0, empty_share=1.0)
    scene = compose_scene(library, 11, empty)
    assert scene.items == [] and scene.labels == []
    assert scene.image.std() > 0  # the clutter (and the tray) are still there to learn from


def test_a_seed_without_clutter_keeps_the_scene_it_had_before_clutter_existed(library: CutoutLibrary):
    plain = SceneStyle(frame_size=(320, 240), effects=True)
    some = replace(plain, clutter_probability=0.5, empty_share=0.5)
    same = different = 0
    for seed in range(12):
        a, b = compose_scene(library, seed, plain), compose_scene(library, seed, some)
        if np.array_equal(a.image, b.image):
            same += 1
            assert [lab.box for lab in a.labels] == [lab.box for lab in b.labels]
        else:
            different += 1
    assert same >= 2 and different >= 2  # clutter draws from its own stream, the rest is untouched


@pytest.mark.parametrize("field", ["clutter_probability", "empty_share"])
def test_shares_outside_zero_to_one_are_refused_by_name(field: str):
    with pytest.raises(ValueError, match=field):
        SceneStyle(**{field: 1.5})
