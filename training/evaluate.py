"""Evaluate a model bundle on a held-out set of rendered checkout scenes, through the device runtime.

The test set uses scene seeds and background families that training never uses (see
training.dataset).  Figures: COCO-style mAP@0.5 and mAP@0.5:0.95 (101-point interpolation,
averaged over SKUs present), per-SKU AP / precision / recall, the most frequent confusions, and
checkout accuracy ``cacc`` as defined by the RPC retail-checkout benchmark: the share of images
whose predicted count of every SKU equals the truth exactly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import numpy as np

from training.dataset import TEST_SEED_BASE, calibration_style, folder_hash, test_style
from vision.cutouts import CutoutLibrary
from vision.detector import Detector
from vision.detectors import backend_config
from vision.scene import compose_scene

log = logging.getLogger(__name__)

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
EVAL_MIN_CONFIDENCE = 0.001
CACC_SWEEP = tuple(round(t, 2) for t in np.arange(0.15, 0.80, 0.05))
TEST_SET_FORMAT = 2  # 2: backgrounds.json names each scene's background family


def build_test_set(cutouts: Path, out: Path, images: int = 500, frame_size: tuple[int, int] = (640, 480),
                   seed_base: int = TEST_SEED_BASE, held_out_backgrounds: bool = True) -> Path:
    """Render (or reuse, when inputs are unchanged) a set of labelled scenes; returns ``out``.

    The defaults make the held-out test set; ``training.pipeline`` also makes a calibration set
    (other seeds, training backgrounds) to choose the operating thresholds without the test set."""
    out = Path(out)
    key = hashlib.sha256(f"{folder_hash(Path(cutouts))}|{images}|{frame_size}|{seed_base}|"
                         f"{held_out_backgrounds}|{TEST_SET_FORMAT}".encode()).hexdigest()
    marker = out / "testset.json"
    if marker.exists() and json.loads(marker.read_text()).get("key") == key:
        return out
    (out / "images").mkdir(parents=True, exist_ok=True)
    library = CutoutLibrary.from_folder(Path(cutouts))
    style = test_style(frame_size) if held_out_backgrounds else calibration_style(frame_size)
    truth, backgrounds = {}, {}
    for i in range(images):
        scene = compose_scene(library, seed_base + i, style)
        name = f"{i:05d}.jpg"
        cv2.imwrite(str(out / "images" / name), scene.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
        truth[name] = [{"sku": lab.sku, "box": list(lab.box)} for lab in scene.labels]
        backgrounds[name] = scene.background
    (out / "truth.json").write_text(json.dumps(truth))
    (out / "backgrounds.json").write_text(json.dumps(backgrounds))
    marker.write_text(json.dumps({"key": key, "images": images, "seed_base": seed_base,
                                  "backgrounds": list(style.background_families or ())}))
    return out


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix of (N, 4) and (M, 4) x1y1x2y2 boxes."""
    if a.size == 0 or b.size == 0:
        return np.zeros((a.shape[0], b.shape[0]))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-9)


def average_precision(tp: np.ndarray, scores: np.ndarray, n_truth: int) -> float:
    """COCO 101-point interpolated AP from per-prediction true-positive flags."""
    if n_truth == 0:
        return float("nan")
    if tp.size == 0:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    tp = tp[order].astype(np.float64)
    ctp = np.cumsum(tp)
    cfp = np.cumsum(1 - tp)
    recall = ctp / n_truth
    precision = ctp / np.maximum(ctp + cfp, 1e-9)
    precision = np.maximum.accumulate(precision[::-1])[::-1]  # monotone envelope
    points = np.linspace(0, 1, 101)
    idx = np.searchsorted(recall, points, side="left")
    return float(np.mean([precision[i] if i < precision.size else 0.0 for i in idx]))


def _match(pred_boxes: np.ndarray, pred_scores: np.ndarray, gt_boxes: np.ndarray) -> np.ndarray:
    """Greedy (by score) matching within one image and class: (P, T) true-positive flags per IoU threshold."""
    tp = np.zeros((pred_boxes.shape[0], IOU_THRESHOLDS.size), bool)
    if gt_boxes.shape[0] == 0 or pred_boxes.shape[0] == 0:
        return tp
    ious = box_iou(pred_boxes, gt_boxes)
    order = np.argsort(-pred_scores, kind="stable")
    for t, thr in enumerate(IOU_THRESHOLDS):
        used = np.zeros(gt_boxes.shape[0], bool)
        for p in order:
            cand = np.where(~used & (ious[p] >= thr), ious[p], -1.0)
            j = int(cand.argmax())
            if cand[j] >= 0:
                used[j] = True
                tp[p, t] = True
    return tp


def _breakdown(outcomes: dict) -> dict[str, dict]:
    """Checkout accuracy per group (a background family, an item count): images and cacc."""
    return {str(k): {"images": len(v), "cacc": round(sum(v) / len(v), 4)}
            for k, v in sorted(outcomes.items()) if v}


