"""The appearance embedder on the device: ``Embedder(folder).embed(crops) -> (N, D)`` unit vectors.

An embedder folder (``models/embedder``) holds an ONNX feature extractor and ``manifest.json``
(name, version, input size, mean/std, embedding size, source weights and licence, each model
file's SHA-256).  The network ends in global pooling and L2 normalisation, so the cosine of two
embeddings is their dot product.  A crop is padded to a square (keeping its aspect) and resized
to the input size; with test-time views (rotations by quarter turns, mirrored) a crop's embedding
is the normalised mean of its views' embeddings, which makes a product lying any way up on the
tray look the same.  No torch here: onnxruntime, OpenCV and numpy only (training/embedder.py
builds and exports the network).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from vision.bundle import read_json_object, sha256_file
from vision.frames import normalise_frame

log = logging.getLogger(__name__)

EMBEDDER_FORMAT = "tillsight.embedder/1"
MANIFEST = "manifest.json"
DEFAULT_EMBEDDER = Path(__file__).resolve().parents[1] / "models" / "embedder"
REQUIRED_KEYS = ("format", "name", "version", "model_file", "model_sha256", "input_size", "mean", "std",
                 "embedding_dim")
VARIANTS = ("fp32", "int8")


class EmbedderError(Exception):
    """An embedder folder is missing, unreadable or inconsistent; the message names the file."""


@dataclass(frozen=True)
class EmbedderManifest:
    path: Path  # the embedder folder
    name: str
    version: str
    variant: str  # fp32 | int8: which of the folder's model files this manifest entry points at
    model_path: Path
    model_sha256: str
    input_size: int
    mean: tuple[float, float, float]  # RGB, on 0..1 pixel values
    std: tuple[float, float, float]
    embedding_dim: int
    raw: dict = field(default_factory=dict)

    @property
    def identity(self) -> dict[str, str]:
        """What a gallery records to prove its embeddings came from this exact network."""
        return {"name": self.name, "version": self.version, "variant": self.variant, "sha256": self.model_sha256}


def load_embedder_manifest(folder: str | Path = DEFAULT_EMBEDDER, variant: str = "fp32",
                           verify_hash: bool = True) -> EmbedderManifest:
    """Read and check an embedder folder's manifest (and, by default, the chosen model file's SHA-256)."""
    folder = Path(folder)
    if variant not in VARIANTS:
        raise EmbedderError(f"embedder variant {variant!r} is not one of {VARIANTS}")
    mpath = folder / MANIFEST
    if not folder.is_dir():
        raise EmbedderError(f"{folder}: embedder folder not found")
    if not mpath.is_file():
        raise EmbedderError(f"{mpath}: embedder manifest not found")
    raw = read_json_object(mpath, EmbedderError)
    missing = [k for k in REQUIRED_KEYS if k not in raw]
    if missing:
        raise EmbedderError(f"{mpath}: missing keys {missing}")
    if raw["format"] != EMBEDDER_FORMAT:
        raise EmbedderError(f"{mpath}: format {raw['format']!r} is not {EMBEDDER_FORMAT!r}")
    model_file, model_sha = str(raw["model_file"]), str(raw["model_sha256"])
    if variant != "fp32":
        entry = raw.get("variants", {}).get(variant)
        if not isinstance(entry, dict) or "model_file" not in entry or "model_sha256" not in entry:
            raise EmbedderError(f"{mpath}: no {variant} variant (variants.{variant}.model_file/model_sha256)")
        model_file, model_sha = str(entry["model_file"]), str(entry["model_sha256"])
    model_path = folder / model_file
    if not model_path.is_file():
        raise EmbedderError(f"{model_path}: embedder model file not found")
    if verify_hash:
        actual = sha256_file(model_path)
        if actual != model_sha:
            raise EmbedderError(f"{model_path}: SHA-256 {actual[:12]}... does not match the manifest's "
                                f"{model_sha[:12]}... (truncated or replaced file)")
    try:
        mean = tuple(float(v) for v in raw["mean"])
        std = tuple(float(v) for v in raw["std"])
        size, dim = int(raw["input_size"]), int(raw["embedding_dim"])
    except (TypeError, ValueError) as exc:
        raise EmbedderError(f"{mpath}: mean/std must be 3 numbers, input_size and embedding_dim integers") from exc
    if len(mean) != 3 or len(std) != 3 or min(std) <= 0 or size < 32 or dim < 1:
        raise EmbedderError(f"{mpath}: mean/std need 3 values (std > 0), input_size >= 32, embedding_dim >= 1")
    return EmbedderManifest(path=folder, name=str(raw["name"]), version=str(raw["version"]), variant=variant,
                            model_path=model_path, model_sha256=model_sha, input_size=size,
                            mean=(mean[0], mean[1], mean[2]), std=(std[0], std[1], std[2]), embedding_dim=dim,
                            raw=raw)


def square_pad(crop: np.ndarray) -> np.ndarray:
    """Pad a crop to a square with its own edge colour's median, keeping the product's aspect."""
    h, w = crop.shape[:2]
    side = max(h, w)
    if h == w:
        return crop
    edge = np.concatenate([crop[0], crop[-1], crop[:, 0], crop[:, -1]]).reshape(-1, 3)
    fill = np.median(edge, axis=0).astype(np.uint8)
    out = np.empty((side, side, 3), np.uint8)
    out[...] = fill
    y, x = (side - h) // 2, (side - w) // 2
    out[y:y + h, x:x + w] = crop
    return out


def view_images(image: np.ndarray, views: int) -> list[np.ndarray]:
    """The test-time views of a square image: 1 (as is), 2 (+ mirrored), 4 (quarter turns),
    8 (quarter turns, each also mirrored)."""
    if views not in (1, 2, 4, 8):
        raise ValueError(f"views must be 1, 2, 4 or 8, not {views}")
    turns = [image] if views in (1, 2) else [np.ascontiguousarray(np.rot90(image, k)) for k in range(4)]
    if views in (2, 8):
        turns += [np.ascontiguousarray(t[:, ::-1]) for t in turns]
    return turns


class Embedder:
    """Runs the ONNX embedder on BGR crops; returns float32 unit vectors, one row per crop.

    ``views`` test-time views are averaged per crop (see :func:`view_images`); ``batch`` caps the
    images in one ONNX Runtime call."""

    def __init__(self, folder: str | Path = DEFAULT_EMBEDDER, *, variant: str = "fp32", views: int = 4,
                 threads: int | None = None, batch: int = 32):
        import onnxruntime as ort

        self.manifest = load_embedder_manifest(folder, variant)
        view_images(np.zeros((2, 2, 3), np.uint8), views)  # validates ``views``
        self.views = views
        self.batch = max(1, batch)
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(self.manifest.model_path), opts,
                                                providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise EmbedderError(f"{self.manifest.model_path}: ONNX Runtime cannot load it ({exc})") from exc
        self.input_name = self.session.get_inputs()[0].name
        size = self.manifest.input_size
        self._mean = np.array(self.manifest.mean, np.float32).reshape(1, 1, 3) * 255.0
        self._scale = 1.0 / (np.array(self.manifest.std, np.float32).reshape(1, 1, 3) * 255.0)
        probe = self.session.run(None, {self.input_name: np.zeros((1, 3, size, size), np.float32)})[0]
        if probe.shape != (1, self.manifest.embedding_dim):
            raise EmbedderError(f"{self.manifest.model_path}: output shape {probe.shape} is not "
                                f"(1, {self.manifest.embedding_dim}) as the manifest says")

    @property
    def identity(self) -> dict[str, str]:
        return self.manifest.identity

    @property
    def dim(self) -> int:
        return self.manifest.embedding_dim

    def _tensor(self, image: np.ndarray) -> np.ndarray:
        size = self.manifest.input_size
        resized = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
        rgb = resized[:, :, ::-1].astype(np.float32)
        return ((rgb - self._mean) * self._scale).transpose(2, 0, 1)

    def embed(self, crops: Sequence[np.ndarray], views: int | None = None) -> np.ndarray:
        """Embeddings of BGR crops (any size, grey or BGRA accepted): (len(crops), D) float32, unit rows."""
        views = self.views if views is None else views
        if not crops:
            return np.zeros((0, self.dim), np.float32)
        tensors: list[np.ndarray] = []
        for crop in crops:
            square = square_pad(normalise_frame(crop))
            tensors.extend(self._tensor(v) for v in view_images(square, views))
        stacked = np.stack(tensors)
        outs = [self.session.run(None, {self.input_name: stacked[i:i + self.batch]})[0]
                for i in range(0, len(stacked), self.batch)]
        emb = np.concatenate(outs).astype(np.float32).reshape(len(crops), views, -1).mean(axis=1)
        return normalise_rows(emb)


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row scaled to unit length (a zero row stays zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)


def crop_box(frame: np.ndarray, box: Sequence[float], margin: float = 0.04) -> np.ndarray:
    """The part of ``frame`` inside ``box`` (x1, y1, x2, y2) grown by ``margin`` of its size each side,
    clipped to the frame (as the enrolment exemplars are cut)."""
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    mx, my = (x2 - x1) * margin, (y2 - y1) * margin
    xa, ya = max(0, int(round(x1 - mx))), max(0, int(round(y1 - my)))
    xb, yb = min(w, int(round(x2 + mx))), min(h, int(round(y2 + my)))
    if xb <= xa or yb <= ya:
        raise ValueError(f"box {tuple(box)} is empty inside a {w}x{h} frame")
    return frame[ya:yb, xa:xb]
