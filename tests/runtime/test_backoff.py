"""Back-off between reconnects: grows, is jittered, is capped, and starts again after a success."""

from __future__ import annotations

import random

from runtime.backoff import Backoff


def test_backoff_grows_is_jittered_and_capped() -> None:
    b = Backoff(1.0, 8.0, rng=random.Random(1))
    delays = [b.next_delay() for _ in range(50)]
    assert all(0.5 <= d <= 8.0 for d in delays)
    assert len({round(d, 3) for d in delays}) > 10  # jittered, not a fixed ladder
    assert max(delays[:1]) <= 1.0 and max(delays[10:]) > 4.0
    b.reset()
    assert b.next_delay() <= 1.0
