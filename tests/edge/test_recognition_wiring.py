"""The device's recognition wiring: config keys, the gallery in DATA_DIR, reload after a save, broken galleries."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from edge.appliance import _gallery_access, build_recogniser, build_vision, gallery_dir
from firmware_config import ConfigError, load_config
from tests.vision.test_recogniser import ColourEmbedder
from vision.catalogue import demo_catalogue
from vision.cutouts import CutoutLibrary
from vision.demo_gallery import product_photos


def config(tmp_path: Path, **recognition: object):
    return load_config(env={}, fleet_overlay=False, overrides={
        "data_dir": str(tmp_path / "data"), "camera": {"uri": "synthetic:?manual=1&seed=3"},
        "recognition": dict(recognition)})


def test_unknown_recognition_and_gallery_keys_are_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(env={}, fleet_overlay=False, overrides={"recognition": {"treshold": 0.5},
                                                            "gallery": {"folder": "x"}})
    assert "recognition.treshold" in str(exc.value) and "gallery.folder" in str(exc.value)


def test_the_gallery_lives_in_the_data_folder_unless_configured(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    assert gallery_dir(cfg) == tmp_path / "data" / "gallery"
    other = load_config(env={}, fleet_overlay=False, overrides={"gallery": {"dir": str(tmp_path / "g")}})
    assert gallery_dir(other) == tmp_path / "g"


def test_recognition_off_or_an_embedder_that_does_not_load_leaves_the_bundle_classes(tmp_path: Path,
                                                                                    caplog) -> None:
    assert build_recogniser(config(tmp_path, enabled=False)) is None
    assert build_recogniser(config(tmp_path, embedder=str(tmp_path / "nowhere"))) is None
    assert "nowhere" in caplog.text  # said by name


def test_a_gallery_saved_through_the_web_access_is_used_at_once_and_a_broken_one_is_named(tmp_path: Path) -> None:
    stack = build_vision(config(tmp_path), realtime=False)
    recogniser = stack.recogniser
    assert recogniser is not None and recogniser.gallery_dir == tmp_path / "data" / "gallery"
    assert recogniser.gallery_version is None  # a new store: nothing enrolled, the bundle's classes
    recogniser.embedder = ColourEmbedder()  # a fast stand-in for this test's enrolment
    access = _gallery_access(stack)
    product = next(p for p in demo_catalogue() if p.sku == "TUNA-170")
    library = CutoutLibrary.from_products([product])
    with access.edit() as gallery:  # what "Teach a product" and approved corrections do
        for photo in product_photos(product, library):
            ok, png = cv2.imencode(".png", photo)
            assert ok
            gallery.add_photo("TUNA-170", png.tobytes(), ".png", recogniser.embedder.embed([photo])[0])
    assert recogniser.gallery_version == 1  # reloaded by the save itself, not after a restart
    (recogniser.gallery_dir / "embeddings.npy").write_bytes(b"broken")
    manifest = recogniser.gallery_dir / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"version": 1', '"version": 2'))
    recogniser.reload_now()
    status = recogniser.status()
    assert status["gallery_version"] == 1 and "embeddings.npy" in status["gallery_error"]
    stack.source.close()
