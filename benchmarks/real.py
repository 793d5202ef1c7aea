"""``tillsight bench real``: finding and identifying products on real photos, against a gallery
enrolled from the folder's own exemplar crops.

1. Enrol: the exemplar crops (``exemplars/<sku>/``) go into a temporary gallery through the same
   enrolment path as ``tillsight vision enrol`` (quality checks, near-duplicates, thresholds from
   the gallery's own examples).  ``--unenrolled N`` leaves N classes out, chosen by a fixed seed.
2. Measure on every frame no exemplar was cut from: the product finder (``models/finder``, trained
   on domain-randomised scenes only; or, without one, a model bundle used class-blind: every box
   whatever its class, one class-blind NMS) gives boxes; each box, cut with the same 4 % margin as
   the exemplars, is identified against the gallery.
3. Figures (the JSON line printed last): ``images``; ``recall`` and ``precision`` of the found boxes,
   class-blind at IoU 0.5; ``box_top1``: found boxes matched to an enrolled product's truth box that
   were identified as that SKU; ``cacc``: frames where every SKU's count is exact (an unenrolled
   product counts as "unknown", and must be flagged so); ``ms_per_image``: finding plus identifying
   (``verify_ms_per_image``: the part spent matching, with geometric verification);
   with unenrolled classes ``unknown_recall`` (their matched boxes flagged unknown) and
   ``false_unknown`` (enrolled products' matched boxes flagged unknown; printed always, as is
   ``best_top1``: the best-scoring SKU is right whether or not it was flagged unknown, the figure of
   identification alone without the unknown-item rule).  ``given_boxes`` repeats the
   identification figures on the labelled boxes, so identifying is measured apart from finding.

Nothing here is tuned on the measured frames: the thresholds come from the exemplars alone.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from benchmarks.real_layout import Box, RealData, TruthBox, load_real_data
from vision.gallery.enrol import enrol_folder
from vision.gallery.matching import Identification
from vision.gallery.store import Gallery
from vision.identifier import DEFAULT_EMBEDDER, Embedder, crop_box

log = logging.getLogger(__name__)

IOU_MATCH = 0.5
FINDER_NMS_IOU = 0.5
UNKNOWN = "unknown"


def choose_unenrolled(skus: list[str], n: int, seed: int = 0) -> list[str]:
    """``n`` SKUs left out of the gallery, the same for the same seed and SKU list."""
    if n <= 0:
        return []
    if n >= len(skus):
        raise ValueError(f"--unenrolled {n} leaves no SKU enrolled (the data has {len(skus)})")
    rng = np.random.default_rng(seed)
    return sorted(skus[i] for i in rng.choice(len(skus), size=n, replace=False))


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match_boxes(found: list[Box], truth: list[Box], threshold: float = IOU_MATCH) -> list[tuple[int, int]]:
    """One-to-one (found index, truth index) pairs, greedily by IoU, each at least ``threshold``."""
    pairs = sorted(((iou(f, t), i, j) for i, f in enumerate(found) for j, t in enumerate(truth)), reverse=True)
    used_f: set[int] = set()
    used_t: set[int] = set()
    out = []
    for value, i, j in pairs:
        if value < threshold:
            break
        if i in used_f or j in used_t:
            continue
        used_f.add(i)
        used_t.add(j)
        out.append((i, j))
    return out


class NetworkFinder:
    """The trained class-blind finder network (``vision.finders.onnx_finder``)."""

    def __init__(self, folder: str | Path, variant: str = "fp32"):
        from vision.finders.onnx_finder import OnnxFinder

        self.finder = OnnxFinder(folder, variant=variant)
        self.version = f"{self.finder.manifest.name} {self.finder.manifest.version} {variant}"

    def find(self, frame: np.ndarray) -> list[Box]:
        return [found.box for found in self.finder.find(frame)]


def choose_finder(finder_dir: str | Path | None, bundle: str | Path,
                  variant: str = "fp32") -> NetworkFinder | ClassBlindFinder:
    """The finder folder given, else ``models/finder`` when it exists, else the bundle read class-blind."""
    from vision.finders.onnx_finder import DEFAULT_FINDER, MANIFEST

    if finder_dir is not None:
        return NetworkFinder(finder_dir, variant)
    if (DEFAULT_FINDER / MANIFEST).exists():
        return NetworkFinder(DEFAULT_FINDER, variant)
    return ClassBlindFinder(bundle)


class ClassBlindFinder:
    """A model bundle's detector used as a product finder: every box, whatever its class."""

    def __init__(self, bundle: str | Path):
        from vision.detector import Detector

        self.detector = Detector(bundle)
        self.version = self.detector.manifest.version

    def find(self, frame: np.ndarray) -> list[Box]:
        from vision.detector import nms_class_aware

        dets = self.detector.detect(frame)
        if not dets:
            return []
        boxes = np.array([d.box for d in dets], np.float32)
        scores = np.array([d.confidence for d in dets], np.float32)
        keep = nms_class_aware(boxes, scores, np.zeros(len(dets), np.int64), FINDER_NMS_IOU)
        return [tuple(float(v) for v in boxes[k]) for k in keep]  # type: ignore[misc]


