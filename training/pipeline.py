"""End to end: cut-outs -> rendered dataset -> YOLO11n training -> ONNX -> bundle -> evaluation.

``make train`` runs this for the demo catalogue; a shop passes its own cut-out folder instead, and
store galleries (``galleries``: device gallery folders or hub exports) add their enrolment photos.
Every step is seeded, so the same inputs give the same dataset and the same training schedule.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from training.bundle import pack_bundle, update_evaluation
from training.dataset import CALIBRATION_SEED_BASE, DatasetSpec, build_dataset
from training.evaluate import build_test_set, evaluate_bundle
from training.gallery import merged_cutouts
from training.train import TrainSpec, export_onnx, train
from vision.catalogue import demo_catalogue
from vision.cutouts import export_cutouts

log = logging.getLogger(__name__)


@dataclass
class Stage:
    """One training stage: its own freshly rendered scenes, time budget and learning rate.

    Later stages start from the previous stage's best weights and see new scenes (new seeds), so a
    long CPU training run can be cut into stages that each leave a usable model behind."""

    train_images: int = 4000
    seed_base: int = 0
    time_hours: float | None = 1.2
    epochs: int = 40
    lr0: float = 0.0015
    warmup_epochs: float = 1.0


STAGE_SEED_STEP = 100_000
MERGE_CHOICES: tuple[float | None, ...] = (None, 0.9, 0.8, 0.7, 0.6, 0.5)


def stages_from_hours(hours: str, train_images: int = 4000, epochs: int = 40,
                      first_stage: int = 1) -> tuple[Stage, ...]:
    """Stages from "1.2,0.75": stage 1 from scratch (warm-up, higher rate), later ones fine-tune.

    ``first_stage`` numbers the first of them: a run that continues from weights trained in two
    stages passes 3, so it renders new scenes (seeds from 200,000) and fine-tunes at the lower rate
    instead of repeating stage 1's scenes with a from-scratch warm-up."""
    try:
        budgets = [float(h) for h in hours.split(",") if h.strip()]
    except ValueError as exc:
        raise ValueError(f"expected comma-separated hours like '1.2,0.75', got {hours!r}") from exc
    if not budgets or any(h <= 0 for h in budgets):
        raise ValueError(f"expected one or more positive hours, got {hours!r}")
    if first_stage < 1:
        raise ValueError(f"stages are numbered from 1, got first stage {first_stage}")
    return tuple(Stage(train_images, k * STAGE_SEED_STEP, h, epochs, 0.0015 if k == 0 else 0.0005,
                       1.0 if k == 0 else 0.0) for k, h in enumerate(budgets, start=first_stage - 1))


DEMO_STAGES = stages_from_hours("1.2,0.75")


@dataclass
class PipelineSpec:
    out: str = "models/demo"
    work: str = "build/train"
    cutouts: str | None = None  # None: export the demo catalogue's cut-outs
    stages: tuple[Stage, ...] = DEMO_STAGES
    val_images: int = 300
    test_images: int = 500
    imgsz: int = 320
    batch: int = 32
    seed: int = 0
    iou: float = 0.5
    calibration_images: int = 1000  # at 200 the standard error (~0.025) hid the best threshold
    init_weights: str | None = None  # continue from earlier weights instead of starting from scratch
    device: str = "cpu"
    galleries: tuple[str, ...] = ()  # store galleries whose enrolment photos join the cut-outs (training/gallery.py)


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
    if spec.galleries:  # the stores' own enrolment photos, cut from their surfaces, beside the cut-outs
        cutouts = merged_cutouts(cutouts, [Path(g) for g in spec.galleries], work / "cutouts-with-galleries")
    weights: Path | None = Path(spec.init_weights) if spec.init_weights else None
    for k, stage in enumerate(spec.stages, start=1):
        ds = work / f"dataset-{k}"
        data_yaml = build_dataset(DatasetSpec(str(cutouts), stage.train_images, spec.val_images,
                                              stage.seed_base), ds)
        if k == 1 and spec.init_weights:  # before hours of training, not after
            _check_classes(Path(spec.init_weights), json.loads((ds / "classes.json").read_text()))
        log.info("stage %d/%d: %d scenes from seed %d, %s h", k, len(spec.stages), stage.train_images,
                 stage.seed_base, stage.time_hours)
        weights = train(TrainSpec(str(data_yaml), str(work / f"run-{k}"), epochs=stage.epochs, imgsz=spec.imgsz,
                                  batch=spec.batch, seed=spec.seed, time_hours=stage.time_hours, lr0=stage.lr0,
                                  warmup_epochs=stage.warmup_epochs, device=spec.device,
                                  init_weights=str(weights) if weights else None))
    assert weights is not None, "a pipeline needs at least one stage"
    classes, dataset_meta = read_run_datasets(work, stages=len(spec.stages))
    return package(weights, spec, cutouts, classes, dataset_meta)


