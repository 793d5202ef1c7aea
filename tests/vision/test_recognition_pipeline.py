"""The live pipeline with the recogniser: the demo bundle finds, the gallery identifies, once per arrival.

Runs the real synthetic camera (manual tray), the real demo bundle read class-blind and the real
gallery writer; the embedder is a small colour stand-in (tests/vision/test_recogniser.py) so the test
counts its calls and stays fast.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tests.vision.test_recogniser import ColourEmbedder
from vision.basket import BasketSnapshot, BasketStabiliser
from vision.catalogue import demo_catalogue
from vision.change_gate import ChangeGate
from vision.demo_gallery import build_demo_gallery
from vision.detector import Detector
from vision.pipeline import VisionLoop, VisionPipeline
from vision.recogniser import Recogniser, RecogniserSettings
from vision.sources import SyntheticSource, open_source
from vision.unenrolled import unenrolled_product

ROOT = Path(__file__).resolve().parents[2]
ENROLLED = ["RICE-LG-2LB", "SODA-KOLA-2L", "BEER-STOUT-330"]


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(ROOT / "models" / "demo")


@pytest.fixture
def stack(tmp_path: Path, detector: Detector) -> tuple[SyntheticSource, VisionPipeline, ColourEmbedder]:
    embedder = ColourEmbedder()
    products = [p for p in demo_catalogue() if p.sku in ENROLLED]
    build_demo_gallery(tmp_path / "gallery", embedder, products)
    embedder.crops = 0
    source = open_source("synthetic:?manual=1&seed=3")
    assert isinstance(source, SyntheticSource)
    source.add_products([unenrolled_product(1)])
    recogniser = Recogniser(embedder, tmp_path / "gallery", settings=RecogniserSettings(head_votes=False))
    pipeline = VisionPipeline(source, detector, BasketStabiliser(settle_frames=3), gate=ChangeGate(settle_frames=4),
                              recogniser=recogniser)
    return source, pipeline, embedder


def run(pipeline: VisionPipeline, frames: int) -> BasketSnapshot:
    basket = None
    for _ in range(frames):
        result = pipeline.step()
        assert result is not None
        basket = result.basket
    assert basket is not None
    return basket


def test_a_product_on_the_tray_is_identified_through_the_gallery_once_not_per_frame(stack) -> None:
    source, pipeline, embedder = stack
    assert run(pipeline, 3).items == ()
    source.show(["RICE-LG-2LB"])
    basket = run(pipeline, 10)
    assert basket.settled
    assert [(i.sku, i.known) for i in basket.items] == [("RICE-LG-2LB", True)]
    assert pipeline.stats.inferences >= 4  # it was looked at on several frames ...
    assert embedder.crops == 1  # ... and embedded once, when it arrived
    source.show(["RICE-LG-2LB", "SODA-KOLA-2L"])
    basket = run(pipeline, 10)
    assert basket.counts == {"RICE-LG-2LB": 1, "SODA-KOLA-2L": 1}
    assert embedder.crops <= 3  # the new bottle; the bag again only if the new layout moved it


def test_an_unenrolled_product_alone_on_the_tray_is_an_unknown_item(stack) -> None:
    source, pipeline, _ = stack
    new = unenrolled_product(1)
    source.show([new.sku])
    basket = run(pipeline, 10)
    assert basket.settled
    [item] = basket.items
    assert (item.sku, item.known, item.source) == (None, False, "vision")
    assert basket.unknown == (item,) and basket.counts == {}
    assert {sku for sku, _ in item.alternatives} <= set(ENROLLED)


def wait_for(check, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_loop_keeps_the_latest_empty_tray_frame_for_teaching(stack) -> None:
    source, pipeline, _ = stack
    loop = VisionLoop(pipeline)
    loop.start()
    try:
        wait_for(lambda: loop.snapshot().empty_tray is not None)
        empty = loop.snapshot()
        source.show(["BEER-STOUT-330"])
        wait_for(lambda: (loop.snapshot().basket or BasketSnapshot((), False, (), 0)).counts == {"BEER-STOUT-330": 1})
        later = loop.snapshot()
    finally:
        loop.stop()
    assert later.empty_tray is not None and empty.empty_tray is not None
    # the empty-tray view is a frame from before the bottle was put down, not the frame with the bottle
    assert np.abs(later.empty_tray.astype(int) - empty.empty_tray.astype(int)).mean() < 3
    assert np.abs(later.image.astype(int) - later.empty_tray.astype(int)).mean() > 3


def test_a_product_taught_while_it_lies_on_the_tray_turns_from_unknown_to_its_sku(tmp_path: Path,
                                                                                  detector: Detector) -> None:
    import cv2

    from vision.cutouts import CutoutLibrary
    from vision.demo_gallery import product_photos
    from vision.gallery.store import Gallery

    embedder = ColourEmbedder()
    folder = tmp_path / "gallery"
    build_demo_gallery(folder, embedder, [p for p in demo_catalogue() if p.sku in ENROLLED])
    source = SyntheticSource(seed=3, manual=True)
    new = unenrolled_product(1)
    source.add_products([new])
    recogniser = Recogniser(embedder, folder, settings=RecogniserSettings(head_votes=False, reload_interval_s=1e-6))
    pipeline = VisionPipeline(source, detector, BasketStabiliser(settle_frames=3), gate=ChangeGate(settle_frames=4),
                              recogniser=recogniser)
    source.show([new.sku])
    [item] = run(pipeline, 10).items
    assert item.sku is None
    gallery = Gallery.open_or_create(folder, embedder)  # taught at the till: the gallery changes, the tray does not
    for photo in product_photos(new, CutoutLibrary.from_products([new])):
        ok, png = cv2.imencode(".png", photo)
        assert ok
        gallery.add_photo(new.sku, png.tobytes(), ".png", embedder.embed([photo])[0])
    gallery.recalibrate()
    gallery.save()
    events = []
    for _ in range(12):
        result = pipeline.step()
        assert result is not None
        events += [(e.kind, e.sku, e.track_id) for e in result.basket.events]
    assert result.basket.counts == {new.sku: 1} and result.basket.unknown == ()
    assert events == [("remove", None, item.track_id), ("add", new.sku, item.track_id)]
