"""Login throttling both web apps use: slows guessing of PINs and passwords without letting anyone
lock a person out.

The old lock-out (5 failures lock the account for minutes) let anyone who could reach the login page
lock out any named person, and its counter never reset.  :class:`LoginThrottle` replaces it:

* Failures are counted per *(user, client)* (the client is the caller's address, plus the session's
  user for approvals made inside someone's session).  The first ``free_failures`` cost nothing; each
  further one makes that pair wait ``base_delay`` doubled per failure, up to ``max_delay``.  Another
  client is not slowed by these failures, so nobody can keep a person out from their own till.
* A per-user ceiling counts failures from every client.  It is set high (``user_ceiling``) so that only a
  guessing attack spread over many clients trips it; past it every client waits (growing, up to
  ``max_user_delay``), except the ``trusted_clients`` (loopback: a browser on the machine or an SSH
  tunnel), so the owner always has a way in.
* A success clears the pair's counter (and the user's ceiling count); counters also forget after
  ``quiet_period`` without failures.  An owner can clear a person's counters (:meth:`clear_user`).
* The clock is injected (``now`` arguments), so tests pass times and never sleep.

State lives in memory, not in a database: a restart forgets the counters, which only an administrator
of the machine can cause (an attacker on the LAN cannot restart the service), and each web app runs as
one process, so every request sees the same counters.  Nothing here must survive a restart.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(frozen=True)
class ThrottlePolicy:
    """How hard guessing is slowed.  The first two fields keep the order of the old lock-out
    settings (failures, minutes), so a configured ``lockout_failures`` / ``lockout_minutes`` reads as
    "failures that cost nothing" / "the longest wait"."""

    free_failures: int = 4
    max_delay: timedelta = timedelta(minutes=15)
    base_delay: timedelta = timedelta(seconds=2)
    user_ceiling: int = 50
    max_user_delay: timedelta = timedelta(minutes=5)
    quiet_period: timedelta = timedelta(hours=1)
    trusted_clients: frozenset[str] = LOOPBACK


class Throttled(Exception):
    """A try refused before any check because the caller must wait until ``retry_at`` (UTC)."""

    def __init__(self, retry_at: datetime, now: datetime) -> None:
        super().__init__(f"too many failed attempts: try again after {retry_at.isoformat()}")
        self.retry_at = retry_at
        self.wait = max(timedelta(0), retry_at - now)

    @property
    def wait_text(self) -> str:
        """``"in about 3 minutes"`` / ``"in 20 seconds"`` (rounded up)."""
        seconds = max(1, int(-(-self.wait.total_seconds() // 1)))
        if seconds < 90:
            return f"in {seconds} seconds"
        return f"in about {-(-seconds // 60)} minutes"


@dataclass
class _Count:
    failures: int = 0
    last_failure: datetime | None = None
    blocked_until: datetime | None = None

    def fresh(self, now: datetime, quiet: timedelta) -> _Count:
        if self.last_failure is not None and now - self.last_failure >= quiet:
            self.failures, self.last_failure, self.blocked_until = 0, None, None
        return self


@dataclass
class LoginThrottle:
    """Counters of failed logins and approvals; see the module docstring."""

    policy: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    _pairs: dict[tuple[str, str], _Count] = field(default_factory=dict, repr=False)
    _users: dict[str, _Count] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _delay(self, over: int, cap: timedelta) -> timedelta:
        return min(cap, self.policy.base_delay * (2 ** min(over - 1, 30)))

    def check(self, user: str, client: str, now: datetime) -> None:
        """Raise :class:`Throttled` if ``client`` must wait before trying ``user`` again."""
        with self._lock:
            waits = []
            pair = self._pairs.get((user, client))
            if pair is not None and pair.fresh(now, self.policy.quiet_period).blocked_until:
                waits.append(pair.blocked_until)
            total = self._users.get(user)
            if (total is not None and total.fresh(now, self.policy.quiet_period).blocked_until
                    and client not in self.policy.trusted_clients):
                waits.append(total.blocked_until)
            retry_at = max((w for w in waits if w is not None and w > now), default=None)
        if retry_at is not None:
            raise Throttled(retry_at, now)

    def failed(self, user: str, client: str, now: datetime) -> int:
        """Count a failure; returns the pair's failures in a row."""
        policy = self.policy
        with self._lock:
            pair = self._pairs.setdefault((user, client), _Count()).fresh(now, policy.quiet_period)
            pair.failures += 1
            pair.last_failure = now
            over = pair.failures - policy.free_failures
            pair.blocked_until = now + self._delay(over, policy.max_delay) if over > 0 else None
            total = self._users.setdefault(user, _Count()).fresh(now, policy.quiet_period)
            total.failures += 1
            total.last_failure = now
            over = total.failures - policy.user_ceiling
            total.blocked_until = now + self._delay(over, policy.max_user_delay) if over > 0 else None
            return pair.failures

    def succeeded(self, user: str, client: str) -> None:
        """A right secret: forget this pair's failures and the user's ceiling count."""
        with self._lock:
            self._pairs.pop((user, client), None)
            self._users.pop(user, None)

    def clear_user(self, user: str) -> None:
        """Forget every counter of ``user`` (an owner's "unlock")."""
        with self._lock:
            for key in [k for k in self._pairs if k[0] == user]:
                del self._pairs[key]
            self._users.pop(user, None)

    def failures(self, user: str, now: datetime) -> int:
        """Failures of ``user`` from every client since the last success or quiet period."""
        with self._lock:
            total = self._users.get(user)
            return total.fresh(now, self.policy.quiet_period).failures if total else 0

    def blocked_until(self, user: str, now: datetime) -> datetime | None:
        """The latest wait any client has for ``user`` (None if nobody must wait)."""
        with self._lock:
            waits = [c.blocked_until for (u, _), c in self._pairs.items() if u == user]
            if user in self._users:
                waits.append(self._users[user].blocked_until)
            latest = max((w for w in waits if w is not None and w > now), default=None)
        return latest