def read_run_datasets(work: Path, stages: int | None = None) -> tuple[list[str], dict]:
    """The classes, the data hash and the scenes (count, first seed) of a run's datasets:
    ``dataset-1``, ``dataset-2``... as ``train all`` writes them (the hash covers every stage, in
    order), or one ``dataset`` folder as ``train dataset --out WORK/dataset`` writes it.  ``stages``
    limits it to the first ones (a reused work folder may hold more from an earlier run)."""
    work = Path(work)
    staged = sorted((p for p in work.glob("dataset-*/dataset.json") if p.parent.name.split("-")[1].isdigit()),
                    key=lambda p: int(p.parent.name.split("-")[1]))[:stages]
    folders = [p.parent for p in staged] or ([work / "dataset"] if (work / "dataset" / "dataset.json").exists() else [])
    if not folders:
        raise FileNotFoundError(f"{work}: no dataset-N/dataset.json or dataset/dataset.json; "
                                "is this the work folder of a training run?")
    metas = [json.loads((f / "dataset.json").read_text()) for f in folders]
    hashes = [m["data_hash"] for m in metas]
    classes = json.loads((folders[0] / "classes.json").read_text())
    datasets = [{"train_images": m.get("train_images"), "seed_base": m.get("seed_base")} for m in metas]
    if not staged:  # one dataset folder: its own hash
        return classes, {"data_hash": hashes[0], "datasets": datasets}
    return classes, {"data_hash": hashlib.sha256("|".join(hashes).encode()).hexdigest(), "stage_hashes": hashes,
                     "datasets": datasets}


def _check_classes(weights: Path, classes: list[str]) -> None:
    """Continuing from weights only makes sense with the same class list in the same order."""
    from ultralytics import YOLO

    names = YOLO(str(weights)).names
    if [names[i] for i in range(len(names))] != classes:
        raise ValueError(f"{weights}: its classes differ from the cut-outs' SKUs; train from scratch instead")


def choose_operating_point(table: dict[str, dict[str, float]]) -> tuple[float, float | None, float, float]:
    """The confidence and cross-SKU merge to run at, from checkout accuracy by merge ("off" or an
    IoU) and confidence.  Each confidence is judged by the mean over it and its neighbours in the
    sweep, so a broad plateau beats a lone spike that a finite calibration set makes by chance.
    Ties go to the confidence nearest 0.35, then to no merging.  Returns (confidence, merge IoU or
    None, plateau score, accuracy at the chosen point)."""
    candidates = []  # (plateau, closeness to 0.35, no merging, confidence, merge, accuracy)
    for merge_key, by_conf in table.items():
        merge = None if merge_key == "off" else float(merge_key)
        thresholds = sorted(by_conf, key=float)
        for i, thr in enumerate(thresholds):
            window = [by_conf[t] for t in thresholds[max(0, i - 1):i + 2]]
            plateau = round(sum(window) / len(window), 6)
            candidates.append((plateau, -abs(float(thr) - 0.35), merge is None, float(thr), merge, by_conf[thr]))
    if not candidates:
        raise ValueError("calibration produced no accuracy figures")
    plateau, _, _, confidence, merge, cacc = max(candidates, key=lambda c: c[:3])
    return confidence, merge, plateau, cacc


