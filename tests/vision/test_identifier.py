"""The shipped ONNX appearance embedder (models/embedder) on the device runtime: unit embeddings,
rotation-tolerant test-time views, the int8 variant, and a damaged embedder folder reported by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from vision.catalogue import demo_catalogue
from vision.identifier import DEFAULT_EMBEDDER, Embedder, EmbedderError, crop_box, square_pad
from vision.product_art import render_product


def on_surface(sku_index: int, view: str = "front", surface: tuple[int, int, int] = (180, 170, 160)) -> np.ndarray:
    """A demo product's cut-out laid on a plain surface, as an enrolment photo would show it."""
    art = render_product(demo_catalogue()[sku_index], view)
    alpha = art[..., 3:4].astype(np.float32) / 255.0
    bg = np.array(surface, np.float32)
    return (art[..., :3].astype(np.float32) * alpha + bg * (1 - alpha)).astype(np.uint8)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(DEFAULT_EMBEDDER, threads=2)


def test_embeddings_are_unit_vectors_of_the_manifest_size(embedder: Embedder) -> None:
    vecs = embedder.embed([on_surface(0), on_surface(5)])
    assert vecs.shape == (2, embedder.manifest.embedding_dim)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, embedder.dim)


def test_a_product_turned_over_on_the_tray_still_matches_itself_best(embedder: Embedder) -> None:
    photos = [on_surface(i) for i in (0, 3, 7, 12)]
    turned = [np.ascontiguousarray(np.rot90(p, 1)) for p in photos]
    sims = embedder.embed(turned) @ embedder.embed(photos).T
    assert (np.argmax(sims, axis=1) == np.arange(4)).all()
    assert np.diag(sims).min() > 0.97  # quarter turns are among the test-time views


def test_the_int8_variant_agrees_with_fp32(embedder: Embedder) -> None:
    int8 = Embedder(DEFAULT_EMBEDDER, variant="int8", threads=2)
    photos = [on_surface(i) for i in (1, 9, 20)]
    agree = np.sum(embedder.embed(photos) * int8.embed(photos), axis=1)
    assert agree.min() > 0.9
    assert int8.identity["sha256"] != embedder.identity["sha256"]


def test_a_damaged_embedder_folder_is_reported_by_file_name(tmp_path: Path) -> None:
    folder = tmp_path / "embedder"
    shutil.copytree(DEFAULT_EMBEDDER, folder)
    model = folder / "embedder.onnx"
    model.write_bytes(model.read_bytes()[:1000])
    with pytest.raises(EmbedderError, match=r"embedder\.onnx"):
        Embedder(folder)
    (folder / "manifest.json").write_text("{")
    with pytest.raises(EmbedderError, match=r"manifest\.json"):
        Embedder(folder)
    with pytest.raises(EmbedderError, match="not found"):
        Embedder(tmp_path / "nowhere")


def test_crops_keep_their_aspect_and_boxes_grow_by_the_margin() -> None:
    frame = np.zeros((100, 200, 3), np.uint8)
    crop = crop_box(frame, (50, 20, 150, 70), margin=0.1)
    assert crop.shape[:2] == (60, 120)
    assert square_pad(crop).shape[:2] == (120, 120)
    with pytest.raises(ValueError):
        crop_box(frame, (10, 10, 10, 50))
