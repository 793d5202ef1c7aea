"""The demo catalogue, its product art, cut-out export and the scene compositor."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.catalogue import SHAPES, demo_catalogue
from vision.cutouts import CutoutLibrary, export_cutouts
from vision.product_art import VIEWS, render_product
from vision.scene import SceneStyle, compose_scene

CATEGORIES_A_MINIMARKET_NEEDS = {"grains", "oil", "pasta", "canned", "beer", "malt", "soda", "water", "juice",
                                 "dairy", "snacks", "biscuits", "household"}


def test_catalogue_is_a_real_minimarket_range():
    products = demo_catalogue()
    assert len(products) >= 40
    assert len({p.sku for p in products}) == len(products)
    assert CATEGORIES_A_MINIMARKET_NEEDS <= {p.category for p in products}
    assert {p.look.shape for p in products} == set(SHAPES)
    for p in products:
        assert isinstance(p.price, int) and p.price > 0, p.sku  # minor units
        assert all(10 <= s <= 400 for s in p.size_mm), p.sku


def test_some_products_are_look_alikes_on_purpose():
    families = Counter(p.family for p in demo_catalogue() if p.family)
    assert sum(1 for n in families.values() if n >= 2) >= 6
    lagarza = [p for p in demo_catalogue() if p.family == "rice-lagarza"]
    assert {p.look.brand for p in lagarza} == {"LA GARZA"} and len({p.size_mm for p in lagarza}) == 2


def test_rendering_is_the_same_every_time_and_differs_between_skus():
    a, b = demo_catalogue()[0], demo_catalogue()[1]
    for view in VIEWS:
        assert np.array_equal(render_product(a, view), render_product(a, view))
    # same brand and design, different size: different pixels and footprint
    assert render_product(a).shape != render_product(b).shape


def test_product_art_is_rgba_with_a_real_silhouette():
    for p in demo_catalogue():
        img = render_product(p, "front", px_per_mm=1.0)
        assert img.shape[2] == 4
        opaque = (img[..., 3] > 0).mean()
        assert 0.5 < opaque <= 1.0, p.sku


def test_export_writes_one_folder_per_sku_and_reads_back(tmp_path: Path):
    products = demo_catalogue()[:5]
    n = export_cutouts(products, tmp_path / "cut", px_per_mm=1.0)
    assert n == 5 * len(VIEWS)
    assert sorted(d.name for d in (tmp_path / "cut").iterdir()) == sorted(p.sku for p in products)
    meta = json.loads((tmp_path / "cut" / products[0].sku / "sku.json").read_text())
    assert meta["size_mm"] == list(products[0].size_mm) and meta["barcode"] == products[0].barcode
    lib = CutoutLibrary.from_folder(tmp_path / "cut")
    assert sorted(lib.skus) == sorted(p.sku for p in products)
    assert lib.entry(products[0].sku).cutouts[0].px_per_mm == pytest.approx(1.0, rel=0.05)


def test_a_shops_own_photos_folder_is_accepted(tmp_path: Path):
    shop = tmp_path / "shop"
    (shop / "HOT-SAUCE").mkdir(parents=True)
    photo = np.zeros((120, 60, 4), np.uint8)
    photo[10:110, 10:50] = (30, 40, 200, 255)
    cv2.imwrite(str(shop / "HOT-SAUCE" / "photo1.png"), photo)
    (shop / "BREAD").mkdir()
    cv2.imwrite(str(shop / "BREAD" / "top.png"), np.full((80, 160, 3), 180, np.uint8))  # no alpha: all product
    lib = CutoutLibrary.from_folder(shop)
    assert sorted(lib.skus) == ["BREAD", "HOT-SAUCE"]
    scene = compose_scene(lib, seed=1, style=SceneStyle(min_items=2, max_items=4))
    assert {lab.sku for lab in scene.labels} <= {"BREAD", "HOT-SAUCE"}


def test_bad_cutout_folders_give_clear_errors(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="cut-out folder not found"):
        CutoutLibrary.from_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no SKU sub-folders"):
        CutoutLibrary.from_folder(tmp_path / "empty")
    (tmp_path / "bad" / "X").mkdir(parents=True)
    (tmp_path / "bad" / "X" / "a.png").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=r"a\.png: not a readable image"):
        CutoutLibrary.from_folder(tmp_path / "bad")


@pytest.fixture(scope="module")
def library() -> CutoutLibrary:
    return CutoutLibrary.from_products(demo_catalogue(), px_per_mm=1.5)


def test_scenes_are_reproducible_by_seed(library: CutoutLibrary):
    a, b = compose_scene(library, 42), compose_scene(library, 42)
    assert np.array_equal(a.image, b.image)
    assert [(lab.sku, lab.box) for lab in a.labels] == [(lab.sku, lab.box) for lab in b.labels]
    assert not np.array_equal(a.image, compose_scene(library, 43).image)


def test_scenes_hold_1_to_12_labelled_items_inside_the_frame(library: CutoutLibrary):
    counts = []
    for seed in range(40):
        scene = compose_scene(library, seed)
        h, w = scene.image.shape[:2]
        assert (w, h) == (640, 480) and scene.image.dtype == np.uint8
        counts.append(len(scene.labels))
        for lab in scene.labels:
            x1, y1, x2, y2 = lab.box
            assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
            assert lab.visible_fraction >= 0.4  # occlusion is bounded: every label is something one can see
    assert min(counts) >= 1 and max(counts) <= 12 and max(counts) >= 8


def test_label_boxes_sit_on_the_products(library: CutoutLibrary):
    # redraw a scene's items with no effects on black: each box is exactly its product's pixels
    from vision.scene import render_tray

    style = SceneStyle(min_items=1, max_items=1, effects=False)
    scene = compose_scene(library, 7, style)
    black = np.zeros((480, 640, 3), np.uint8)
    redrawn = render_tray(library, scene.items, black, style, px_per_mm=scene.px_per_mm)
    x1, y1, x2, y2 = (int(v) for v in scene.labels[0].box)
    ys, xs = np.nonzero(redrawn.image.max(axis=2) > 0)
    assert abs(xs.min() - x1) <= 2 and abs(xs.max() + 1 - x2) <= 2
    assert abs(ys.min() - y1) <= 2 and abs(ys.max() + 1 - y2) <= 2


def test_held_out_backgrounds_are_never_in_training_style():
    from training.dataset import test_style, train_style
    from vision.backgrounds import HELD_OUT_FAMILIES

    assert not set(HELD_OUT_FAMILIES) & set(train_style().background_families or ())
    assert set(HELD_OUT_FAMILIES) <= set(test_style().background_families or ())


@pytest.mark.parametrize("bad, field", [({"item_count_draws": 0}, "item_count_draws"),
                                        ({"min_items": 0}, "min_items"),
                                        ({"min_items": 5, "max_items": 3}, "max_items"),
                                        ({"max_occlusion": 1.0}, "max_occlusion")])
def test_a_scene_style_that_could_not_render_is_refused_naming_the_field(bad: dict, field: str):
    with pytest.raises(ValueError, match=field):
        SceneStyle(**bad)
