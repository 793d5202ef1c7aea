"""The device's product detector: ``Detector(bundle).detect(frame_bgr) -> list[Detection]``.

Pre-processing (letterbox to the bundle's input size), the back end's inference, decoding of the
YOLO detect head, class-aware NMS (boxes of different SKUs never suppress each other) and the
class to SKU map from the bundle.  There is no cap on the number of boxes: a full basket gets all
of them.  No torch, no ultralytics: this runs on a Pi with onnxruntime, OpenCV and numpy.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from firmware_config.schema import DetectorConfig
from vision.bundle import BundleError, BundleManifest, load_manifest
from vision.detectors import DetectorBackend, backend_config, create_backend
from vision.frames import normalise_frame

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in frame pixels


@dataclass(frozen=True)
class Detection:
    """One product on a frame.  ``known`` is False for an "unknown item": a product the finder found
    that nothing in the store's gallery matches well; its ``sku`` is None, its ``confidence`` the best
    match's score and its ``alternatives`` the closest SKUs (vision/recogniser.py)."""

    sku: str | None  # None only for an unknown item
    class_id: int  # -1 for items found by barcode or identified against the gallery
    confidence: float
    box: Box
    alternatives: tuple[tuple[str, float], ...] = ()  # the next most likely SKUs for this box
    source: str = "vision"  # vision | barcode
    known: bool = True


@dataclass(frozen=True)
class Letterbox:
    scale: float
    pad_x: float
    pad_y: float

    def to_frame(self, boxes: np.ndarray, width: int, height: int) -> np.ndarray:
        """Boxes (N, 4 xyxy) in network-input pixels, as a new array in the frame's pixels, clipped to it."""
        out = boxes.copy()
        out[:, [0, 2]] = np.clip((out[:, [0, 2]] - self.pad_x) / self.scale, 0, width)
        out[:, [1, 3]] = np.clip((out[:, [1, 3]] - self.pad_y) / self.scale, 0, height)
        return out


