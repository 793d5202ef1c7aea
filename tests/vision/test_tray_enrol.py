"""Teaching on the tray: a product lying alone on the tray is cut out against the empty tray; no
product, two products, a product half out of the picture and a blurred view are refused with the
reason; only settled, new views are kept, and an empty tray renews the reference."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.support.tray import PX_PER_MM, STYLE, empty_tray, library, noisy, tray_scene, tray_with
from vision.gallery.quality import check_image
from vision.gallery.tray_enrol import (
    NO_PRODUCT,
    CollectorEvent,
    Refusal,
    TrayEnrolConfig,
    TrayView,
    ViewCollector,
    cut_out,
)
from vision.scene import PlacedItem, render_tray

PRODUCTS = ["RICE-LG-2LB", "SODA-KOLA-2L", "BEER-PRZ-355", "DETERG-1KG", "MILK-PWD-360"]


def iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("sku", PRODUCTS)
def test_a_product_alone_on_the_tray_is_cut_out_against_the_empty_tray(sku: str, seed: int) -> None:
    scene = tray_scene([(sku, seed)], seed)
    view = cut_out(noisy(empty_tray(seed), 0), noisy(scene.image, 1))
    assert isinstance(view, TrayView), view
    truth = scene.labels[0].box
    x1, y1, x2, y2 = view.box
    # the crop holds the whole product, and little else (the margin live crops have, the shadow)
    assert x1 <= truth[0] and y1 <= truth[1] and x2 >= truth[2] and y2 >= truth[3], (view.box, truth)
    assert iou(view.box, truth) > 0.65
    # background removal: the mask covers the product's box well and leaves the margin out
    ys, xs = np.nonzero(view.mask)
    mask_box = (x1 + xs.min(), y1 + ys.min(), x1 + xs.max() + 1, y1 + ys.max() + 1)
    assert iou(mask_box, truth) > 0.8
    assert view.mask[0].max() == 0 and view.mask[-1].max() == 0  # the grown margin is tray
    assert view.crop.shape[:2] == view.mask.shape
    # the photo the gallery keeps: the crop, with the background removal as its alpha channel
    rgba = cv2.imdecode(np.frombuffer(view.png(), np.uint8), cv2.IMREAD_UNCHANGED)
    assert rgba.shape[2] == 4 and np.array_equal(rgba[..., 3], view.mask)
    assert check_image(None, cv2.imdecode(np.frombuffer(view.png(), np.uint8), cv2.IMREAD_COLOR)).ok  # type: ignore[arg-type]
    assert cv2.imdecode(np.frombuffer(view.thumbnail(), np.uint8), cv2.IMREAD_COLOR).shape[2] == 3


def test_a_change_of_light_over_the_whole_tray_is_not_a_product() -> None:
    scene = tray_scene([("RICE-LG-2LB", 0)])
    brighter = np.clip(scene.image.astype(np.float32) * 1.12 + 6, 0, 255).astype(np.uint8)
    view = cut_out(empty_tray(), brighter)
    assert isinstance(view, TrayView)
    assert iou(view.box, scene.labels[0].box) > 0.65
    assert cut_out(empty_tray(), np.clip(empty_tray().astype(np.int16) + 12, 0, 255).astype(np.uint8)) \
        == Refusal(NO_PRODUCT)


def test_no_product_two_products_an_edge_and_blur_are_refused_with_the_reason() -> None:
    empty = noisy(empty_tray(), 0)
    assert cut_out(empty, noisy(empty_tray(), 1)) == Refusal(NO_PRODUCT)
    apart = tray_scene([("BEER-PRZ-355", 0), ("TUNA-170", 1)])
    assert len(apart.labels) == 2
    two = cut_out(empty, noisy(apart.image, 1))
    assert isinstance(two, Refusal) and two.reason.startswith("2 things on the tray"), two
    # the same product pushed half out of the picture
    half_out = render_tray(library(), [PlacedItem("DETERG-1KG", 0, 790.0, 300.0, 0.0)], empty_tray(), STYLE,
                           px_per_mm=PX_PER_MM).image
    edge = cut_out(empty, noisy(half_out, 1))
    assert isinstance(edge, Refusal) and "edge of the picture" in edge.reason, edge
    blurred = cv2.GaussianBlur(tray_with([("RICE-LG-2LB", 0)]), (0, 0), 4)
    blur = cut_out(empty_tray(), blurred)
    assert isinstance(blur, Refusal) and blur.reason.startswith("blurred"), blur


def feed_still(collector: ViewCollector, image: np.ndarray, start: int, frames: int = 4) -> list[CollectorEvent]:
    events = [collector.feed(noisy(image, start + k)) for k in range(frames)]
    return [e for e in events if e is not None]


def test_the_collector_keeps_each_new_settled_view_once() -> None:
    config = TrayEnrolConfig(still_frames=3, min_views=3, max_views=4)
    collector = ViewCollector(noisy(empty_tray(), 0), config)
    sku = "SODA-KOLA-2L"
    # a hand moving over the tray: nothing is judged until the tray is still
    assert [collector.feed(noisy(tray_with([(sku, k)]), k)) for k in range(4)] == [None] * 4
    # settled: one view, judged once however long the tray stays still
    events = feed_still(collector, tray_with([(sku, 0)]), 10, frames=8)
    assert events == [CollectorEvent("kept", index=0)]
    # touched, then put back as it was: the same view, not kept twice
    collector.feed(noisy(empty_tray(), 20))
    assert feed_still(collector, tray_with([(sku, 0)]), 30) == [
        CollectorEvent("same", index=0, reason="looks the same as view 1: turn the product over")]
    # turned over twice: two new views; then enough
    assert feed_still(collector, tray_with([(sku, 1)]), 40) == [CollectorEvent("kept", index=1)]
    assert feed_still(collector, tray_with([(sku, 2)]), 50) == [CollectorEvent("kept", index=2)]
    assert collector.enough and not collector.full
    # two products touching each other are one blob: the recogniser's count of products refuses them
    touching = render_tray(library(), [PlacedItem(sku, 0, 400.0, 300.0, 90.0),
                                       PlacedItem("BEER-PRZ-355", 0, 480.0, 300.0, 90.0)],
                           empty_tray(), STYLE, px_per_mm=PX_PER_MM).image
    assert isinstance(cut_out(collector.empty, touching), TrayView)  # one blob, as far as the tray can tell
    events = [collector.feed(noisy(touching, 60 + k), products_seen=2) for k in range(4)]
    assert [e for e in events if e is not None] == [CollectorEvent(
        "refused", reason="the camera sees 2 products on the tray: put the product alone on the empty tray")]
    assert len(collector.views) == 3
    # a bad view dropped by the person teaching; its pose can be taught again
    collector.drop(1)
    assert feed_still(collector, tray_with([(sku, 1)]), 70) == [CollectorEvent("kept", index=2)]
    with pytest.raises(IndexError):
        collector.drop(7)


def test_an_empty_settled_tray_becomes_the_new_reference() -> None:
    collector = ViewCollector(noisy(empty_tray(), 0), TrayEnrolConfig(still_frames=2))
    dimmer = np.clip(empty_tray().astype(np.float32) * 0.9, 0, 255).astype(np.uint8)
    assert feed_still(collector, dimmer, 10, 3) == [CollectorEvent("empty")]
    assert np.abs(collector.empty.astype(np.int16) - dimmer.astype(np.int16)).mean() < 3
    product = np.clip(tray_with([("MILK-PWD-360", 0)]).astype(np.float32) * 0.9, 0, 255).astype(np.uint8)
    assert feed_still(collector, product, 20, 3) == [CollectorEvent("kept", index=0)]
