"""A circuit breaker for the LLM endpoint: after ``failures`` consecutive failures it opens and
refuses calls for ``reset_s`` seconds, then lets one trial call through (half-open); a success
closes it, a failure opens it again for another ``reset_s``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    def __init__(self, failures: int = 5, reset_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failures < 1:
            raise ValueError("failures must be >= 1")
        if reset_s <= 0:
            raise ValueError("reset_s must be > 0")
        self.failures = failures
        self.reset_s = reset_s
        self._clock = clock
        self._lock = threading.Lock()
        self._consecutive = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return CLOSED
        if self._clock() - self._opened_at >= self.reset_s:
            return HALF_OPEN
        return OPEN

    def retry_in(self) -> float:
        """Seconds until the breaker lets a trial call through (0 when it would now)."""
        with self._lock:
            if self._opened_at is None:
                return 0.0
            return max(0.0, self.reset_s - (self._clock() - self._opened_at))

    def allow(self) -> bool:
        """May a call go out now?  In half-open state only one trial call at a time."""
        with self._lock:
            state = self._state()
            if state == CLOSED:
                return True
            if state == OPEN or self._trial_running:
                return False
            self._trial_running = True
            return True

    def record_success(self) -> None:
        with self._lock:
            self._consecutive = 0
            self._opened_at = None
            self._trial_running = False

    def record_failure(self) -> None:
        with self._lock:
            self._consecutive += 1
            was_trial = self._trial_running
            self._trial_running = False
            if was_trial or self._consecutive >= self.failures:
                self._opened_at = self._clock()
