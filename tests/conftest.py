"""Shared fixtures: the shipped demo bundle and small helpers for making bundles in tests.

Also the shifted clock: with ``TILLSIGHT_TEST_CLOCK=2027-02-28T04:30:00Z`` in the environment the
whole session runs with the wall clock moved there (and ticking on from it), so a test that reads
the real clock where a given time was meant fails on the dates where it would (see
tests/test_shifted_clocks.py, which runs the date-sensitive modules under a few such clocks).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.browser import chromium

_TRAVELLER = pytest.StashKey[Any]()  # the running time_machine.travel

REPO = Path(__file__).resolve().parents[1]
DEMO_BUNDLE = REPO / "models" / "demo"
CLOCK_ENV = "TILLSIGHT_TEST_CLOCK"

log = logging.getLogger(__name__)


def shifted_clock(value: str) -> datetime:
    """``TILLSIGHT_TEST_CLOCK``'s value (ISO-8601 with a zone, e.g. ``2027-02-28T04:30:00Z``) as an aware time."""
    at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise pytest.UsageError(f"{CLOCK_ENV}={value!r} needs a zone (end it with Z)")
    return at.astimezone(UTC)


def pytest_configure(config: pytest.Config) -> None:
    value = os.environ.get(CLOCK_ENV)
    if not value:
        return
    import time_machine

    at = shifted_clock(value)
    traveller = time_machine.travel(at, tick=True)
    traveller.start()
    config.stash[_TRAVELLER] = traveller
    log.info("the wall clock is moved to %s for this session", at.isoformat())


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_TRAVELLER, None)
    if traveller is not None:
        traveller.stop()


# The files that take longest. `make test` runs pytest-xdist with whole files per worker and without its own
# reordering (which queues files by their number of tests, so these one- or two-test files started last and
# the run ended waiting on them); they go first, spread over the workers, and the rest follow, most tests first.
LONGEST_FILES = (
    "tests/test_shifted_clocks.py",
    "tests/systemd/test_install.py",
    "tests/analytics/web/test_analytics_browser.py",
    "tests/tillsight_cli/test_demo_stack.py",
    "tests/edge/test_service_notify.py",
    "tests/edge/sync/test_delivery.py",
    "tests/edge/sync/test_failures.py",
    "tests/edge/test_appliance_e2e.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def file_of(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0]

    rank = {path: i for i, path in enumerate(LONGEST_FILES)}
    per_file: dict[str, int] = {}
    for item in items:
        per_file[file_of(item)] = per_file.get(file_of(item), 0) + 1
    items.sort(key=lambda item: (rank.get(file_of(item), len(rank)), -per_file[file_of(item)], file_of(item)))


def pytest_report_header(config: pytest.Config) -> str | None:
    value = os.environ.get(CLOCK_ENV)
    return f"wall clock moved to {shifted_clock(value).isoformat()} ({CLOCK_ENV})" if value else None


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
