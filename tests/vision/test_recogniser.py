"""The live recogniser: identify-once, unknown items, gallery reloads, broken galleries, head votes."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.detector import Detection
from vision.finder import FoundBox
from vision.gallery.store import Gallery
from vision.recogniser import Recogniser, RecogniserSettings, crop_item

RED, BLUE, GREEN = (30, 30, 220), (220, 60, 30), (40, 200, 40)
BOX_A = (40.0, 40.0, 140.0, 120.0)
BOX_B = (200.0, 60.0, 300.0, 160.0)


class ColourEmbedder:
    """A stand-in embedder: the colours of the crop's middle half on a 4x4 grid (the product, not the
    surface around it); counts the crops it embeds."""

    views = 1

    def __init__(self, name: str = "colour-grid") -> None:
        self.name = name
        self.crops = 0

    @property
    def identity(self) -> dict[str, str]:
        return {"name": self.name, "version": "1", "variant": "fp32", "sha256": self.name}

    @property
    def dim(self) -> int:
        return 48

    def embed(self, crops: list[np.ndarray], views: int | None = None) -> np.ndarray:
        self.crops += len(crops)
        rows = [cv2.resize(middle(c), (4, 4), interpolation=cv2.INTER_AREA).astype(np.float32).reshape(-1) - 100.0
                for c in crops]
        out = np.array(rows, np.float32).reshape(len(crops), self.dim)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def middle(crop: np.ndarray) -> np.ndarray:
    h, w = crop.shape[:2]
    return crop[h // 4:h - h // 4 or h, w // 4:w - w // 4 or w]


class Boxes:
    """A stand-in finder: the boxes the test puts on the tray."""

    def __init__(self) -> None:
        self.boxes: list[tuple[float, float, float, float]] = []

    def find(self, image: np.ndarray) -> list[FoundBox]:
        return [FoundBox(b, 0.9) for b in self.boxes]


class HeadBoxes(Boxes):
    """A stand-in bundle finder whose class head reads every box as ``head`` with ``p``."""

    def __init__(self, head: str, p: float) -> None:
        super().__init__()
        self.head, self.p = head, p

    def find_with_classes(self, image: np.ndarray) -> list[tuple[FoundBox, Detection]]:
        return [(FoundBox(b, 0.9), Detection(self.head, 0, self.p, b)) for b in self.boxes]


def product(colour: tuple[int, int, int], shade: int = 0) -> np.ndarray:
    """A product photo: a coloured pack with a lighter band (``shade`` varies the photo a little)."""
    img = np.full((80, 100, 3), colour, np.uint8)
    img[30:50, :] = np.clip(np.array(colour) + 60 + shade, 0, 255).astype(np.uint8)
    return img


def tray(*placed: tuple[tuple[float, float, float, float], tuple[int, int, int]]) -> np.ndarray:
    frame = np.full((240, 360, 3), 128, np.uint8)
    for box, colour in placed:
        x1, y1, x2, y2 = (int(v) for v in box)
        frame[y1:y2, x1:x2] = cv2.resize(product(colour), (x2 - x1, y2 - y1))
    return frame


def enrol(folder: Path, embedder: ColourEmbedder, skus: dict[str, tuple[int, int, int]]) -> int:
    """Enrol each SKU from three photos through the real gallery writer; returns the saved version."""
    gallery = Gallery.open_or_create(folder, embedder)
    for sku, colour in skus.items():
        for shade in (0, 15, 30):
            photo = product(colour, shade)
            ok, png = cv2.imencode(".png", photo)
            assert ok
            gallery.add_photo(sku, png.tobytes(), ".png", embedder.embed([photo])[0], duplicate=0.9999)
    gallery.recalibrate()
    version = gallery.save()
    embedder.crops = 0
    return version


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def embedder() -> ColourEmbedder:
    return ColourEmbedder()


def test_each_arriving_product_is_embedded_once_not_on_every_frame(tmp_path: Path, embedder: ColourEmbedder) -> None:
    enrol(tmp_path / "g", embedder, {"RED-1": RED, "BLUE-1": BLUE})
    finder = Boxes()
    rec = Recogniser(embedder, tmp_path / "g", finder)
    finder.boxes = [BOX_A]
    for _ in range(6):
        dets = rec.detect(tray((BOX_A, RED)))
    assert [(d.sku, d.known) for d in dets] == [("RED-1", True)]
    assert embedder.crops == 1
    finder.boxes = [BOX_A, BOX_B]
    for _ in range(6):
        dets = rec.detect(tray((BOX_A, RED), (BOX_B, BLUE)))
    assert sorted(d.sku or "" for d in dets) == ["BLUE-1", "RED-1"]
    assert embedder.crops == 2  # only the blue pack, once, when it arrived
    assert rec.stats.identified == 2 and rec.stats.reused == 5 + 6 + 5


def test_a_product_nobody_enrolled_is_an_unknown_item_with_the_closest_skus(tmp_path: Path,
                                                                            embedder: ColourEmbedder) -> None:
    enrol(tmp_path / "g", embedder, {"RED-1": RED, "BLUE-1": BLUE})
    finder = Boxes()
    finder.boxes = [BOX_A]
    rec = Recogniser(embedder, tmp_path / "g", finder)
    [det] = rec.detect(tray((BOX_A, GREEN)))
    assert det.sku is None and not det.known
    assert det.box == BOX_A
    assert {sku for sku, _ in det.alternatives} == {"RED-1", "BLUE-1"}
    assert det.confidence < Gallery.load(tmp_path / "g").thresholds().min_score


def test_a_saved_gallery_is_used_from_the_next_poll_and_the_tray_is_identified_again(
        tmp_path: Path, embedder: ColourEmbedder) -> None:
    folder = tmp_path / "g"
    enrol(folder, embedder, {"RED-1": RED, "BLUE-1": BLUE})
    clock = Clock()
    finder = Boxes()
    finder.boxes = [BOX_A]
    rec = Recogniser(embedder, folder, finder, RecogniserSettings(reload_interval_s=1.0), clock=clock)
    assert rec.detect(tray((BOX_A, GREEN)))[0].sku is None
    version = enrol(folder, embedder, {"GREEN-1": GREEN})  # taught at the till
    assert not rec.poll()  # not due yet: one stat a second at most
    clock.now = 1.5
    assert rec.poll()
    assert rec.gallery_version == version
    [det] = rec.detect(tray((BOX_A, GREEN)))
    assert (det.sku, det.known) == ("GREEN-1", True)
    assert embedder.crops == 1  # identified again after the reload, although the box did not move


def test_a_corrupt_gallery_is_named_and_the_last_good_one_stays_in_use(tmp_path: Path,
                                                                       embedder: ColourEmbedder) -> None:
    folder = tmp_path / "g"
    enrol(folder, embedder, {"RED-1": RED, "BLUE-1": BLUE})
    finder = Boxes()
    finder.boxes = [BOX_A]
    rec = Recogniser(embedder, folder, finder)
    (folder / "embeddings.npy").write_bytes(b"not numpy")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["version"] += 1
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert not rec.reload_now()
    status = rec.status()
    assert "embeddings.npy" in status["gallery_error"] and "corrupt" in status["gallery_error"]
    assert status["gallery_version"] == 1
    assert rec.detect(tray((BOX_A, RED)))[0].sku == "RED-1"


def test_a_gallery_made_by_another_embedder_is_refused_by_name_and_the_bundle_classes_apply(
        tmp_path: Path, embedder: ColourEmbedder) -> None:
    folder = tmp_path / "g"
    enrol(folder, ColourEmbedder("another-network"), {"RED-1": RED, "BLUE-1": BLUE})
    finder = HeadBoxes("TRAINED-SKU", 0.8)
    finder.boxes = [BOX_A]
    rec = Recogniser(embedder, folder, finder)
    assert "another-network" in rec.status()["gallery_error"]
    [det] = rec.detect(tray((BOX_A, RED)))
    assert (det.sku, det.known) == ("TRAINED-SKU", True)  # the bundle's trained classes
    assert embedder.crops == 0


def test_without_any_gallery_and_no_class_head_every_product_is_unknown(tmp_path: Path,
                                                                      embedder: ColourEmbedder) -> None:
    finder = Boxes()
    finder.boxes = [BOX_A, BOX_B]
    rec = Recogniser(embedder, tmp_path / "none", finder)
    dets = rec.detect(tray((BOX_A, RED), (BOX_B, BLUE)))
    assert [(d.sku, d.known) for d in dets] == [(None, False), (None, False)]  # never silently dropped


def test_the_class_head_picks_among_the_galleries_closest_skus_only(tmp_path: Path,
                                                                    embedder: ColourEmbedder) -> None:
    folder = tmp_path / "g"
    # two sizes of one pack look the same to the embedder: the trained head tells them apart
    enrol(folder, embedder, {"RED-SMALL": RED, "RED-LARGE": RED, "BLUE-1": BLUE})
    finder = HeadBoxes("RED-LARGE", 0.9)
    finder.boxes = [BOX_A]
    rec = Recogniser(embedder, folder, finder)
    [det] = rec.detect(tray((BOX_A, RED)))
    assert (det.sku, det.known) == ("RED-LARGE", True)
    # the head cannot turn a pack the gallery scores low for its SKU into that SKU
    finder2 = HeadBoxes("BLUE-1", 0.95)
    finder2.boxes = [BOX_A]
    rec2 = Recogniser(embedder, folder, finder2)
    [det2] = rec2.detect(tray((BOX_A, RED)))
    assert det2.sku in {"RED-SMALL", "RED-LARGE"}


def test_crop_item_cuts_the_box_with_the_enrolment_margin() -> None:
    frame = np.zeros((100, 200, 3), np.uint8)
    crop = crop_item(frame, (50.0, 20.0, 150.0, 70.0))
    assert crop.shape == (54, 108, 3)  # 4 % of 100 x 50 each side


def test_a_sku_the_store_never_enrolled_is_never_named_by_the_class_head_however_sure(
        tmp_path: Path, embedder: ColourEmbedder) -> None:
    folder = tmp_path / "g"
    enrol(folder, embedder, {"NEW-RED": RED, "BLUE-1": BLUE})  # the bundle's classes are not the store's
    sure = HeadBoxes("TRAINED-GREEN", 0.95)
    sure.boxes = [BOX_A]
    [det] = Recogniser(embedder, folder, sure).detect(tray((BOX_A, GREEN)))
    assert (det.sku, det.known) == (None, False)  # an unknown item for the cashier, not a guess
    # and the enrolled product the gallery matches well is not overruled by the sure head
    [det] = Recogniser(embedder, folder, sure).detect(tray((BOX_A, RED)))
    assert (det.sku, det.known) == ("NEW-RED", True)


class BundleStub:
    """A stand-in for the model bundle's detector: reads every box it is told about as ``sku``; counts calls."""

    confidence = 0.3

    def __init__(self, sku: str, p: float, boxes: list[tuple[float, float, float, float]]) -> None:
        self.sku, self.p, self.boxes, self.calls = sku, p, boxes, 0

    def detect(self, frame: np.ndarray) -> list[Detection]:
        self.calls += 1
        return [Detection(self.sku, 0, self.p, b) for b in self.boxes]


