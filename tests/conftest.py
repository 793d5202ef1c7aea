"""Shared fixtures: the shipped demo bundle and small helpers for making bundles in tests."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.support.browser import chromium

REPO = Path(__file__).resolve().parents[1]
DEMO_BUNDLE = REPO / "models" / "demo"


@pytest.fixture(scope="session")
def demo_bundle() -> Path:
    if not (DEMO_BUNDLE / "manifest.json").exists():
        pytest.fail(f"the demo bundle is missing at {DEMO_BUNDLE}: it must be committed (make train makes it)")
    return DEMO_BUNDLE


@pytest.fixture
def demo_bundle_copy(tmp_path: Path, demo_bundle: Path) -> Path:
    dst = tmp_path / "bundle"
    shutil.copytree(demo_bundle, dst)
    return dst


def write_manifest(folder: Path, classes: list[str], model_bytes: bytes = b"not-a-model", input_size: int = 320,
                   **extra) -> Path:
    """A minimal valid bundle folder around arbitrary model bytes (for tests with an injected back end)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.onnx").write_bytes(model_bytes)
    manifest = {
        "format": "tillsight.bundle/1", "version": "20260101.000000", "created": "2026-01-01T00:00:00Z",
        "model_file": "model.onnx", "model_sha256": hashlib.sha256(model_bytes).hexdigest(),
        "input_size": input_size, "classes": {str(i): c for i, c in enumerate(classes)},
        "names": {c: c.title() for c in classes}, "thresholds": {"confidence": 0.35, "iou": 0.5},
        "selftest": {"image": "selftest.jpg", "expected": {}}, **extra,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


class FakeBackend:
    """Returns a prepared raw YOLO head output; records the tensors it was given."""

    input_name = "images"

    def __init__(self, raw: np.ndarray, size: int = 320):
        self.raw = raw.astype(np.float32)
        self.size = size
        self.calls: list[np.ndarray] = []

    def input_shape(self) -> tuple:
        return (1, 3, self.size, self.size)

    def run(self, tensor: np.ndarray) -> np.ndarray:
        self.calls.append(tensor.copy())
        return self.raw


@pytest.fixture
def window() -> tuple[int, int]:
    """The browser window size; a test module overrides it for its screen (e.g. the till's)."""
    return (1366, 1000)


@pytest.fixture
def browser(tmp_path: Path, window: tuple[int, int]):
    """A real headless Chromium (see tests/support/browser.py)."""
    yield from chromium(tmp_path / "chrome", *window)
