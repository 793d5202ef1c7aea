"""The store gallery: enrolment with refusals, matching and unknown items, versioning, and
foreign or corrupt galleries reported by name.

A small stand-in embedder (a colour thumbnail, unit length) keeps these tests fast; the real ONNX
embedder is tested in test_identifier.py and through the commands in tests/tillsight_cli/."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.gallery import ForeignGalleryError, Gallery, GalleryError, Matcher, Thresholds
from vision.gallery.enrol import enrol_folder
from vision.gallery.quality import check_photo
from vision.identifier import normalise_rows


class ThumbEmbedder:
    """A stand-in for vision.identifier.Embedder: an 8x8 colour thumbnail, centred, unit length."""

    views = 1

    def __init__(self, name: str = "thumb-test"):
        self._identity = {"name": name, "version": "1", "variant": "fp32", "sha256": f"{name}-sha"}

    @property
    def identity(self) -> dict[str, str]:
        return self._identity

    @property
    def dim(self) -> int:
        return 192

    def embed(self, crops: list[np.ndarray], views: int | None = None) -> np.ndarray:
        rows = [cv2.resize(c, (8, 8), interpolation=cv2.INTER_AREA).astype(np.float32).reshape(-1) - 127.5
                for c in crops]
        return normalise_rows(np.array(rows))


def product_photo(seed: int, jitter: int = 0, size: int = 160) -> np.ndarray:
    """A textured 'product': a fixed colour layout per ``seed`` with sharp fine print, slightly
    different per ``jitter`` (another photo of the same product)."""
    layout = np.random.default_rng(seed).integers(0, 256, size=(8, 8, 3)).astype(np.uint8)
    img = cv2.resize(layout, (size, size), interpolation=cv2.INTER_NEAREST)
    noise = np.random.default_rng(1000 * seed + jitter)
    img = np.clip(img.astype(np.int16) + noise.integers(-12, 13, size=img.shape), 0, 255).astype(np.uint8)
    for k in range(6):  # fine print: sharp black lines
        y = 10 + 24 * k + jitter % 3
        cv2.line(img, (8, y), (size - 8, y), (0, 0, 0), 1)
    # another photo: shifted a little, in other light
    img = np.roll(img, 3 * jitter, axis=1)
    return np.clip(img.astype(np.float32) * (1.0 - 0.03 * jitter), 0, 255).astype(np.uint8)


def write_photos(root: Path, skus: dict[str, int], per_sku: int = 4) -> Path:
    for sku, seed in skus.items():
        folder = root / sku
        folder.mkdir(parents=True, exist_ok=True)
        for j in range(per_sku):
            cv2.imwrite(str(folder / f"{j}.png"), product_photo(seed, j + 1))
    return root


SKUS = {"RICE-5LB": 1, "BEAN-RED": 2, "MILK-1L": 3, "SODA-600": 4}


@pytest.fixture
def enrolled(tmp_path: Path) -> tuple[Path, ThumbEmbedder]:
    emb = ThumbEmbedder()
    enrol_folder(write_photos(tmp_path / "photos", SKUS), tmp_path / "gallery", emb)
    return tmp_path / "gallery", emb


def test_enrol_reports_kept_examples_and_refuses_bad_photos_with_the_reason(tmp_path: Path) -> None:
    photos = write_photos(tmp_path / "photos", {"RICE-5LB": 1, "BEAN-RED": 2}, per_sku=3)
    (photos / "RICE-5LB" / "broken.jpg").write_bytes(b"this is not a jpeg")
    cv2.imwrite(str(photos / "RICE-5LB" / "tiny.png"), product_photo(1, 9, size=24))
    cv2.imwrite(str(photos / "BEAN-RED" / "shaky.png"), cv2.GaussianBlur(product_photo(2, 9), (0, 0), 6))
    report = enrol_folder(photos, tmp_path / "gallery", ThumbEmbedder())

    by_sku = {s.sku: s for s in report.skus}
    assert by_sku["RICE-5LB"].kept == 3 and by_sku["BEAN-RED"].kept == 3
    refused = {n.photo: n.reason for s in report.skus for n in s.refused}
    assert refused["broken.jpg"].startswith("unreadable")
    assert refused["tiny.png"].startswith("too small")
    assert refused["shaky.png"].startswith("blurred")
    assert report.version == 1
    assert Gallery.load(tmp_path / "gallery").manifest.skus.keys() == {"RICE-5LB", "BEAN-RED"}


def test_a_sharp_real_enrolment_photo_passes_and_its_heavy_blur_is_refused(tmp_path: Path) -> None:
    sharp = tmp_path / "sharp.png"
    cv2.imwrite(str(sharp), product_photo(5, 1))
    assert check_photo(sharp).ok
    blurred = tmp_path / "blurred.png"
    cv2.imwrite(str(blurred), cv2.GaussianBlur(product_photo(5, 1), (0, 0), 5))
    assert not check_photo(blurred).ok


def test_a_new_photo_of_an_enrolled_product_is_identified_with_alternatives(enrolled) -> None:
    folder, emb = enrolled
    gallery = Gallery.load(folder, emb)
    result = gallery.matcher().identify(emb.embed([product_photo(3, 7)]))[0]
    assert result.known and result.sku == "MILK-1L"
    assert 0 < result.confidence <= 1
    assert [s for s, _ in result.alternatives] and "MILK-1L" not in [s for s, _ in result.alternatives]
    assert all(a >= b for (_, a), (_, b) in zip(result.alternatives, result.alternatives[1:], strict=False))


def test_a_product_nobody_enrolled_is_an_unknown_item_with_candidates(enrolled) -> None:
    folder, emb = enrolled
    gallery = Gallery.load(folder, emb)
    result = gallery.matcher().identify(emb.embed([product_photo(77, 1)]))[0]
    assert not result.known and result.sku is None
    assert result.best in SKUS and len(result.alternatives) >= 1
    assert result.to_json()["sku"] is None and result.to_json()["known"] is False


def test_too_close_to_the_runner_up_is_unknown_even_with_a_high_score() -> None:
    a = normalise_rows(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    matcher = Matcher(["A", "B"], a, np.array([0, 1]), Thresholds(min_score=0.5, min_margin=0.1))
    between = normalise_rows(np.array([[1.0, 0.95, 0.0]]))
    clear = normalise_rows(np.array([[1.0, 0.2, 0.0]]))
    ambiguous, sure = matcher.identify(np.vstack([between, clear]))
    assert not ambiguous.known and ambiguous.best == "A" and ambiguous.margin < 0.1
    assert sure.known and sure.sku == "A"


def test_thresholds_are_calibrated_from_the_examples_and_saved(enrolled) -> None:
    folder, _ = enrolled
    raw = json.loads((folder / "manifest.json").read_text())
    th = raw["thresholds"]
    assert "leave-one-out" in th["method"] and 0 < th["min_score"] < 1


def test_every_change_raises_the_version_and_a_reload_sees_it(tmp_path: Path, enrolled) -> None:
    folder, emb = enrolled
    assert Gallery.load(folder, emb).version == 1
    more = write_photos(tmp_path / "more", {"COFFEE-227": 9}, per_sku=3)
    report = enrol_folder(more, folder, emb)
    assert report.version == 2
    gallery = Gallery.load(folder, emb)
    assert gallery.version == 2 and "COFFEE-227" in gallery.skus and "RICE-5LB" in gallery.skus
    gallery.remove_sku("COFFEE-227")
    assert gallery.save() == 3
    assert "COFFEE-227" not in Gallery.load(folder, emb).skus


def test_near_duplicates_are_skipped_and_a_sku_is_thinned_to_its_limit(tmp_path: Path) -> None:
    emb = ThumbEmbedder()
    gallery = Gallery.create(tmp_path / "g", emb)
    photo = product_photo(1, 1)
    _ok, data = cv2.imencode(".png", photo)
    vec = emb.embed([photo])[0]
    assert gallery.add_photo("RICE-5LB", data.tobytes(), ".png", vec).kept
    again = gallery.add_photo("RICE-5LB", data.tobytes(), ".png", vec)
    assert not again.kept and "near-duplicate" in str(again.reason)
    for j in range(2, 9):
        img = product_photo(10 + j, j)  # very different looks, all filed under one SKU
        _ok, data = cv2.imencode(".png", img)
        gallery.add_photo("RICE-5LB", data.tobytes(), ".png", emb.embed([img])[0], limit=5)
    assert len(gallery.manifest.skus["RICE-5LB"]) == 5 and len(gallery.rows_of("RICE-5LB")) == 5
    gallery.save()
    assert len(Gallery.load(tmp_path / "g", emb).manifest.skus["RICE-5LB"]) == 5


def test_a_gallery_made_by_another_embedder_is_refused_by_name_and_can_be_reembedded(enrolled) -> None:
    folder, _ = enrolled
    other = ThumbEmbedder("other-net")
    with pytest.raises(ForeignGalleryError) as err:
        Gallery.load(folder, other)
    assert "thumb-test" in str(err.value) and "other-net" in str(err.value)
    assert "manifest.json" in str(err.value)
    gallery = Gallery.load(folder)
    gallery.reembed(other)
    gallery.save()
    assert Gallery.load(folder, other).manifest.embedder["name"] == "other-net"


@pytest.mark.parametrize("damage, names", [
    (lambda f: (f / "manifest.json").write_text("{not json"), "manifest.json"),
    (lambda f: (f / "manifest.json").write_text(json.dumps({"format": "something/else"})), "manifest.json"),
    (lambda f: (f / "embeddings.npy").write_bytes((f / "embeddings.npy").read_bytes()[:100]), "embeddings.npy"),
    (lambda f: (f / "embeddings.npy").unlink(), "embeddings.npy"),
])
def test_a_corrupt_gallery_is_reported_by_file_name_never_a_crash(enrolled, damage, names: str) -> None:
    folder, emb = enrolled
    damage(folder)
    with pytest.raises(GalleryError) as err:
        Gallery.load(folder, emb)
    assert names in str(err.value)


def test_a_folder_that_is_not_a_gallery_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("mine")
    with pytest.raises(GalleryError, match="not a gallery"):
        Gallery.open_or_create(tmp_path / "docs", ThumbEmbedder())


def test_a_sku_that_cannot_be_a_folder_name_is_refused(tmp_path: Path) -> None:
    emb = ThumbEmbedder()
    gallery = Gallery.create(tmp_path / "g", emb)
    with pytest.raises(ValueError, match="cannot be a SKU"):
        gallery.add_photo("../etc", b"x", ".png", emb.embed([product_photo(1)])[0])