def test_with_a_finder_network_the_bundle_head_votes_only_on_frames_where_a_product_arrived(
        tmp_path: Path, embedder: ColourEmbedder) -> None:
    folder = tmp_path / "g"
    enrol(folder, embedder, {"RED-SMALL": RED, "RED-LARGE": RED, "BLUE-1": BLUE})
    finder = Boxes()  # a finder network: boxes, no classes
    finder.boxes = [BOX_A]
    bundle = BundleStub("RED-LARGE", 0.9, [(42.0, 41.0, 139.0, 121.0)])
    rec = Recogniser(embedder, folder, finder)
    for _ in range(5):
        [det] = rec.detect(tray((BOX_A, RED)), bundle)  # type: ignore[arg-type]
    assert (det.sku, det.known) == ("RED-LARGE", True)
    assert bundle.calls == 1  # read once, when the pack arrived; the settled frames cost the finder only


def test_new_settings_apply_from_the_next_frame_and_reread_a_bundle_at_its_new_confidence(tmp_path: Path) -> None:
    """A fleet configuration update changes the running recogniser's thresholds without a restart."""
    class _Embedder:
        def embed(self, crops):  # pragma: no cover - no crop is embedded here
            raise AssertionError

    rec = Recogniser(_Embedder(), tmp_path / "gallery", finder=None, settings=RecogniserSettings())
    detector = object()
    first = rec._finder_for(detector)  # type: ignore[arg-type]
    assert rec._finder_for(detector) is first  # type: ignore[arg-type]
    rec.use_settings(RecogniserSettings(head_min=0.7))  # the same confidence: the bundle reader is kept
    assert rec.settings.head_min == 0.7 and rec._finder_for(detector) is first  # type: ignore[arg-type]
    rec.use_settings(RecogniserSettings(finder_confidence=0.45))
    again = rec._finder_for(detector)  # type: ignore[arg-type]
    assert again is not first and again.confidence == 0.45
