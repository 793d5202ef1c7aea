"""Geometric verification: is this crop that very pack, or a look-alike (another flavour of the brand)?

The embedding's cosine says "looks like this SKU"; sibling packs (one brand, another flavour) look
alike to generic ImageNet features.  Local features tell them apart: SIFT keypoints of the query
crop are matched to those of the best SKU's enrolment photos (RootSIFT, Lowe's ratio test), and a
RANSAC homography keeps the matches that agree with one plane-to-plane mapping.  The number of those
*inliers* is high only when most of the pack's printed surface lines up: a sibling's flavour text,
weight and colour band break the mapping there.

- Each photo's keypoints are computed once (enrolment) and kept beside the gallery in
  ``keypoints.npz``, keyed by the photo's SHA-256 and the extraction settings; a missing, corrupt or
  foreign file (other settings) is reported by name and rebuilt from the photos, never a crash.  It
  is derived data: not in the manifest, not synced (every holder of the photos can rebuild it).
- A photo with fewer than ``MIN_KEYPOINTS`` keypoints (a plain, unprinted pack) or smaller than
  ``MIN_SIDE`` px is not used; a SKU with no photo left is not verifiable, and the cosine rule alone
  decides for it, as it does for a query crop under ``MIN_SIDE`` (too few pixels of print: on the
  synthetic camera's 640x480 frames a product is 120-210 px and its own photos give under 10 inliers).
- Crops are resized so the long side is ``SIDE`` px before extraction; SIFT handles rotation and
  scale, so the embedder's quarter-turn views are not needed here.
- **Colour after alignment.** SIFT sees grey; two flavours of one brand share most of their print and
  differ in colour (the flavour band, the background).  Each photo keeps its colour layout: the mean
  Lab colour of a ``CELLS`` x ``CELLS`` grid.  When a shortlisted SKU is checked (:meth:`Verifier.check`),
  the query crop is warped onto the best photo by the homography and compared cell by cell: the
  *colour distance* is the median a*b* difference over the cells the crop covers (lightness is left
  out, so the counter's brighter or dimmer light does not count).
- Settings (``MIN_INLIERS``, ``SCORE_SLACK``, ratio, RANSAC tolerance, the shortlist rule's
  ``SHORTLIST``, ``SHORTLIST_SLACK``, ``SHORTLIST_INLIERS``, ``SHORTLIST_LEAD`` and ``MAX_COLOUR``) were
  chosen on the real-counter enrolment frames' other boxes only (docs/training.md, "Geometric
  verification").
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vision.frames import normalise_frame
from vision.gallery.manifest import GalleryManifest, write_atomic

log = logging.getLogger(__name__)

KEYPOINTS = "keypoints.npz"
FORMAT = "tillsight.keypoints/2"  # /2 adds each photo's colour layout
SIDE = 360  # long side of an image before extraction, px
MIN_SIDE = 240  # a smaller crop or photo (a product far from the camera) is too coarse to verify: cosine rule
FEATURES = 500  # SIFT keypoints kept per image (the strongest)
RATIO = 0.8  # Lowe's ratio test
REPROJ = 0.015 * SIDE  # RANSAC reprojection tolerance, px
RANSAC_ITERS = 500
MIN_INLIERS = 50  # a match is "that very pack" from this many geometrically consistent matches
MIN_KEYPOINTS = 2 * MIN_INLIERS  # a photo with fewer (a plain, unprinted pack) cannot verify anything
SCORE_SLACK = 0.03  # a verified match may score this much under the gallery's cosine threshold
CELLS = 12  # the colour layout's grid (cells a side)
MIN_CELL_COVER = 0.6  # a cell counts when the warped crop covers this share of it
# the shortlist rule (vision/gallery/matching.py), for a crop the best SKU did not verify for
SHORTLIST = 3  # the best SKUs by cosine that are checked
SHORTLIST_SLACK = 0.16  # a shortlisted SKU may score this much under the gallery's cosine threshold
SHORTLIST_INLIERS = 40  # ... with this many inliers
SHORTLIST_LEAD = 2.0  # ... at least this many times the other shortlisted SKUs' inliers
MAX_COLOUR = 14.0  # ... and at most this colour distance (a*b* units) to its best photo
SETTINGS = {"format": FORMAT, "side": SIDE, "min_side": MIN_SIDE, "features": FEATURES, "descriptor": "sift-uint8",
            "cells": CELLS}


@dataclass(frozen=True)
class Keypoints:
    """One image's local features: points in the resized image, raw SIFT descriptors (uint8), and its colour
    layout (the resized image's mean Lab colour per cell of a ``CELLS`` x ``CELLS`` grid)."""

    points: np.ndarray  # (K, 2) float32
    descriptors: np.ndarray  # (K, 128) uint8
    cells: np.ndarray  # (CELLS, CELLS, 3) float32 Lab means
    size: tuple[int, int]  # (width, height) of the resized image the points are in
    lab: np.ndarray | None = None  # the resized image in Lab: kept for a query crop, which is warped onto photos

    def root(self) -> np.ndarray:
        """RootSIFT descriptors: unit rows whose dot product is the Hellinger kernel."""
        d = self.descriptors.astype(np.float32)
        d /= np.maximum(d.sum(axis=1, keepdims=True), 1e-7)
        return np.sqrt(d)


def _empty() -> Keypoints:
    return Keypoints(np.zeros((0, 2), np.float32), np.zeros((0, 128), np.uint8),
                     np.zeros((CELLS, CELLS, 3), np.float32), (0, 0))


def _edges(length: int) -> np.ndarray:
    return np.linspace(0, length, CELLS + 1).round().astype(int)


def colour_layout(lab: np.ndarray, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(CELLS, CELLS, 3) mean Lab colour per cell, and each cell's covered share (of ``valid`` pixels)."""
    h, w = lab.shape[:2]
    valid = np.ones((h, w), bool) if valid is None else valid
    ys, xs = _edges(h), _edges(w)
    means = np.zeros((CELLS, CELLS, 3), np.float32)
    cover = np.zeros((CELLS, CELLS), np.float32)
    for a in range(CELLS):
        for b in range(CELLS):
            m = valid[ys[a]:ys[a + 1], xs[b]:xs[b + 1]]
            if m.size == 0 or not m.any():
                continue
            cover[a, b] = m.mean()
            means[a, b] = lab[ys[a]:ys[a + 1], xs[b]:xs[b + 1]][m].mean(axis=0)
    return means, cover


def extract(image: np.ndarray, keep_lab: bool = False) -> Keypoints:
    """The keypoints and colour layout of a BGR (or grey, BGRA) image, resized so its long side is ``SIDE``
    (none for an image whose long side is under ``MIN_SIDE``: see :func:`verifiable`).  ``keep_lab`` keeps
    the resized image in Lab, which a query crop needs for :meth:`Verifier.check`."""
    bgr = normalise_frame(image)
    h, w = bgr.shape[:2]
    if not verifiable(bgr):
        return _empty()
    scale = SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    cells, _ = colour_layout(lab)
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    kps, des = cv2.SIFT_create(nfeatures=FEATURES).detectAndCompute(grey, None)  # type: ignore[attr-defined]
    if des is None or not kps:
        return Keypoints(np.zeros((0, 2), np.float32), np.zeros((0, 128), np.uint8), cells, size,
                         lab if keep_lab else None)
    pts = np.array([k.pt for k in kps], np.float32).reshape(-1, 2)
    return Keypoints(pts, np.clip(np.rint(des), 0, 255).astype(np.uint8), cells, size, lab if keep_lab else None)


def verifiable(image: np.ndarray) -> bool:
    """Whether an image has the pixels for verification (long side at least ``MIN_SIDE``)."""
    return max(image.shape[:2]) >= MIN_SIDE


def _matches(query: Keypoints, photo: Keypoints, query_root: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """The query's points and their photo points that pass Lowe's ratio test (RootSIFT)."""
    if len(query.points) < 4 or len(photo.points) < 2:
        return np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32)
    q = query.root() if query_root is None else query_root
    sims = q @ photo.root().T
    top2 = -np.partition(-sims, 1, axis=1)[:, :2]
    d1 = np.sqrt(np.maximum(0.0, 2.0 - 2.0 * top2[:, 0]))
    d2 = np.sqrt(np.maximum(0.0, 2.0 - 2.0 * top2[:, 1]))
    good = np.flatnonzero(d1 < RATIO * d2)
    return query.points[good], photo.points[np.argmax(sims[good], axis=1)]


def _ransac(src: np.ndarray, dst: np.ndarray) -> tuple[int, np.ndarray | None]:
    if len(src) < 4:
        return 0, None
    h, mask = cv2.findHomography(src, dst, cv2.RANSAC, REPROJ, maxIters=RANSAC_ITERS, confidence=0.99)
    return (0, None) if h is None or mask is None else (int(mask.sum()), h)


def homography(query: Keypoints, photo: Keypoints, query_root: np.ndarray | None = None
               ) -> tuple[int, np.ndarray | None]:
    """Matches between two images that one RANSAC homography explains, and that homography (query to
    photo; 0 and None when too few matches to try)."""
    return _ransac(*_matches(query, photo, query_root))


def inliers(query: Keypoints, photo: Keypoints, query_root: np.ndarray | None = None) -> int:
    """Matches between two images that one RANSAC homography explains (0 when too few to try)."""
    return homography(query, photo, query_root)[0]


def colour_distance(query: Keypoints, photo: Keypoints, h: np.ndarray) -> float:
    """The median a*b* difference between ``photo``'s colour layout and the query crop warped onto it by ``h``,
    over the cells the crop covers; lightness is left out, so a brighter or dimmer counter does not count
    (inf when the crop covers fewer than 4 cells or the query kept no Lab image)."""
    if query.lab is None or photo.size[0] == 0:
        return float("inf")
    w, hgt = photo.size
    warped = cv2.warpPerspective(query.lab, h, (w, hgt))
    valid = cv2.warpPerspective(np.ones(query.lab.shape[:2], np.uint8), h, (w, hgt)) > 0
    valid = cv2.erode(valid.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    cells, cover = colour_layout(warped, valid)
    used = cover >= MIN_CELL_COVER
    if used.sum() < 4:
        return float("inf")
    ab = np.hypot(cells[..., 1] - photo.cells[..., 1], cells[..., 2] - photo.cells[..., 2])
    return float(np.median(ab[used]))


@dataclass(frozen=True)
class Check:
    """A query crop against one SKU's photos: the most inliers with one photo, and the colour distance to it."""

    inliers: int
    colour: float


class Verifier:
    """Each SKU's photos' keypoints; :meth:`inliers` checks a query crop against one SKU."""

    def __init__(self, by_sku: dict[str, list[Keypoints]]):
        self.by_sku = by_sku

    def covers(self, sku: str) -> bool:
        """Whether ``sku`` has a photo to verify against (else the cosine rule decides for it)."""
        return bool(self.by_sku.get(sku))

    def inliers(self, query: Keypoints, sku: str, enough: int = MIN_INLIERS) -> int:
        """The most inliers of ``query`` with any of ``sku``'s photos (stops once ``enough`` is reached)."""
        best = 0
        root = query.root()
        for photo in self.by_sku.get(sku, []):
            best = max(best, inliers(query, photo, root))
            if best >= enough:
                break
        return best

    def check(self, query: Keypoints, sku: str) -> Check:
        """``query`` against every photo of ``sku``: the most inliers, and the colour distance to that photo
        (``query`` extracted with ``keep_lab``).  Photos are tried by their ratio-test matches, most first,
        and the search stops where a photo has no more matches than the best inlier count so far."""
        root = query.root()
        candidates = [(photo, *_matches(query, photo, root)) for photo in self.by_sku.get(sku, [])]
        candidates.sort(key=lambda c: -len(c[1]))
        best, best_h, best_photo = 0, None, None
        for photo, src, dst in candidates:
            if len(src) <= best:
                break
            n, h = _ransac(src, dst)
            if n > best:
                best, best_h, best_photo = n, h, photo
        if best_h is None or best_photo is None:
            return Check(best, float("inf"))
        return Check(best, colour_distance(query, best_photo, best_h))


# -- the keypoints file beside the gallery -------------------------------------------------------------
def _read(path: Path) -> dict[str, Keypoints]:
    """The keypoints in ``path`` by photo SHA-256; raises ValueError (a foreign or damaged file)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            settings = json.loads(str(z["settings"]))
            if settings != SETTINGS:
                raise ValueError(f"made with other settings {settings}")
            shas = [str(s) for s in z["sha256"]]
            offsets, points, desc = z["offsets"], z["points"], z["descriptors"]
            cells, sizes = z["cells"], z["sizes"]
    except (OSError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise ValueError(f"unreadable ({type(exc).__name__}: {exc})") from exc
    if (len(offsets) != len(shas) + 1 or points.shape != (int(offsets[-1]), 2) or desc.shape != (len(points), 128)
            or desc.dtype != np.uint8 or (np.diff(offsets) < 0).any() or not np.isfinite(points).all()
            or cells.shape != (len(shas), CELLS, CELLS, 3) or not np.isfinite(cells).all()
            or sizes.shape != (len(shas), 2)):
        raise ValueError("inconsistent arrays")
    return {s: Keypoints(points[a:b].astype(np.float32), desc[a:b], cells[i].astype(np.float32),
                         (int(sizes[i, 0]), int(sizes[i, 1])))
            for i, (s, a, b) in enumerate(zip(shas, offsets[:-1], offsets[1:], strict=True))}


def _write(path: Path, keypoints: dict[str, Keypoints]) -> None:
    shas = sorted(keypoints)
    counts = [len(keypoints[s].points) for s in shas]
    buf = io.BytesIO()
    np.savez(buf, settings=np.array(json.dumps(SETTINGS)), sha256=np.array(shas, dtype="U64"),
             offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
             points=np.concatenate([keypoints[s].points for s in shas] or [np.zeros((0, 2))]).astype(np.float32),
             descriptors=np.concatenate([keypoints[s].descriptors for s in shas] or [np.zeros((0, 128))]
                                        ).astype(np.uint8),
             cells=np.array([keypoints[s].cells for s in shas], np.float32).reshape(len(shas), CELLS, CELLS, 3),
             sizes=np.array([keypoints[s].size for s in shas], np.int64).reshape(len(shas), 2))
    write_atomic(path, buf.getvalue())


def load_keypoints(folder: Path, manifest: GalleryManifest, write: bool = True) -> dict[str, Keypoints]:
    """Every example photo's keypoints, by SHA-256: from ``keypoints.npz``, the missing ones extracted from
    the photos (and the file rewritten when ``write``).  A damaged or foreign file is logged by name and
    rebuilt; a photo that cannot be read has no keypoints (its SKU falls back to the cosine rule)."""
    path = folder / KEYPOINTS
    cached: dict[str, Keypoints] = {}
    if path.exists():
        try:
            cached = _read(path)
        except ValueError as exc:
            log.warning("%s: gallery keypoints file is corrupt or foreign (%s); rebuilding it from the photos",
                        path, exc)
    wanted = {ex.sha256: ex.photo for _, ex in manifest.rows()}
    out = {sha: cached[sha] for sha in wanted if sha in cached}
    missing = [sha for sha in wanted if sha not in out]
    for sha in missing:
        photo = folder / wanted[sha]
        image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
        if image is None:
            log.warning("%s: enrolment photo missing or unreadable, no keypoints for it", photo)
            continue
        out[sha] = extract(image)
    if write and (missing or set(cached) != set(out)):
        try:
            _write(path, out)
        except OSError as exc:
            log.warning("%s: gallery keypoints not written (%s); they are rebuilt at the next load", path, exc)
    return out


def verifier_for(folder: Path, manifest: GalleryManifest, write: bool = True) -> Verifier:
    """The verifier of a gallery folder (see :func:`load_keypoints`)."""
    keypoints = load_keypoints(folder, manifest, write)
    return Verifier({sku: [keypoints[e.sha256] for e in examples
                           if e.sha256 in keypoints and len(keypoints[e.sha256].points) >= MIN_KEYPOINTS]
                     for sku, examples in manifest.skus.items()})
