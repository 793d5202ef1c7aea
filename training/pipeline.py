"""End to end: cut-outs -> rendered dataset -> YOLO11n training -> ONNX -> bundle -> evaluation.

``make train`` runs this for the demo catalogue; a shop passes its own cut-out folder instead.
Every step is seeded, so the same inputs give the same dataset and the same training schedule.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from training.bundle import pack_bundle, update_evaluation
from training.dataset import DatasetSpec, build_dataset
from training.evaluate import build_test_set, evaluate_bundle
from training.train import TrainSpec, export_onnx, train
from vision.catalogue import demo_catalogue
from vision.cutouts import export_cutouts

log = logging.getLogger(__name__)


@dataclass
class PipelineSpec:
    out: str = "models/demo"
    work: str = "build/train"
    cutouts: str | None = None  # None: export the demo catalogue's cut-outs
    train_images: int = 4000
    val_images: int = 300
    test_images: int = 500
    epochs: int = 40
    imgsz: int = 320
    batch: int = 32
    seed: int = 0
    time_hours: float | None = 1.2
    confidence: float = 0.35
    iou: float = 0.5


def run(spec: PipelineSpec) -> dict:
    work = Path(spec.work)
    work.mkdir(parents=True, exist_ok=True)
    if spec.cutouts:
        cutouts = Path(spec.cutouts)
    else:
        cutouts = work / "cutouts"
        if cutouts.exists():
            shutil.rmtree(cutouts)
        n = export_cutouts(demo_catalogue(), cutouts)
        log.info("exported %d demo cut-outs to %s", n, cutouts)
    data_yaml = build_dataset(DatasetSpec(str(cutouts), spec.train_images, spec.val_images, spec.seed),
                              work / "dataset")
    dataset_meta = json.loads((work / "dataset" / "dataset.json").read_text())
    classes = json.loads((work / "dataset" / "classes.json").read_text())
    weights = train(TrainSpec(str(data_yaml), str(work / "run"), epochs=spec.epochs, imgsz=spec.imgsz,
                              batch=spec.batch, seed=spec.seed, time_hours=spec.time_hours))
    return package(weights, spec, cutouts, classes, dataset_meta)


def package(weights: Path, spec: PipelineSpec, cutouts: Path, classes: list[str], dataset_meta: dict) -> dict:
    """Export trained weights, pack the bundle, evaluate it on the held-out set and record the figures."""
    work = Path(spec.work)
    onnx_path = export_onnx(weights, spec.imgsz, work / "model.onnx", dynamic=True)
    training_info = {"weights": weights.name, "imgsz": spec.imgsz, "seed": spec.seed,
                     "train_images": dataset_meta.get("train_images"), "val_images": dataset_meta.get("val_images"),
                     "epochs_requested": spec.epochs, "time_hours": spec.time_hours,
                     "architecture_yaml": "yolo11n.yaml", "pretrained": False}
    results_csv = Path(weights).parent.parent / "results.csv"
    if results_csv.exists():
        training_info["epochs_run"] = max(0, len(results_csv.read_text().strip().splitlines()) - 1)
    bundle = pack_bundle(onnx_path, Path(spec.out), classes=classes, cutouts=cutouts, input_size=spec.imgsz,
                         data_hash=dataset_meta["data_hash"], training=training_info,
                         confidence=spec.confidence, iou=spec.iou)
    test_dir = build_test_set(cutouts, work / "testset", spec.test_images)
    figures = evaluate_bundle(bundle, test_dir)
    summary = {k: figures[k] for k in ("images", "instances", "map50", "map50_95", "cacc", "input_size",
                                      "confidence")}
    summary["confusions"] = figures["confusions"][:5]
    update_evaluation(bundle, summary)
    log.info("bundle %s: map50=%.3f map50_95=%.3f cacc=%.3f", bundle, figures["map50"], figures["map50_95"],
             figures["cacc"])
    return {"bundle": str(bundle), "spec": asdict(spec), **summary}
