"""Model bundles: a folder with ``model.onnx`` and ``manifest.json`` (DESIGN.md, "Model bundle").

The device reads class names, input size and thresholds from the manifest, never from code.
Every problem with a bundle is a :class:`BundleError` whose message names the file at fault.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUNDLE_FORMAT = "tillsight.bundle/1"
MANIFEST = "manifest.json"
REQUIRED_KEYS = ("format", "version", "created", "model_file", "model_sha256", "input_size", "classes",
                 "selftest")


class BundleError(Exception):
    """A model bundle is missing, unreadable or inconsistent; the message names the file."""


@dataclass(frozen=True)
class SelfTest:
    image: Path
    expected: dict[str, int]  # SKU -> count the model must find


@dataclass(frozen=True)
class BundleManifest:
    path: Path  # the bundle folder
    version: str
    created: str
    model_path: Path
    model_sha256: str
    input_size: int
    classes: tuple[str, ...]  # class index -> SKU
    names: dict[str, str]  # SKU -> product name
    barcodes: dict[str, str]  # SKU -> EAN-13
    confidence: float
    iou: float
    merge_iou: float | None  # near-identical boxes of different SKUs are one item (None: off)
    selftest: SelfTest
    data_hash: str = ""
    evaluation: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)

    def name_of(self, sku: str) -> str:
        return self.names.get(sku, sku)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_json_object(path: Path, error: type[Exception], problem: str = "") -> dict[str, Any]:
    """The JSON object in ``path`` (a manifest of a bundle, an embedder or a gallery); a file that is not
    JSON, or JSON that is not an object, raises ``error`` naming the file (``problem`` prefixes the reason)."""
    try:
        raw = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path}: {problem}not valid JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise error(f"{path}: {problem}not a JSON object")
    return raw


def load_manifest(bundle: str | Path, verify_hash: bool = True) -> BundleManifest:
    """Read and check a bundle's manifest (and, by default, the model file's SHA-256)."""
    folder = Path(bundle)
    if folder.is_file() and folder.name == MANIFEST:
        folder = folder.parent
    if not folder.is_dir():
        raise BundleError(f"{folder}: model bundle folder not found")
    mpath = folder / MANIFEST
    if not mpath.is_file():
        raise BundleError(f"{mpath}: manifest not found (a bundle needs {MANIFEST} and its model file)")
    raw = read_json_object(mpath, BundleError)
    missing = [k for k in REQUIRED_KEYS if k not in raw]
    if missing:
        raise BundleError(f"{mpath}: missing keys {missing}")
    if raw["format"] != BUNDLE_FORMAT:
        raise BundleError(f"{mpath}: format {raw['format']!r} is not {BUNDLE_FORMAT!r}")
    classes_raw = raw["classes"]
    try:
        classes = tuple(str(classes_raw[str(i)]) for i in range(len(classes_raw)))
    except KeyError as exc:
        raise BundleError(f"{mpath}: 'classes' must map 0..N-1 to SKUs; {exc} is missing") from exc
    if not classes:
        raise BundleError(f"{mpath}: 'classes' is empty")
    try:
        input_size = int(raw["input_size"])
    except (TypeError, ValueError) as exc:
        raise BundleError(f"{mpath}: 'input_size' must be an integer") from exc
    if input_size % 32 or not 64 <= input_size <= 2048:
        raise BundleError(f"{mpath}: 'input_size' {input_size} must be a multiple of 32 in 64..2048")
    model_path = folder / str(raw["model_file"])
    if not model_path.is_file():
        raise BundleError(f"{model_path}: model file not found")
    if verify_hash:
        actual = sha256_file(model_path)
        if actual != raw["model_sha256"]:
            raise BundleError(f"{model_path}: SHA-256 {actual[:12]}... does not match the manifest's "
                              f"{str(raw['model_sha256'])[:12]}... (truncated or replaced file)")
    st = raw["selftest"]
    if not isinstance(st, dict) or "image" not in st or "expected" not in st:
        raise BundleError(f"{mpath}: 'selftest' needs 'image' and 'expected'")
    thresholds = raw.get("thresholds", {})
    return BundleManifest(
        path=folder, version=str(raw["version"]), created=str(raw["created"]), model_path=model_path,
        model_sha256=str(raw["model_sha256"]), input_size=input_size, classes=classes,
        names={str(k): str(v) for k, v in raw.get("names", {}).items()},
        barcodes={str(k): str(v) for k, v in raw.get("barcodes", {}).items()},
        confidence=float(thresholds.get("confidence", 0.35)), iou=float(thresholds.get("iou", 0.5)),
        merge_iou=(float(thresholds["merge_iou"]) if thresholds.get("merge_iou") is not None else None),
        selftest=SelfTest(folder / str(st["image"]), {str(k): int(v) for k, v in st["expected"].items()}),
        data_hash=str(raw.get("data_hash", "")), evaluation=dict(raw.get("evaluation", {})), raw=raw,
    )
