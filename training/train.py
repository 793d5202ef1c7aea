"""YOLO11n training with ultralytics, built from its model yaml (no pretrained weights exist here).

Only this module and training.export import torch/ultralytics; the device never does.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass
class TrainSpec:
    data_yaml: str
    out_dir: str
    epochs: int = 30
    imgsz: int = 320
    batch: int = 32
    seed: int = 0
    workers: int = 2
    model_yaml: str = "yolo11n.yaml"
    patience: int = 100
    fraction: float = 1.0
    close_mosaic: int = 3
    optimizer: str = "AdamW"
    lr0: float = 0.0015
    warmup_epochs: float = 1.0
    cos_lr: bool = True
    time_hours: float | None = None  # a wall-clock cap; the schedule adapts to it
    init_weights: str | None = None  # a stage's starting point (an earlier stage's best.pt)
    device: str = "cpu"  # "cpu", or a CUDA device index such as "0" on a machine with a GPU
    threads: int | None = None  # torch threads when training on the CPU; None: every core


def cpu_threads(spec: TrainSpec) -> int:
    """How many torch threads a CPU run uses.  Ultralytics leaves a core to its data loaders
    (``cpu_count - 1``); on a 2-core machine that leaves half the machine to loaders that are idle
    most of a step, while the forward and backward pass scales with the cores (YOLO11n, batch 16 at
    320 px: 1.4 s a step on one thread, 0.8 s on two)."""
    return max(1, spec.threads or os.cpu_count() or 1)


def _quiet_ultralytics() -> None:
    # No network: never let ultralytics try to reach its hub, its font server or pip.
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("ULTRALYTICS_SETTINGS_SYNC", "False")
    from ultralytics import settings

    off = {"sync": False, "hub": False, "tensorboard": False, "wandb": False, "mlflow": False,
           "clearml": False, "comet": False, "dvc": False, "neptune": False, "raytune": False}
    settings.update({k: v for k, v in off.items() if k in settings})


def _use_threads(n: int) -> None:
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)  # after ultralytics' select_device, which sets its own count
        log.info("torch on %d CPU threads", n)


def train(spec: TrainSpec) -> Path:
    """Train and return the path of the best weights (``.pt``)."""
    _quiet_ultralytics()
    from ultralytics import YOLO

    # the first stage starts from the architecture alone (random, seeded); later ones continue
    model = YOLO(spec.init_weights or spec.model_yaml)
    out = Path(spec.out_dir).resolve()
    kwargs = dict(
        data=spec.data_yaml, epochs=spec.epochs, imgsz=spec.imgsz, batch=spec.batch, seed=spec.seed,
        deterministic=True, workers=spec.workers, device=spec.device, project=str(out.parent), name=out.name,
        exist_ok=True, amp=spec.device != "cpu",
        # ultralytics drops the loaded weights when pretrained=False: keep them when continuing
        pretrained=bool(spec.init_weights), plots=False, verbose=False, patience=spec.patience,
        fraction=spec.fraction, close_mosaic=spec.close_mosaic, optimizer=spec.optimizer, lr0=spec.lr0,
        warmup_epochs=spec.warmup_epochs, cos_lr=spec.cos_lr,
        # Colour is identity here (flavours differ by colour) and text never appears mirrored,
        # so no hue shift and no flips; our renderer already rotates, scales and lights scenes.
        hsv_h=0.0, hsv_s=0.3, hsv_v=0.3, fliplr=0.0, flipud=0.0, degrees=0.0, scale=0.15,
        translate=0.1, mosaic=1.0, mixup=0.0, erasing=0.0,
    )
    if spec.time_hours:
        kwargs["time"] = spec.time_hours
    if spec.device == "cpu":
        # at the start, and again at the end: its final validation selects the device once more
        for event in ("on_train_start", "on_train_end"):
            model.add_callback(event, lambda trainer: _use_threads(cpu_threads(spec)))
    model.train(**kwargs)
    best = out / "weights" / "best.pt"
    if not best.exists():
        best = out / "weights" / "last.pt"
    if not best.exists():
        raise RuntimeError(f"training finished without weights in {out / 'weights'}")
    log.info("trained weights: %s", best)
    return best


def export_onnx(weights: Path, imgsz: int, out_path: Path, dynamic: bool = False) -> Path:
    """Export ``weights`` to ONNX (opset chosen by ultralytics, simplified) at ``out_path``."""
    _quiet_ultralytics()
    from ultralytics import YOLO

    model = YOLO(str(weights))
    produced = Path(model.export(format="onnx", imgsz=imgsz, dynamic=dynamic, simplify=True,
                                 device="cpu", nms=False, half=False))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    produced.replace(out_path)
    return out_path