class Letterboxer:
    """Letterboxes frames into a (1, 3, H, W) float32 RGB tensor, reusing its buffers between frames.

    The frame is resized keeping its aspect so its long side is ``size``, centred, and padded with
    grey 114 (as in training).  With ``rect`` (a model with dynamic height and width) the padding
    only rounds each side up to a multiple of ``stride``: a 4:3 camera at 320 runs at 320x256,
    a fifth less work than a square.  Buffers and padding are only redone when the frame size changes."""

    def __init__(self, size: int, rect: bool = False, stride: int = 32):
        self.size = size
        self.rect = rect
        self.stride = stride
        self._geometry: tuple[int, int] | None = None  # the frame size the buffers below are laid out for
        self.canvas: np.ndarray
        self.tensor: np.ndarray
        self._region: tuple[slice, slice]
        self._resized_wh: tuple[int, int]
        self._lb: Letterbox

    def _layout(self, h: int, w: int) -> None:
        size = self.size
        scale = min(size / h, size / w)
        nw, nh = int(round(w * scale)), int(round(h * scale))
        if self.rect:
            cw = -(-nw // self.stride) * self.stride
            ch = -(-nh // self.stride) * self.stride
        else:
            cw = ch = size
        px, py = (cw - nw) // 2, (ch - nh) // 2
        self.canvas = np.full((ch, cw, 3), 114, np.uint8)
        self.tensor = np.zeros((1, 3, ch, cw), np.float32)
        self._region = (slice(py, py + nh), slice(px, px + nw))
        self._resized_wh = (nw, nh)
        self._lb = Letterbox(scale, float(px), float(py))
        self._geometry = (h, w)

    def __call__(self, frame: np.ndarray) -> tuple[np.ndarray, Letterbox]:
        """The tensor for ``frame`` (owned by this letterboxer: valid until the next call)."""
        h, w = frame.shape[:2]
        if self._geometry != (h, w):
            self._layout(h, w)
        region = self.canvas[self._region]
        if self._resized_wh == (w, h):
            region[...] = frame
        else:
            cv2.resize(frame, self._resized_wh, dst=region, interpolation=cv2.INTER_LINEAR)
        # BGR HWC uint8 -> RGB CHW float32 0..1, channel by channel into the tensor
        channels = cv2.split(self.canvas)
        inv = np.float32(1 / 255.0)
        for i, c in enumerate((2, 1, 0)):
            np.multiply(channels[c], inv, out=self.tensor[0, i], casting="unsafe")
        return self.tensor, self._lb


def nms_class_aware(boxes: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, iou: float) -> np.ndarray:
    """Greedy NMS within each class; returns kept indices, best first.  ``boxes`` is (N, 4) x1y1x2y2."""
    if boxes.size == 0:
        return np.zeros(0, np.int64)
    # offsetting each class far apart makes one pass class-aware
    offset = class_ids.astype(np.float32)[:, None] * (float(boxes.max()) + 1.0)
    b = boxes + offset
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    areas = np.maximum(0, x2 - x1) * np.maximum(0, y2 - y1)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        xx1 = np.maximum(x1[i], x1[rest])
        yy1 = np.maximum(y1[i], y1[rest])
        xx2 = np.minimum(x2[i], x2[rest])
        yy2 = np.minimum(y2[i], y2[rest])
        inter = np.maximum(0, xx2 - xx1) * np.maximum(0, yy2 - yy1)
        ious = inter / (areas[i] + areas[rest] - inter + 1e-9)
        order = rest[ious <= iou]
    return np.asarray(keep, np.int64)


def merge_same_item(boxes: np.ndarray, scores: np.ndarray, merge_iou: float) -> np.ndarray:
    """Indices to keep after dropping boxes of *other* SKUs that sit almost exactly on a better box.

    Class-aware NMS keeps two products that overlap on the tray; but two near-identical boxes with
    different SKUs are one physical item the model is unsure about (a look-alike), and counting
    both would charge the customer twice.  The weaker SKU stays visible as an alternative.
    This is NMS across classes at a high IoU: the same greedy pass with every box in one class."""
    return nms_class_aware(boxes, scores, np.zeros(len(boxes), np.int64), merge_iou)


def decode_yolo(raw: np.ndarray, conf: float, iou: float, n_alternatives: int = 3,
                merge_iou: float | None = None):
    """Decode a (1, 4 + C, A) YOLO head output into kept (boxes xyxy in input pixels, scores, class ids,
    alternative class ids, alternative scores): class-aware NMS at ``iou``, then near-identical
    boxes of different SKUs (IoU >= ``merge_iou``) merged into the best one."""
    out = raw[0]
    scores_all = out[4:]
    best = scores_all.argmax(0)
    best_score = scores_all[best, np.arange(scores_all.shape[1])]
    cand = np.nonzero(best_score > conf)[0]
    if cand.size == 0:
        e = np.zeros((0,), np.float32)
        return np.zeros((0, 4), np.float32), e, np.zeros(0, np.int64), np.zeros((0, 0), np.int64), np.zeros((0, 0))
    cx, cy, w, h = out[0, cand], out[1, cand], out[2, cand], out[3, cand]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    scores = best_score[cand]
    classes = best[cand]
    keep = nms_class_aware(boxes, scores, classes, iou)
    if merge_iou is not None and keep.size > 1:
        keep = keep[merge_same_item(boxes[keep], scores[keep], merge_iou)]
    cand_kept = cand[keep]
    k = min(n_alternatives + 1, scores_all.shape[0])
    per_box = scores_all[:, cand_kept].T  # (kept, C)
    alt_ids = np.argsort(-per_box, axis=1)[:, :k]
    alt_scores = np.take_along_axis(per_box, alt_ids, 1)
    return boxes[keep], scores[keep], classes[keep], alt_ids, alt_scores


class Detector:
    """Load a model bundle and detect products in BGR frames of any size (grey and BGRA accepted).

    ``config`` is the ``detector`` configuration section: its ``backend`` names the back end that
    runs the model (``vision.detectors``; default: ONNX Runtime on the CPU), and its ``input_size``,
    ``confidence`` and ``iou`` apply unless given here.  ``backend`` (an object that already runs
    the model) replaces the configured one."""

    def __init__(self, bundle_path: str | Path, *, config: DetectorConfig | None = None,
                 input_size: int | None = None, confidence: float | None = None, iou: float | None = None,
                 alternatives: int = 3, merge_iou: float | None = None, rect: bool | None = None,
                 backend: DetectorBackend | None = None, warm_up: bool = True):
        self.manifest: BundleManifest = load_manifest(bundle_path)
        cfg = backend_config(config)
        input_size = cfg.input_size if input_size is None else input_size
        confidence = cfg.confidence if confidence is None else confidence
        iou = cfg.iou if iou is None else iou
        self.backend: DetectorBackend = backend or create_backend(self.manifest.model_path, cfg)
        shape = self.backend.input_shape()
        fixed = shape[2] if isinstance(shape[2], int) else None
        self.input_size = int(input_size or fixed or self.manifest.input_size)
        if fixed and input_size and input_size != fixed:
            raise BundleError(f"{self.manifest.model_path}: fixed input {fixed} cannot run at {input_size}")
        self.use_thresholds(confidence, iou)
        self.alternatives = alternatives
        chosen = self.manifest.merge_iou if merge_iou is None else merge_iou
        self.merge_iou: float | None = chosen if chosen is not None and chosen > 0 else None  # <= 0: off
        self.classes = self.manifest.classes
        # a model with dynamic height and width pads only to the stride, unless told otherwise
        self.rect = (fixed is None) if rect is None else (rect and fixed is None)
        self._letterbox = Letterboxer(self.input_size, rect=self.rect)
        self.last_inference_ms = 0.0
        if warm_up:
            self._check_output(self.backend.run(np.zeros((1, 3, self.input_size, self.input_size), np.float32)))

    def use_thresholds(self, confidence: float | None, iou: float | None) -> None:
        """Set the operating confidence and NMS IoU; ``None`` means the bundle's calibrated value."""
        self.confidence = self.manifest.confidence if confidence is None else float(confidence)
        self.iou = self.manifest.iou if iou is None else float(iou)

    def _check_output(self, raw: np.ndarray) -> None:
        if raw.ndim != 3 or raw.shape[1] != 4 + len(self.classes):
            raise BundleError(f"{self.manifest.model_path}: output shape {raw.shape} does not fit "
                              f"{len(self.classes)} classes in {self.manifest.path / 'manifest.json'}")

    def infer_raw(self, frame: np.ndarray) -> tuple[np.ndarray, Letterbox]:
        tensor, lb = self._letterbox(frame)
        t0 = time.perf_counter()
        raw = self.backend.run(tensor)
        self.last_inference_ms = (time.perf_counter() - t0) * 1000
        return raw, lb

    def detect(self, frame: np.ndarray, confidence: float | None = None) -> list[Detection]:
        """Products in ``frame``, best first, with boxes in frame pixels."""
        frame = normalise_frame(frame)
        raw, lb = self.infer_raw(frame)
        conf = self.confidence if confidence is None else confidence
        boxes, scores, classes, alt_ids, alt_scores = decode_yolo(raw, conf, self.iou, self.alternatives,
                                                                  self.merge_iou)
        if boxes.shape[0] == 0:
            return []
        h, w = frame.shape[:2]
        boxes = lb.to_frame(boxes, w, h)
        names = self.classes
        out = []
        for i in range(boxes.shape[0]):
            alts = tuple((names[int(c)], float(s)) for c, s in zip(alt_ids[i, 1:], alt_scores[i, 1:], strict=True)
                         if s > 0.01)
            out.append(Detection(names[int(classes[i])], int(classes[i]), float(scores[i]),
                                 tuple(float(v) for v in boxes[i]), alts))  # type: ignore[arg-type]
        return out
