"""The trained class-blind product finder (``models/finder``) on ONNX Runtime.

The network (``training/finder.py``) reads a letterboxed frame (long side 448, sides multiples of 32,
top-left aligned, grey padding) and gives three maps on the stride-16 grid: ``heat`` (how likely a
product's centre lies in the cell, 0..1), ``size`` (log of the box's width and height in cells) and
``offset`` (where in the cell the centre lies, 0..1).  ``decode`` turns them into boxes: local maxima
of ``heat`` (over a ``peak_window`` square of cells) above the confidence threshold, their boxes; a
box whose centre lies in the central ``centre_share`` of a stronger box's is dropped (a second peak on
one product); then NMS.  With ``flip`` the frame also runs mirrored left to right and the two views' maps are averaged
before decoding (test-time flip: a spurious peak of one view rarely survives the other's).  The
manifest's ``thresholds`` and ``decoding`` hold these settings; a manifest without ``decoding`` keeps
the first finder's (3x3 peaks, no centre rule, no flip).  A missing, corrupt or foreign model file is a ``FinderError``
that names the file.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
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
PEAK_WINDOW = 3  # decoding of a manifest that names none: 3x3 local maxima, no centre rule, no test-time flip
CENTRE_SHARE = 0.0


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
    peak_window: int = PEAK_WINDOW
    centre_share: float = CENTRE_SHARE
    flip: bool = False


def _decoding(data: dict, path: Path) -> tuple[int, float, bool]:
    """The manifest's optional ``decoding`` section: (peak_window, centre_share, flip)."""
    section = data.get("decoding", {})
    if not isinstance(section, dict):
        raise FinderError(f"{path}: 'decoding' must be an object")
    window = section.get("peak_window", PEAK_WINDOW)
    share = section.get("centre_share", CENTRE_SHARE)
    flip = section.get("flip", False)
    if not isinstance(window, int) or isinstance(window, bool) or window < 1 or window % 2 == 0:
        raise FinderError(f"{path}: decoding.peak_window must be an odd whole number of cells, not {window!r}")
    if not isinstance(share, int | float) or isinstance(share, bool) or not 0 <= share <= 1:
        raise FinderError(f"{path}: decoding.centre_share must be a number from 0 to 1, not {share!r}")
    if not isinstance(flip, bool):
        raise FinderError(f"{path}: decoding.flip must be true or false, not {flip!r}")
    return window, float(share), flip


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
    window, share, flip = _decoding(data, path)
    manifest = replace(manifest, peak_window=window, centre_share=share, flip=flip)
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


def unflip(heat: np.ndarray, size: np.ndarray, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The maps of a left-right mirrored input, mirrored back onto the original grid (the input's width is a
    whole number of cells, so cell x of the mirror is cell gw-1-x; a centre at offset o lies at 1-o)."""
    offset = offset[:, :, ::-1].copy()
    offset[0] = 1.0 - offset[0]
    return heat[:, ::-1], size[:, :, ::-1], offset


def centre_suppression(boxes: np.ndarray, scores: np.ndarray, share: float) -> list[int]:
    """Indices kept, best first, when a box whose centre lies in the central ``share`` (of the width and of
    the height) of a stronger kept box is dropped: a second peak on one product.  It scales with the
    product, where a fixed peak window would merge small products lying side by side."""
    order = np.argsort(-scores, kind="stable")
    if share <= 0:
        return [int(i) for i in order]
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    half_w, half_h = (boxes[:, 2] - boxes[:, 0]) * share / 2, (boxes[:, 3] - boxes[:, 1]) * share / 2
    keep: list[int] = []
    for i in order:
        k = np.array(keep, np.int64)
        if keep and np.any((np.abs(cx[i] - cx[k]) < half_w[k]) & (np.abs(cy[i] - cy[k]) < half_h[k])):
            continue
        keep.append(int(i))
    return keep


def decode(heat: np.ndarray, size: np.ndarray, offset: np.ndarray, confidence: float, nms_iou: float,
           stride: int = STRIDE, peak_window: int = PEAK_WINDOW,
           centre_share: float = CENTRE_SHARE) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N, 4 xyxy in network-input pixels) and scores (N,) from one image's maps:
    ``heat`` (gh, gw), ``size`` and ``offset`` (2, gh, gw).  A peak is a cell whose heat is the highest in
    the ``peak_window`` x ``peak_window`` cells around it; then ``centre_suppression`` and NMS."""
    peaks = cv2.dilate(heat.astype(np.float32), np.ones((peak_window, peak_window), np.uint8))
    ys, xs = np.nonzero((heat >= peaks) & (heat >= confidence))
    if ys.size == 0:
        return np.zeros((0, 4), np.float32), np.zeros((0,), np.float32)
    scores = heat[ys, xs].astype(np.float32)
    cx = (xs + offset[0, ys, xs]) * stride
    cy = (ys + offset[1, ys, xs]) * stride
    bw = np.exp(np.clip(size[0, ys, xs], -4, 6)) * stride
    bh = np.exp(np.clip(size[1, ys, xs], -4, 6)) * stride
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1).astype(np.float32)
    first = centre_suppression(boxes, scores, centre_share)
    boxes, scores = boxes[first], scores[first]
    keep = nms(boxes, scores, nms_iou)
    return boxes[keep], scores[keep]


class OnnxFinder:
    """``vision.finder.Finder`` over the trained finder network."""

    def __init__(self, folder: str | Path = DEFAULT_FINDER, *, variant: str = "fp32",
                 confidence: float | None = None, nms_iou: float | None = None, peak_window: int | None = None,
                 centre_share: float | None = None, flip: bool | None = None, threads: int = 0):
        import onnxruntime as ort

        self.manifest = load_finder_manifest(folder, variant)
        self.confidence = self.manifest.confidence if confidence is None else confidence
        self.nms_iou = self.manifest.nms_iou if nms_iou is None else nms_iou
        self.peak_window = self.manifest.peak_window if peak_window is None else peak_window
        self.centre_share = self.manifest.centre_share if centre_share is None else centre_share
        self.flip = self.manifest.flip if flip is None else flip
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

    def maps(self, tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """heat (gh, gw), size and offset (2, gh, gw) of one network input; with ``flip`` the mean of the
        input's and its mirror's."""
        heat, size, offset = (m[0] for m in self.session.run(None, {self.input: tensor}))
        heat = heat[0]
        if not self.flip:
            return heat, size, offset
        mirrored = self.session.run(None, {self.input: np.ascontiguousarray(tensor[..., ::-1])})
        m_heat, m_size, m_offset = unflip(mirrored[0][0, 0], mirrored[1][0], mirrored[2][0])
        return (heat + m_heat) / 2, (size + m_size) / 2, (offset + m_offset) / 2

    def find(self, image: np.ndarray) -> list[FoundBox]:
        tensor, scale = self._input(image)
        heat, size, offset = self.maps(tensor)
        boxes, scores = decode(heat, size, offset, self.confidence, self.nms_iou, peak_window=self.peak_window,
                               centre_share=self.centre_share)
        h, w = image.shape[:2]
        found = []
        for (x1, y1, x2, y2), score in zip(boxes / scale, scores, strict=True):
            box = (float(max(0.0, x1)), float(max(0.0, y1)), float(min(w, x2)), float(min(h, y2)))
            if box[2] - box[0] >= 2 and box[3] - box[1] >= 2:
                found.append(FoundBox(box, float(score)))
        return found
