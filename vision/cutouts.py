"""Product cut-outs: the enrolment format shared by the demo catalogue and a shop's own photos.

A cut-out folder holds one sub-folder per SKU.  Each sub-folder has one or more RGBA PNG files
(one per view, transparent outside the product) and optionally ``sku.json``::

    cutouts/
      RICE-LG-2LB/
        sku.json        {"sku": "RICE-LG-2LB", "name": "...", "size_mm": [215, 145], ...}
        front.png
        back.png

``size_mm`` is the product's footprint (long side, short side) lying on the tray; it lets the
scene compositor draw products at their true relative size, which is what tells a 2 lb bag from a
5 lb bag of the same brand.  Without it the longest side is taken as ``DEFAULT_LONG_SIDE_MM``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vision.catalogue import Product
from vision.product_art import render_product, views_for

log = logging.getLogger(__name__)

DEFAULT_LONG_SIDE_MM = 150.0
EXPORT_PX_PER_MM = 2.5


@dataclass
class Cutout:
    sku: str
    view: str
    rgba: np.ndarray  # BGRA uint8
    px_per_mm: float  # pixels of this image per millimetre of product


@dataclass
class SkuEntry:
    sku: str
    name: str
    cutouts: list[Cutout]
    meta: dict


class CutoutLibrary:
    """All views of all SKUs, ready for the scene compositor."""

    def __init__(self, entries: list[SkuEntry]):
        if not entries:
            raise ValueError("a cut-out library needs at least one SKU")
        self.entries = entries
        self._by_sku = {e.sku: e for e in entries}

    @property
    def skus(self) -> list[str]:
        return [e.sku for e in self.entries]

    def entry(self, sku: str) -> SkuEntry:
        return self._by_sku[sku]

    @classmethod
    def from_products(cls, products: list[Product], px_per_mm: float = EXPORT_PX_PER_MM) -> CutoutLibrary:
        entries = []
        for p in products:
            cuts = [Cutout(p.sku, v, render_product(p, v, px_per_mm), px_per_mm) for v in views_for(p)]
            entries.append(SkuEntry(p.sku, p.name, cuts, {"sku": p.sku, "name": p.name,
                                                         "size_mm": list(p.size_mm)}))
        return cls(entries)

    @classmethod
    def from_folder(cls, folder: Path) -> CutoutLibrary:
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"cut-out folder not found: {folder}")
        entries = []
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            meta = {}
            meta_path = sub / "sku.json"
            if meta_path.exists():
                try:
                    meta = json.loads(meta_path.read_text())
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{meta_path}: not valid JSON ({exc})") from exc
            sku = str(meta.get("sku", sub.name))
            cuts = []
            for png in sorted(sub.glob("*.png")):
                img = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
                if img is None:
                    raise ValueError(f"{png}: not a readable image")
                img = _as_bgra(img)
                if int((img[..., 3] > 0).sum()) < 64:
                    raise ValueError(f"{png}: the cut-out is empty (no opaque pixels)")
                px_per_mm = _px_per_mm(img, meta)
                cuts.append(Cutout(sku, png.stem, img, px_per_mm))
            if not cuts:
                log.warning("skipping %s: no PNG cut-outs", sub)
                continue
            entries.append(SkuEntry(sku, str(meta.get("name", sku)), cuts, meta))
        if not entries:
            raise ValueError(f"{folder}: no SKU sub-folders with PNG cut-outs")
        return cls(entries)


def _as_bgra(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 3:  # a photo without transparency: treat the whole image as the product
        img = np.dstack([img, np.full(img.shape[:2], 255, np.uint8)])
    if img.dtype != np.uint8:
        img = (img / 257).astype(np.uint8)
    return img


def _px_per_mm(img: np.ndarray, meta: dict) -> float:
    ys, xs = np.nonzero(img[..., 3])
    long_px = max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    size = meta.get("size_mm")
    long_mm = float(max(size)) if size else DEFAULT_LONG_SIDE_MM
    return long_px / long_mm


def export_cutouts(products: list[Product], folder: Path, px_per_mm: float = EXPORT_PX_PER_MM) -> int:
    """Write every view of every product as an RGBA PNG, one sub-folder per SKU; returns the file count."""
    folder = Path(folder)
    count = 0
    for p in products:
        sub = folder / p.sku
        sub.mkdir(parents=True, exist_ok=True)
        meta = {"sku": p.sku, "name": p.name, "size_mm": list(p.size_mm), "barcode": p.barcode,
                "price": p.price, "category": p.category, "family": p.family, "px_per_mm": px_per_mm}
        (sub / "sku.json").write_text(json.dumps(meta, indent=2))
        for view in views_for(p):
            cv2.imwrite(str(sub / f"{view}.png"), render_product(p, view, px_per_mm))
            count += 1
    return count