def calibrate(onnx_path: Path, work: Path, cutouts: Path, pack: dict, images: int) -> tuple[float, float | None, dict]:
    """Choose the operating confidence and the cross-SKU merge that maximise checkout accuracy on a
    calibration set (its own seeds, training backgrounds): never on the test set."""
    trial = pack_bundle(onnx_path, work / "calibration-bundle", confidence=0.35, strict_selftest=False,
                        selftest_tries=1, **pack)
    calib_dir = build_test_set(cutouts, work / "calibration", images, seed_base=CALIBRATION_SEED_BASE,
                               held_out_backgrounds=False)
    table = {}
    for merge in MERGE_CHOICES:
        figures = evaluate_bundle(trial, calib_dir, merge_iou=merge if merge is not None else -1)
        table["off" if merge is None else str(merge)] = figures["cacc_by_confidence"]
    confidence, merge_iou, plateau, cacc = choose_operating_point(table)
    log.info("calibration: confidence %.2f, merge %s (cacc %.3f, plateau %.3f on %d scenes)", confidence,
             merge_iou, cacc, plateau, images)
    return confidence, merge_iou, {"images": images, "seed_base": CALIBRATION_SEED_BASE, "cacc": cacc,
                                   "plateau_cacc": plateau, "rule": "best mean over each confidence and its "
                                   "neighbours", "cacc_by_confidence": table}


def package(weights: Path, spec: PipelineSpec, cutouts: Path, classes: list[str], dataset_meta: dict,
            stages: list[dict] | None = None) -> dict:
    """Export trained weights, pack the bundle, evaluate it on the held-out set and record the figures.

    ``stages`` describes the training for the manifest when ``spec.stages`` does not (weights
    packed later from a run's work folder: only its datasets are known then)."""
    work = Path(spec.work)
    onnx_path = export_onnx(weights, spec.imgsz, work / "model.onnx", dynamic=True)
    training_info = {"weights": weights.name, "imgsz": spec.imgsz, "seed": spec.seed, "batch": spec.batch,
                     "val_images": spec.val_images,
                     "stages": stages if stages is not None else [asdict(s) for s in spec.stages],
                     "stage_hashes": dataset_meta.get("stage_hashes", []),
                     "architecture_yaml": "yolo11n.yaml", "init_weights": spec.init_weights,
                     "pretrained": bool(spec.init_weights)}
    results_csv = Path(weights).parent.parent / "results.csv"
    if results_csv.exists():
        training_info["last_stage_epochs_run"] = max(0, len(results_csv.read_text().strip().splitlines()) - 1)
    pack = dict(classes=classes, cutouts=cutouts, input_size=spec.imgsz, data_hash=dataset_meta["data_hash"],
                training=training_info, iou=spec.iou)
    confidence, merge_iou, calibration = calibrate(onnx_path, work, cutouts, pack, spec.calibration_images)
    training_info["calibration"] = calibration
    bundle = pack_bundle(onnx_path, Path(spec.out), confidence=confidence, merge_iou=merge_iou, **pack)
    test_dir = build_test_set(cutouts, work / "testset", spec.test_images)
    figures = evaluate_bundle(bundle, test_dir)
    summary = {k: figures[k] for k in ("images", "instances", "map50", "map50_95", "cacc", "input_size",
                                      "confidence", "merge_iou", "cacc_by_background", "cacc_by_items")}
    summary["confusions"] = figures["confusions"][:5]
    update_evaluation(bundle, summary)
    log.info("bundle %s: map50=%.3f map50_95=%.3f cacc=%.3f", bundle, figures["map50"], figures["map50_95"],
             figures["cacc"])
    return {"bundle": str(bundle), "spec": asdict(spec), **summary}
