"""Enrol products from a folder of photos: ``PHOTOS_DIR/<sku>/*.jpg`` (the folder name is the SKU).

Each photo shows that one product (a tight crop, or the product alone on a plain surface).  Photos
that are unreadable, too small or heavily blurred are refused with the reason; near-duplicates of
an example the SKU already has are skipped; the rest are embedded and added.  The gallery's
unknown-item thresholds are then chosen again from its examples and it is saved (its version grows).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from vision.gallery.quality import MIN_SHARPNESS, MIN_SIDE, check_image
from vision.gallery.store import EmbedderLike, Gallery, check_sku

log = logging.getLogger(__name__)

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


@dataclass(frozen=True)
class PhotoNote:
    """A photo that was not added, and why: ``reason`` is an English sentence (the command line, logs, the
    JSON report); ``code`` and ``values`` let a screen word it in its reader's language (vision imports no
    languages).  Codes: ``unreadable``, ``too_small`` (width, height, min), ``blurred`` (sharpness, min),
    ``near_duplicate`` (example: the photo it repeats); a caller may add its own (the web upload's
    ``not_a_photo``)."""

    photo: str
    reason: str
    code: str
    values: dict[str, str | int | float] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"photo": self.photo, "reason": self.reason, "code": self.code, "values": self.values}


@dataclass
class SkuReport:
    sku: str
    kept: int = 0
    skipped: list[PhotoNote] = field(default_factory=list)  # near-duplicates
    refused: list[PhotoNote] = field(default_factory=list)  # unusable photos
    examples: int = 0  # the SKU's examples in the gallery afterwards

    def to_json(self) -> dict:
        return {"sku": self.sku, "kept": self.kept, "examples": self.examples,
                "refused": [n.to_json() for n in self.refused], "skipped": [n.to_json() for n in self.skipped]}


@dataclass
class EnrolReport:
    gallery: str
    version: int
    skus: list[SkuReport]
    thresholds: dict

    def to_json(self) -> dict:
        return {"gallery": self.gallery, "version": self.version, "thresholds": self.thresholds,
                "skus": [s.to_json() for s in self.skus]}


def photo_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)


def sku_folders(photos_dir: Path) -> list[Path]:
    if not photos_dir.is_dir():
        raise FileNotFoundError(f"{photos_dir}: photos folder not found")
    folders = sorted(p for p in photos_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise ValueError(f"{photos_dir}: no sub-folders (one sub-folder per SKU, named by the SKU, is expected)")
    return folders


def enrol_sku(gallery: Gallery, embedder: EmbedderLike, sku: str, photos: list[Path], source: str = "photos",
              min_side: int = MIN_SIDE, min_sharpness: float = MIN_SHARPNESS) -> SkuReport:
    """Check, embed and add one SKU's photo files (the gallery is not saved here)."""
    return enrol_photos(gallery, embedder, sku, [(path.name, path.read_bytes()) for path in photos], source,
                        min_side, min_sharpness)


def enrol_photos(gallery: Gallery, embedder: EmbedderLike, sku: str, photos: list[tuple[str, bytes]],
                 source: str = "photos", min_side: int = MIN_SIDE, min_sharpness: float = MIN_SHARPNESS) -> SkuReport:
    """Check, embed and add one SKU's photos given as ``(file name, file bytes)`` (a folder's files, or a
    web upload: the same rules either way); the gallery is not saved here."""
    check_sku(sku)
    report = SkuReport(sku)
    accepted: list[tuple[str, bytes, np.ndarray]] = []
    for name, data in photos:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
        check = check_image(Path(name), image, min_side, min_sharpness)
        if check.ok and check.image is not None:
            accepted.append((name, data, check.image))
        else:
            report.refused.append(PhotoNote(name, str(check.reason), check.code or "unreadable", dict(check.values)))
            log.warning("enrol %s: refused %s: %s", sku, name, check.reason)
    if accepted:
        vectors = embedder.embed([img for _, _, img in accepted])
        for (name, data, _), vec in zip(accepted, vectors, strict=True):
            result = gallery.add_photo(sku, data, Path(name).suffix, vec, source)
            if result.kept:
                report.kept += 1
            else:
                report.skipped.append(PhotoNote(name, str(result.reason), "near_duplicate",
                                                {"example": result.duplicate_of or ""}))
    report.examples = len(gallery.manifest.skus.get(sku, []))
    return report


def enrol_folder(photos_dir: str | Path, gallery_dir: str | Path, embedder: EmbedderLike,
                 skus: list[str] | None = None) -> EnrolReport:
    """Enrol every SKU sub-folder of ``photos_dir`` (or only ``skus``) into the gallery at ``gallery_dir``
    (created when missing), recalibrate and save it."""
    photos_dir = Path(photos_dir)
    gallery = Gallery.open_or_create(gallery_dir, embedder)
    reports = []
    for folder in sku_folders(photos_dir):
        if skus is not None and folder.name not in skus:
            continue
        reports.append(enrol_sku(gallery, embedder, folder.name, photo_files(folder)))
    cal = gallery.recalibrate()
    version = gallery.save()
    thresholds = {"min_score": cal.min_score, "min_margin": cal.min_margin, "method": cal.method,
                  "loo_top1": round(cal.loo_top1, 4), "loo_false_unknown": round(cal.loo_false_unknown, 4),
                  "loso_unknown_recall": round(cal.loso_unknown_recall, 4)}
    return EnrolReport(str(gallery_dir), version, reports, thresholds)
