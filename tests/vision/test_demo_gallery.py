"""The demo's gallery: the demo catalogue enrolled from its own product images, once."""

from __future__ import annotations

from pathlib import Path

from tests.vision.test_recogniser import ColourEmbedder
from vision.catalogue import demo_catalogue
from vision.demo_gallery import PHOTOS_PER_FACE, build_demo_gallery, ensure_demo_gallery
from vision.gallery.store import Gallery


def test_the_demo_gallery_enrols_every_product_from_its_photos_once(tmp_path: Path, monkeypatch) -> None:
    products = demo_catalogue()[:4]
    monkeypatch.setattr("vision.demo_gallery.demo_catalogue", lambda: products)
    embedder = ColourEmbedder()
    thread = ensure_demo_gallery(tmp_path / "g", embedder)  # in the background, as tillsight demo does
    assert thread is not None
    thread.join(120)
    gallery = Gallery.load(tmp_path / "g", embedder)
    assert gallery.skus == [p.sku for p in products]
    assert gallery.manifest.names[products[0].sku] == products[0].name
    assert all(0 < len(gallery.manifest.skus[p.sku]) <= 3 * PHOTOS_PER_FACE for p in products)
    assert gallery.manifest.thresholds is not None  # calibrated on its own examples
    assert all((tmp_path / "g" / ex.photo).is_file() for _, ex in gallery.manifest.rows())
    assert ensure_demo_gallery(tmp_path / "g", embedder) is None  # built once: a later start finds it
    assert Gallery.load(tmp_path / "g", embedder).version == gallery.version


def test_build_demo_gallery_takes_the_products_given(tmp_path: Path) -> None:
    products = [p for p in demo_catalogue() if p.sku in ("TUNA-170", "MILK-1L")]
    version = build_demo_gallery(tmp_path / "g", ColourEmbedder(), products)
    assert version == 1 and sorted(Gallery.load(tmp_path / "g").skus) == ["MILK-1L", "TUNA-170"]