@dataclass
class Tally:
    """Identification outcomes of boxes whose truth is known."""

    enrolled: int = 0
    correct: int = 0
    best_correct: int = 0  # the best-scoring SKU is right, whether or not it was flagged unknown
    enrolled_flagged: int = 0
    unenrolled: int = 0
    unenrolled_flagged: int = 0

    def add(self, truth_sku: str, enrolled: bool, result: Identification) -> None:
        if enrolled:
            self.enrolled += 1
            self.correct += int(result.known and result.sku == truth_sku)
            self.best_correct += int(result.best == truth_sku)
            self.enrolled_flagged += int(not result.known)
        else:
            self.unenrolled += 1
            self.unenrolled_flagged += int(not result.known)

    def figures(self, with_unknown: bool) -> dict[str, float | None]:
        out: dict[str, float | None] = {"box_top1": _ratio(self.correct, self.enrolled),
                                        "best_top1": _ratio(self.best_correct, self.enrolled)}
        if with_unknown:
            out["unknown_recall"] = _ratio(self.unenrolled_flagged, self.unenrolled)
        out["false_unknown"] = _ratio(self.enrolled_flagged, self.enrolled)
        return out


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def label_of(result: Identification) -> str:
    return result.sku if result.known and result.sku else UNKNOWN


def run_real_bench(data_dir: str | Path, bundle: str | Path = "models/demo",
                   embedder_dir: str | Path = DEFAULT_EMBEDDER, unenrolled: int = 0, seed: int = 0,
                   variant: str = "fp32", views: int | None = None, threads: int | None = None,
                   gallery_dir: str | Path | None = None, finder_dir: str | Path | None = None,
                   finder_variant: str = "fp32") -> dict[str, Any]:
    """Run the benchmark (see the module docstring); returns the figures."""
    data: RealData = load_real_data(data_dir)
    skus = sorted(data.exemplars)
    left_out = choose_unenrolled(skus, unenrolled, seed)
    embedder = Embedder(embedder_dir, variant=variant, threads=threads, **({"views": views} if views else {}))
    with tempfile.TemporaryDirectory(prefix="tillsight-bench-gallery-") as tmp:
        gdir = Path(gallery_dir) if gallery_dir else Path(tmp) / "gallery"
        report = enrol_folder(data.exemplar_dir, gdir, embedder, skus=[s for s in skus if s not in left_out])
        gallery = Gallery.load(gdir, embedder)
        matcher = gallery.matcher()  # while the folder exists: it reads the photos' keypoints
    finder = choose_finder(finder_dir, bundle, finder_variant)
    enrolled = set(gallery.skus)
    found_tally, given_tally = Tally(), Tally()
    n_truth = n_found = n_matched = exact = 0
    elapsed = verifying = 0.0
    frames = data.measured_frames()
    for path in frames:
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if frame is None:
            raise ValueError(f"{path}: unreadable image")
        truth: list[TruthBox] = data.truth(path, (frame.shape[1], frame.shape[0]))
        t0 = time.perf_counter()
        boxes = finder.find(frame)
        crops = [crop_box(frame, b) for b in boxes]
        queries = embedder.embed(crops) if boxes else None
        t1 = time.perf_counter()
        results = matcher.identify(queries, crops) if queries is not None else []  # with geometric verification
        verifying += time.perf_counter() - t1
        elapsed += time.perf_counter() - t0
        n_truth += len(truth)
        n_found += len(boxes)
        pairs = match_boxes(boxes, [t.box for t in truth])
        n_matched += len(pairs)
        for i, j in pairs:
            found_tally.add(truth[j].sku, truth[j].sku in enrolled, results[i])
        want = Counter(t.sku if t.sku in enrolled else UNKNOWN for t in truth)
        exact += int(Counter(label_of(r) for r in results) == want)
        if truth:
            given_crops = [crop_box(frame, t.box) for t in truth]
            given = matcher.identify(embedder.embed(given_crops), given_crops)
            for t, r in zip(truth, given, strict=True):
                given_tally.add(t.sku, t.sku in enrolled, r)
    with_unknown = bool(left_out)
    th = gallery.manifest.thresholds
    figures: dict[str, Any] = {
        "images": len(frames),
        "recall": _ratio(n_matched, n_truth), "precision": _ratio(n_matched, n_found),
        **found_tally.figures(with_unknown),
        "cacc": _ratio(exact, len(frames)),
        "ms_per_image": round(1000 * elapsed / max(1, len(frames)), 1),
        "verify_ms_per_image": round(1000 * verifying / max(1, len(frames)), 1),  # matching + verification part
        "given_boxes": given_tally.figures(with_unknown),
        "boxes": {"truth": n_truth, "found": n_found, "matched": n_matched},
        "enrolled": len(enrolled), "unenrolled": left_out, "seed": seed,
        "exemplars": {"kept": sum(s.kept for s in report.skus), "refused": sum(len(s.refused) for s in report.skus),
                      "skipped": sum(len(s.skipped) for s in report.skus)},
        "thresholds": {"min_score": th.min_score, "min_margin": th.min_margin} if th else None,
        "embedder": {**embedder.identity, "views": embedder.views}, "finder": {
            "kind": "network" if isinstance(finder, NetworkFinder) else "bundle class-blind",
            "bundle": None if isinstance(finder, NetworkFinder) else str(bundle), "version": finder.version},
    }
    return figures
