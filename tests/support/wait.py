"""Polling with a deadline, for conditions that other processes make true."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(cond: Callable[[], bool], timeout_s: float, what: str, every_s: float = 0.1) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(every_s)
    if not cond():
        raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
