"""The login throttle both web apps use: per (user, client) waits that grow and reset, a per-user
ceiling that loopback is exempt from, and an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from runtime.throttle import LoginThrottle, Throttled, ThrottlePolicy

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def wait_of(throttle: LoginThrottle, user: str, client: str, now: datetime) -> timedelta | None:
    try:
        throttle.check(user, client, now)
    except Throttled as exc:
        return exc.wait
    return None


def test_waits_double_past_the_free_failures_up_to_the_longest() -> None:
    throttle = LoginThrottle(ThrottlePolicy(free_failures=2, max_delay=timedelta(seconds=10)))
    waits = []
    now = T0
    for _ in range(7):
        throttle.failed("maria", "10.0.0.5", now)
        waits.append(wait_of(throttle, "maria", "10.0.0.5", now))
        now += timedelta(seconds=30)
    assert waits == [None, None, timedelta(seconds=2), timedelta(seconds=4), timedelta(seconds=8),
                     timedelta(seconds=10), timedelta(seconds=10)]
    assert wait_of(throttle, "maria", "10.0.0.6", now - timedelta(seconds=30)) is None  # another client


def test_success_and_a_quiet_period_reset_the_counters() -> None:
    throttle = LoginThrottle(ThrottlePolicy(free_failures=1, quiet_period=timedelta(minutes=10)))
    for _ in range(3):
        throttle.failed("luis", "a", T0)
    throttle.succeeded("luis", "a")
    assert throttle.failed("luis", "a", T0) == 1
    throttle.failed("luis", "a", T0)
    assert wait_of(throttle, "luis", "a", T0) is not None
    later = T0 + timedelta(minutes=10)
    assert wait_of(throttle, "luis", "a", later) is None and throttle.failures("luis", later) == 0
    assert throttle.failed("luis", "a", later) == 1


def test_the_user_ceiling_slows_every_client_but_loopback_and_clear_user_ends_it() -> None:
    throttle = LoginThrottle(ThrottlePolicy(free_failures=3, user_ceiling=5))
    for n in range(6):
        throttle.failed("owner", f"10.1.0.{n}", T0)
    assert wait_of(throttle, "owner", "10.9.9.9", T0) == timedelta(seconds=2)
    assert wait_of(throttle, "owner", "127.0.0.1", T0) is None
    assert throttle.blocked_until("owner", T0) == T0 + timedelta(seconds=2)
    throttle.clear_user("owner")
    assert wait_of(throttle, "owner", "10.9.9.9", T0) is None and throttle.failures("owner", T0) == 0


@pytest.mark.parametrize(("seconds", "text"), [(2, "in 2 seconds"), (89, "in 89 seconds"), (90, "in about 2 minutes"),
                                                (900, "in about 15 minutes")])
def test_the_wait_reads_as_a_person_would_say_it(seconds: int, text: str) -> None:
    assert Throttled(T0 + timedelta(seconds=seconds), T0).wait_text == text
