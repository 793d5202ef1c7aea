"""The demo's gallery: the demo catalogue enrolled from its own product images, as a shop would from photos.

``tillsight demo`` recognises the demo catalogue through the gallery path (finder, then identification
against the store's gallery), not only through the bundle's trained classes.  The gallery is built
from the catalogue's product images (``vision.product_art``) at the demo's first start, into the
demo's data folder (``var/demo/gallery``), in a background thread so the till serves meanwhile (on the
bundle's classes until the gallery's version appears; the recogniser picks it up by itself).  It is
built once: a later start finds it there.

Each product is photographed as a shop owner would at the till: alone on a plain grey tray, seen
from above at the camera's scale, each face (front, back, side) at two angles: ``PHOTOS_PER_FACE``
per face, cut out with the recogniser's own crop margin.  The photos go through the same enrolment
path as ``tillsight vision enrol`` (quality checks, near-duplicates, thresholds calibrated on the
gallery's own examples), so the demo's unknown-item thresholds are chosen like a shop's.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import cv2
import numpy as np

from vision.catalogue import Product, demo_catalogue
from vision.cutouts import CutoutLibrary
from vision.gallery.manifest import MANIFEST
from vision.gallery.store import EmbedderLike, Gallery
from vision.scene import PlacedItem, SceneStyle, render_tray

log = logging.getLogger(__name__)

PHOTOS_PER_FACE = 2
FRAME = (640, 480)
TRAY_MM = (800.0, 600.0)
GREY = 128


def product_photos(product: Product, library: CutoutLibrary, seed: int = 0) -> list[np.ndarray]:
    """Photos of one product alone on a plain grey tray at the camera's scale, each face at
    ``PHOTOS_PER_FACE`` angles, cut out around the product."""
    from vision.recogniser import crop_item

    style = SceneStyle(frame_size=FRAME, tray_mm=TRAY_MM, effects=False)
    ppm = FRAME[0] / TRAY_MM[0]
    background = np.full((FRAME[1], FRAME[0], 3), GREY, np.uint8)
    rng = np.random.default_rng([seed, sum(product.sku.encode())])
    photos = []
    for face in range(len(library.entry(product.sku).cutouts)):
        for _ in range(PHOTOS_PER_FACE):
            item = PlacedItem(product.sku, face, TRAY_MM[0] / 2, TRAY_MM[1] / 2, float(rng.uniform(0, 360)))
            scene = render_tray(library, [item], background, style, px_per_mm=ppm)
            if scene.labels:
                photos.append(crop_item(scene.image, scene.labels[0].box))
    return photos


def build_demo_gallery(folder: str | Path, embedder: EmbedderLike, products: list[Product] | None = None) -> int:
    """Enrol ``products`` (the demo catalogue) into a new gallery at ``folder``; returns its version."""
    products = products if products is not None else demo_catalogue()
    library = CutoutLibrary.from_products(products)
    gallery = Gallery.create(folder, embedder)
    for product in products:
        photos = product_photos(product, library)
        vectors = embedder.embed(photos)
        for photo, vec in zip(photos, vectors, strict=True):
            ok, png = cv2.imencode(".png", photo)
            if ok:
                gallery.add_photo(product.sku, png.tobytes(), ".png", vec, source="photos")
        gallery.manifest.names[product.sku] = product.name
    cal = gallery.recalibrate()
    version = gallery.save()
    log.info("demo gallery %s: %d products, %d examples, unknown below score %.3f (version %d)", folder,
             len(gallery.skus), len(gallery.embeddings), cal.min_score, version)
    return version


def ensure_demo_gallery(folder: str | Path, embedder: EmbedderLike, background: bool = True
                        ) -> threading.Thread | None:
    """Build the demo gallery at ``folder`` unless a gallery is there already (then None).  With
    ``background`` it is built in a daemon thread (returned), so the till starts at once."""
    folder = Path(folder)
    if (folder / MANIFEST).exists():
        return None

    def build() -> None:
        try:
            build_demo_gallery(folder, embedder)
        except Exception:  # the demo keeps running on the bundle's classes; the log says why
            log.exception("the demo gallery could not be built in %s", folder)

    if not background:
        build()
        return None
    log.info("building the demo gallery in %s from the demo catalogue's product images (in the background)",
             folder)
    thread = threading.Thread(target=build, name="demo-gallery", daemon=True)
    thread.start()
    return thread
