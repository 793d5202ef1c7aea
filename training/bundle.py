"""Pack a trained ONNX model into a model bundle (DESIGN.md, "Model bundle")."""

from __future__ import annotations

import json
import logging
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import cv2

from vision.backgrounds import TRAIN_FAMILIES
from vision.bundle import BUNDLE_FORMAT, sha256_file
from vision.cutouts import CutoutLibrary
from vision.detector import Detector
from vision.scene import SceneStyle, compose_scene
from vision.selftest import run_self_test

log = logging.getLogger(__name__)

SELFTEST_SEED_BASE = 777_000_000


def _selftest_scene(library: CutoutLibrary, seed: int):
    style = SceneStyle(min_items=4, max_items=6, hand_probability=0.0, perspective=0.0,
                       background_families=tuple(TRAIN_FAMILIES), jpeg_quality=(92, 95))
    return compose_scene(library, seed, style)


def pack_bundle(onnx_path: Path, out_dir: Path, *, classes: list[str], cutouts: Path, input_size: int,
                data_hash: str, training: dict, evaluation: dict | None = None, confidence: float = 0.35,
                iou: float = 0.5, merge_iou: float | None = None, version: str | None = None,
                architecture: str = "yolo11n", selftest_tries: int = 20, strict_selftest: bool = True) -> Path:
    """Write ``out_dir`` with model.onnx, manifest.json and a self-test image the model passes.

    With ``strict_selftest`` (the default, and always for a bundle that ships) a model that passes
    none of the candidate self-test scenes is refused; without it (smoke tests of the pipeline on
    a barely trained model) the bundle is written and its manifest says the self-test failed."""
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".packing")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    shutil.copyfile(onnx_path, tmp / "model.onnx")
    library = CutoutLibrary.from_folder(Path(cutouts))
    names, barcodes = {}, {}
    for entry in library.entries:
        names[entry.sku] = entry.name
        if entry.meta.get("barcode"):
            barcodes[entry.sku] = str(entry.meta["barcode"])
    now = datetime.now(UTC)
    selftest: dict[str, object] = {"image": "selftest.jpg", "expected": {}}
    manifest = {
        "format": BUNDLE_FORMAT,
        "version": version or now.strftime("%Y%m%d.%H%M%S"),
        "created": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "architecture": architecture,
        "task": "detect",
        "model_file": "model.onnx",
        "model_sha256": sha256_file(tmp / "model.onnx"),
        "model_bytes": (tmp / "model.onnx").stat().st_size,
        "input_size": int(input_size),
        "classes": {str(i): sku for i, sku in enumerate(classes)},
        "names": names,
        "barcodes": barcodes,
        "thresholds": {"confidence": confidence, "iou": iou, "merge_iou": merge_iou},
        "data_hash": data_hash,
        "training": training,
        "evaluation": evaluation or {},
        "selftest": selftest,
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
    detector = Detector(tmp, warm_up=True)
    for k in range(selftest_tries):
        scene = _selftest_scene(library, SELFTEST_SEED_BASE + k)
        expected = dict(Counter(lab.sku for lab in scene.labels))
        cv2.imwrite(str(tmp / "selftest.jpg"), scene.image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        selftest = {"image": "selftest.jpg", "expected": expected, "seed": SELFTEST_SEED_BASE + k}
        manifest["selftest"] = selftest
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        result = run_self_test(Detector(tmp, warm_up=False))
        if result.passed:
            break
        log.info("self-test candidate %d rejected: %s", k, result.message)
    else:
        if strict_selftest:
            shutil.rmtree(tmp)
            raise RuntimeError(f"the model passed none of {selftest_tries} self-test scenes: it is not fit to ship")
        log.warning("the model passed no self-test scene; bundle written for testing only")
        selftest["passed_at_pack"] = False
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
    del detector
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    log.info("bundle %s written to %s", manifest["version"], out_dir)
    return out_dir


def update_evaluation(bundle: Path, evaluation: dict) -> None:
    """Record evaluation figures in an existing bundle's manifest (the model file is untouched)."""
    path = Path(bundle) / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["evaluation"] = evaluation
    path.write_text(json.dumps(manifest, indent=2))
