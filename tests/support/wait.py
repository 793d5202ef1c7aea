"""Polling with a deadline, for conditions that other processes make true.

The deadlines are what a lightly loaded machine needs.  When the suite runs in parallel workers
(pytest-xdist sets ``PYTEST_XDIST_WORKER``) other test files compete for the same cores, so every
deadline stretches by ``TILLSIGHT_TEST_WAIT_SCALE`` (default 3 under xdist, 1 otherwise).  A wait
still returns the moment its condition holds: only a test that would fail anyway waits longer."""

from __future__ import annotations

import os
import time
from collections.abc import Callable


def wait_scale() -> float:
    """How much longer than written every deadline is in this run."""
    given = os.environ.get("TILLSIGHT_TEST_WAIT_SCALE")
    if given:
        return max(1.0, float(given))
    return 3.0 if os.environ.get("PYTEST_XDIST_WORKER") else 1.0


def wait_for(cond: Callable[[], bool], timeout_s: float, what: str, every_s: float = 0.1) -> None:
    timeout_s *= wait_scale()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(every_s)
    if not cond():
        raise AssertionError(f"timed out after {timeout_s:g}s waiting for {what}")
