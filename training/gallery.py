"""Training reads store galleries: their enrolment photos as training input, and as the yardstick a new
model must not fall below before it is published.

A gallery is either a device's gallery folder (``manifest.json``, ``tillsight.gallery/1`` as
``vision/gallery`` writes it) or a hub export (``gallery.json``, the ``tillsight.gallery/1``
announcement, as ``tillsight hub gallery export`` writes it); both list each SKU's photos.

- :func:`gallery_photos`: SKU -> its photo files, from either kind, every problem naming the file;
- :func:`add_gallery_cutouts`: each photo as an RGBA cut-out (the product cut from its surface with
  GrabCut, or the whole photo when that fails), written into a cut-out folder beside the catalogue's,
  so ``tillsight train all --gallery DIR`` renders the store's own products into its scenes;
- :func:`compare_on_gallery`: the new bundle and the running one, each asked what every enrolment
  photo shows (the photo laid on a plain tray); top-1 of both, and whether the new one is worse;
- :func:`record_check`: writes that comparison into the new bundle's manifest (``gallery_check``),
  where ``tillsight hub fleet publish`` reads it and refuses a worse model unless forced.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from contracts import ContractError
from contracts.gallery import GalleryAnnouncement
from vision.detector import Detector
from vision.gallery.manifest import GalleryError, read_manifest

log = logging.getLogger(__name__)

EXPORT_MANIFEST = "gallery.json"  # a hub export (analytics/gallery/query.py)
CHECK_KEY = "gallery_check"
TRAY_SIZE = (640, 480)
TRAY_GREY = 150
PHOTO_SHARE = 0.45  # a photo's long side on the tray, as a share of the frame's short side


def gallery_photos(folder: str | Path) -> dict[str, list[Path]]:
    """SKU -> its enrolment photo files, from a device gallery or a hub export."""
    folder = Path(folder)
    if (folder / EXPORT_MANIFEST).is_file():
        try:
            ann = GalleryAnnouncement.from_payload(json.loads((folder / EXPORT_MANIFEST).read_text(encoding="utf-8")))
        except (ValueError, ContractError) as exc:
            raise GalleryError(f"{folder / EXPORT_MANIFEST}: not a gallery export ({exc})") from None
        rows = [(ex.sku, ex.photo) for ex in ann.examples]
    else:
        rows = [(sku, ex.photo) for sku, ex in read_manifest(folder).rows()]
    photos: dict[str, list[Path]] = {}
    for sku, rel in rows:
        path = folder / rel
        if not path.is_file():
            raise GalleryError(f"{path}: enrolment photo listed by the gallery is missing")
        photos.setdefault(sku, []).append(path)
    return photos


def cut_out(photo: np.ndarray, margin: float = 0.04) -> np.ndarray:
    """BGRA: the product cut from its surface (GrabCut from a rectangle just inside the photo); the
    whole photo, opaque, where the cut keeps too little or too much of it (a tight crop)."""
    h, w = photo.shape[:2]
    opaque = np.dstack([photo, np.full((h, w), 255, np.uint8)])
    mx, my = max(1, int(w * margin)), max(1, int(h * margin))
    if w < 32 or h < 32:
        return opaque
    mask = np.zeros((h, w), np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(photo, mask, (mx, my, w - 2 * mx, h - 2 * my), bgd, fgd, 3, cv2.GC_INIT_WITH_RECT)
    except cv2.error:
        return opaque
    fg = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8) * 255
    share = float(fg.mean()) / 255
    if not 0.2 <= share <= 0.97:
        return opaque
    return np.dstack([photo, fg])


def add_gallery_cutouts(galleries: list[Path], out: Path) -> dict[str, int]:
    """Write every gallery photo as ``out/<sku>/gallery-<n>.png`` (a cut-out folder, merged with what
    ``out`` holds already); returns the cut-outs written per SKU."""
    written: dict[str, int] = {}
    for gallery in galleries:
        for sku, paths in gallery_photos(gallery).items():
            sub = Path(out) / sku
            sub.mkdir(parents=True, exist_ok=True)
            for path in paths:
                photo = cv2.imread(str(path), cv2.IMREAD_COLOR)
                if photo is None:
                    raise GalleryError(f"{path}: enrolment photo is not a readable image")
                n = written.get(sku, 0)
                cv2.imwrite(str(sub / f"gallery-{Path(gallery).name}-{n:03d}.png"), cut_out(photo))
                written[sku] = n + 1
            if not (sub / "sku.json").exists():
                (sub / "sku.json").write_text(json.dumps({"sku": sku}))
    log.info("added %d gallery cut-outs of %d SKUs", sum(written.values()), len(written))
    return written


def merged_cutouts(base: Path, galleries: list[Path], out: Path) -> Path:
    """A cut-out folder holding ``base``'s cut-outs and every gallery photo's (``out`` is rebuilt)."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(base, out)
    add_gallery_cutouts(galleries, out)
    return out


