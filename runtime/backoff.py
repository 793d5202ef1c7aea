"""Jittered exponential back-off for reconnecting ("full jitter": uniform in [0, min(max, base*2^n)]).

The device's sync agent waits this long between connection attempts; any loop that retries a
remote (broker, database) may use it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """``next_delay()`` for the next wait (at least ``min_s / 2``), ``reset()`` after a success."""

    min_s: float
    max_s: float
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.max_s, self.min_s * (2 ** min(self.attempts, 32)))
        self.attempts += 1
        return max(self.min_s / 2, self.rng.uniform(0, ceiling))

    def reset(self) -> None:
        self.attempts = 0
