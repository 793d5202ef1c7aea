"""The trained class-blind product finder (``models/finder``) on ONNX Runtime.

The network (``training/finder.py``) reads a letterboxed frame (long side 448, sides multiples of 32,
top-left aligned, grey padding) and gives three maps on the stride-16 grid: ``heat`` (how likely a
product's centre lies in the cell, 0..1), ``size`` (log of the box's width and height in cells) and
``offset`` (where in the cell the centre lies, 0..1).  ``decode`` turns them into boxes: local maxima
of ``heat`` above the confidence threshold, their boxes, then NMS.  A missing, corrupt or foreign
model file is a ``FinderError`` that names the file.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vision.bundle import sha256_file
from vision.finder import FoundBox

log = logging.getLogger(__name__)

FINDER_FORMAT = "tillsight-finder/1"
MANIFEST = "manifest.json"
STRIDE = 16
LONG_SIDE = 448
DEFAULT_FINDER = Path("models/finder")


class FinderError(Exception):
    """The finder model cannot be used (missing, corrupt, foreign); the message names the file."""


def letterbox_size(size: tuple[int, int], long_side: int = LONG_SIDE, multiple: int = 32) -> tuple[int, int]:
    """The network input (w, h) for a frame of ``size`` (w, h): long side ``long_side``, sides rounded up
    to ``multiple``."""
    w, h = size
    scale = long_side / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    return -(-nw // multiple) * multiple, -(-nh // multiple) * multiple


@dataclass(frozen=True)
class FinderManifest:
    name: str
    version: str
    model: Path
    variant: str
    confidence: float
    nms_iou: float
    long_side: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


def load_finder_manifest(folder: str | Path = DEFAULT_FINDER, variant: str = "fp32") -> FinderManifest:
    folder = Path(folder)
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise FinderError(f"{path}: no finder manifest") from exc
    except (OSError, ValueError) as exc:
        raise FinderError(f"{path}: unreadable finder manifest ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FINDER_FORMAT:
        raise FinderError(f"{path}: not a {FINDER_FORMAT} manifest")
    try:
        entry = data["files"][variant]
        model = folder / str(entry["path"])
        expected = str(entry["sha256"])
        thresholds = data["thresholds"]
        manifest = FinderManifest(
            name=str(data["name"]), version=str(data["version"]), model=model, variant=variant,
            confidence=float(thresholds["confidence"]), nms_iou=float(thresholds["nms_iou"]),
            long_side=int(data.get("long_side", LONG_SIDE)),
            mean=tuple(float(v) for v in data["mean"]),  # type: ignore[arg-type]
            std=tuple(float(v) for v in data["std"]),  # type: ignore[arg-type]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise FinderError(f"{path}: missing or bad field ({exc}) for variant {variant!r}") from exc
    if not model.exists():
        raise FinderError(f"{model}: finder model file missing")
    if sha256_file(model) != expected:
        raise FinderError(f"{model}: checksum does not match {path} (corrupt or replaced)")
    return manifest


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Indices kept by greedy non-maximum suppression, best first."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    areas = np.maximum(0, boxes[:, 2] - boxes[:, 0]) * np.maximum(0, boxes[:, 3] - boxes[:, 1])
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        xx1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.maximum(0, xx2 - xx1) * np.maximum(0, yy2 - yy1)
        union = areas[i] + areas[rest] - inter
        overlap = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
        order = rest[overlap <= iou]
    return keep


def decode(heat: np.ndarray, size: np.ndarray, offset: np.ndarray, confidence: float, nms_iou: float,
           stride: int = STRIDE) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N, 4 xyxy in network-input pixels) and scores (N,) from one image's maps:
    ``heat`` (gh, gw), ``size`` and ``offset`` (2, gh, gw)."""
    peaks = cv2.dilate(heat.astype(np.float32), np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero((heat >= peaks) & (heat >= confidence))
    if ys.size == 0:
        return np.zeros((0, 4), np.float32), np.zeros((0,), np.float32)
    scores = heat[ys, xs].astype(np.float32)
    cx = (xs + offset[0, ys, xs]) * stride
    cy = (ys + offset[1, ys, xs]) * stride
    bw = np.exp(np.clip(size[0, ys, xs], -4, 6)) * stride
    bh = np.exp(np.clip(size[1, ys, xs], -4, 6)) * stride
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1).astype(np.float32)
    keep = nms(boxes, scores, nms_iou)
    return boxes[keep], scores[keep]


class OnnxFinder:
    """``vision.finder.Finder`` over the trained finder network."""

    def __init__(self, folder: str | Path = DEFAULT_FINDER, *, variant: str = "fp32",
                 confidence: float | None = None, nms_iou: float | None = None, threads: int = 0):
        import onnxruntime as ort

        self.manifest = load_finder_manifest(folder, variant)
        self.confidence = self.manifest.confidence if confidence is None else confidence
        self.nms_iou = self.manifest.nms_iou if nms_iou is None else nms_iou
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(self.manifest.model), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for a broken file
            raise FinderError(f"{self.manifest.model}: cannot load the finder model ({exc})") from exc
        self.input = self.session.get_inputs()[0].name
        self._mean = np.array(self.manifest.mean, np.float32)
        self._std = np.array(self.manifest.std, np.float32)

    @property
    def identity(self) -> dict[str, str]:
        return {"name": self.manifest.name, "version": self.manifest.version, "variant": self.manifest.variant}

    def _input(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        h, w = image.shape[:2]
        tw, th = letterbox_size((w, h), self.manifest.long_side)
        scale = min(tw / w, th / h)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        canvas = np.full((th, tw, 3), 114, np.uint8)
        canvas[:nh, :nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
        rgb = (canvas[..., ::-1].astype(np.float32) / 255.0 - self._mean) / self._std
        return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None]), scale

    def find(self, image: np.ndarray) -> list[FoundBox]:
        tensor, scale = self._input(image)
        heat, size, offset = self.session.run(None, {self.input: tensor})
        boxes, scores = decode(heat[0, 0], size[0], offset[0], self.confidence, self.nms_iou)
        h, w = image.shape[:2]
        found = []
        for (x1, y1, x2, y2), score in zip(boxes / scale, scores, strict=True):
            box = (float(max(0.0, x1)), float(max(0.0, y1)), float(min(w, x2)), float(min(h, y2)))
            if box[2] - box[0] >= 2 and box[3] - box[1] >= 2:
                found.append(FoundBox(box, float(score)))
        return found