def on_tray(photo: np.ndarray, size: tuple[int, int] = TRAY_SIZE) -> np.ndarray:
    """The photo laid in the middle of a plain grey tray frame, at a product's size on the tray."""
    w, h = size
    frame = np.full((h, w, 3), TRAY_GREY, np.uint8)
    scale = PHOTO_SHARE * min(w, h) / max(photo.shape[:2])
    small = cv2.resize(photo, (max(1, int(photo.shape[1] * scale)), max(1, int(photo.shape[0] * scale))),
                       interpolation=cv2.INTER_AREA)
    y, x = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    frame[y:y + small.shape[0], x:x + small.shape[1]] = small
    return frame


@dataclass(frozen=True)
class ModelFigures:
    bundle: str
    version: str
    top1: float  # share of enrolment photos whose best detection is their SKU
    known_skus: int  # gallery SKUs among the bundle's classes


@dataclass(frozen=True)
class GalleryComparison:
    """The new model and the running one on a store's own enrolment photos."""

    gallery: str
    photos: int
    skus: int
    new: ModelFigures
    running: ModelFigures
    tolerance: float
    worse: bool
    per_sku: dict[str, dict[str, float]] = field(default_factory=dict)  # sku -> {"new", "running"} top-1

    def to_json(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        verdict = "WORSE than the running model" if self.worse else "not worse than the running model"
        return (f"on {self.photos} enrolment photos of {self.skus} SKUs ({self.gallery}): new {self.new.version} "
                f"top-1 {self.new.top1:.3f}, running {self.running.version} top-1 {self.running.top1:.3f}: {verdict}")


def _top1(detector: Detector, photos: dict[str, list[np.ndarray]]) -> tuple[float, dict[str, float]]:
    right, total, per_sku = 0, 0, {}
    for sku, images in photos.items():
        hits = 0
        for image in images:
            found = detector.detect(on_tray(image))
            if found and found[0].sku == sku:
                hits += 1
        per_sku[sku] = hits / len(images)
        right += hits
        total += len(images)
    return (right / total if total else 0.0), per_sku


def _figures(bundle: Path, photos: dict[str, list[np.ndarray]]) -> tuple[ModelFigures, dict[str, float]]:
    detector = Detector(bundle, warm_up=False)
    top1, per_sku = _top1(detector, photos)
    classes = set(detector.manifest.classes)
    return ModelFigures(str(bundle), str(detector.manifest.version), round(top1, 4),
                        sum(1 for s in photos if s in classes)), per_sku


def compare_on_gallery(new_bundle: str | Path, running_bundle: str | Path, gallery: str | Path,
                       tolerance: float = 0.0) -> GalleryComparison:
    """Top-1 of both bundles on every enrolment photo of ``gallery``; ``worse`` when the new one is
    more than ``tolerance`` below the running one."""
    paths = gallery_photos(gallery)
    photos: dict[str, list[np.ndarray]] = {}
    for sku, files in paths.items():
        for path in files:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise GalleryError(f"{path}: enrolment photo is not a readable image")
            photos.setdefault(sku, []).append(image)
    if not photos:
        raise GalleryError(f"{gallery}: the gallery has no enrolment photos to compare on")
    new, new_sku = _figures(Path(new_bundle), photos)
    running, running_sku = _figures(Path(running_bundle), photos)
    per_sku = {sku: {"new": new_sku[sku], "running": running_sku[sku]} for sku in photos}
    return GalleryComparison(str(gallery), sum(len(v) for v in photos.values()), len(photos), new, running,
                             tolerance, new.top1 < running.top1 - tolerance, per_sku)


def record_check(bundle: str | Path, comparison: GalleryComparison) -> None:
    """Write the comparison into the bundle's manifest as ``gallery_check`` (the model file is untouched)."""
    path = Path(bundle) / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest[CHECK_KEY] = {"passed": not comparison.worse, "summary": comparison.summary(),
                           "photos": comparison.photos, "skus": comparison.skus, "gallery": comparison.gallery,
                           "new_top1": comparison.new.top1, "running_top1": comparison.running.top1,
                           "running_version": comparison.running.version, "tolerance": comparison.tolerance}
    path.write_text(json.dumps(manifest, indent=2))