def evaluate_bundle(bundle: Path, test_dir: Path, threads: int | None = None,
                    merge_iou: float | None = None) -> dict:
    """Run the bundle over the test set and return the figures (see module doc).

    ``merge_iou`` overrides the bundle's cross-SKU merge (``-1`` turns it off) for calibration."""
    detector = Detector(bundle, config=backend_config(threads=threads), merge_iou=merge_iou)
    operating = detector.confidence
    truth = json.loads((Path(test_dir) / "truth.json").read_text())
    backgrounds_file = Path(test_dir) / "backgrounds.json"
    backgrounds = json.loads(backgrounds_file.read_text()) if backgrounds_file.exists() else {}
    exact_by_background: dict[str, list[bool]] = defaultdict(list)
    exact_by_items: dict[int, list[bool]] = defaultdict(list)
    per_class_tp: dict[str, list[np.ndarray]] = defaultdict(list)
    per_class_scores: dict[str, list[np.ndarray]] = defaultdict(list)
    n_truth: Counter = Counter()
    op_tp: Counter = Counter()
    op_fp: Counter = Counter()
    confusions: Counter = Counter()
    exact = 0
    exact_at: Counter = Counter()
    infer_ms = []
    for name, labels in sorted(truth.items()):
        image = cv2.imread(str(Path(test_dir) / "images" / name), cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"{test_dir}: labels name {name}, but images/{name} cannot be read")
        t0 = time.perf_counter()
        dets = detector.detect(image, confidence=EVAL_MIN_CONFIDENCE)
        infer_ms.append((time.perf_counter() - t0) * 1000)
        gt_by_sku: dict[str, list] = defaultdict(list)
        for lab in labels:
            gt_by_sku[lab["sku"]].append(lab["box"])
            n_truth[lab["sku"]] += 1
        pred_by_sku: dict[str, list] = defaultdict(list)
        for d in dets:
            pred_by_sku[d.sku or ""].append((d.box, d.confidence))
        for sku in set(gt_by_sku) | set(pred_by_sku):
            preds = pred_by_sku.get(sku, [])
            pb = np.array([p[0] for p in preds], np.float64).reshape(-1, 4)
            ps = np.array([p[1] for p in preds], np.float64)
            gb = np.array(gt_by_sku.get(sku, []), np.float64).reshape(-1, 4)
            tp = _match(pb, ps, gb)
            per_class_tp[sku].append(tp)
            per_class_scores[sku].append(ps)
            op = ps >= operating
            op_tp[sku] += int(tp[op, 0].sum())
            op_fp[sku] += int((~tp[op, 0]).sum())
        # checkout accuracy and confusions at the operating threshold
        op_dets = [d for d in dets if d.confidence >= operating]
        truth_counts = Counter(lab["sku"] for lab in labels)
        correct = Counter(d.sku for d in op_dets) == truth_counts
        exact += correct
        exact_by_items[len(labels)].append(correct)
        if name in backgrounds:
            exact_by_background[backgrounds[name]].append(correct)
        for thr in CACC_SWEEP:
            exact_at[thr] += Counter(d.sku for d in dets if d.confidence >= thr) == truth_counts
        gt_all = np.array([lab["box"] for lab in labels], np.float64).reshape(-1, 4)
        if op_dets and gt_all.size:
            ious = box_iou(np.array([d.box for d in op_dets]), gt_all)
            for i, d in enumerate(op_dets):
                j = int(ious[i].argmax())
                truth_sku = labels[j]["sku"]
                if ious[i, j] >= 0.5 and truth_sku != d.sku:
                    confusions[(truth_sku, d.sku)] += 1
    per_sku = {}
    ap50s, ap_all = [], []
    for sku in sorted(set(n_truth) | set(per_class_tp)):
        tp = np.concatenate(per_class_tp[sku]) if per_class_tp[sku] else np.zeros((0, 10), bool)
        sc = np.concatenate(per_class_scores[sku]) if per_class_scores[sku] else np.zeros(0)
        aps = [average_precision(tp[:, t], sc, n_truth[sku]) for t in range(IOU_THRESHOLDS.size)]
        if n_truth[sku]:
            ap50s.append(aps[0])
            ap_all.append(float(np.mean(aps)))
        found = op_tp[sku] + op_fp[sku]
        per_sku[sku] = {
            "instances": int(n_truth[sku]),
            "ap50": round(aps[0], 4) if n_truth[sku] else None,
            "ap50_95": round(float(np.mean(aps)), 4) if n_truth[sku] else None,
            "precision": round(op_tp[sku] / found, 4) if found else None,
            "recall": round(op_tp[sku] / n_truth[sku], 4) if n_truth[sku] else None,
        }
    return {
        "bundle": str(bundle),
        "version": detector.manifest.version,
        "images": len(truth),
        "instances": int(sum(n_truth.values())),
        "input_size": detector.input_size,
        "confidence": operating,
        "merge_iou": detector.merge_iou,
        "map50": round(float(np.mean(ap50s)), 4) if ap50s else 0.0,
        "map50_95": round(float(np.mean(ap_all)), 4) if ap_all else 0.0,
        "cacc": round(exact / max(len(truth), 1), 4),
        "cacc_by_confidence": {f"{t:.2f}": round(exact_at[t] / max(len(truth), 1), 4) for t in CACC_SWEEP},
        "cacc_by_background": _breakdown(exact_by_background),
        "cacc_by_items": _breakdown(exact_by_items),
        "per_sku": per_sku,
        "confusions": [{"truth": a, "predicted": b, "count": n} for (a, b), n in confusions.most_common(20)],
        "detect_ms_mean": round(float(np.mean(infer_ms)), 2) if infer_ms else None,
    }
