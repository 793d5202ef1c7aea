"""systemd service notification: the ``sd_notify`` protocol and a progress-based watchdog.

A unit with ``Type=notify`` and ``WatchdogSec=`` (see ``systemd/``) starts the process with
``NOTIFY_SOCKET`` (a unix datagram socket: a file path, or ``@name`` for one in the abstract
namespace) and ``WATCHDOG_USEC`` (the watchdog timeout in microseconds; ``WATCHDOG_PID``, when set,
names the process it is meant for).  The process sends newline-separated assignments:
``READY=1`` once it serves, ``STATUS=...`` (what ``systemctl status`` shows), ``STOPPING=1`` when
it shuts down and ``WATCHDOG=1`` at least once per timeout.  Without ``NOTIFY_SOCKET`` (a shell, a
test, ``make demo``) every call is a no-op.

The pings come from :class:`ProgressWatchdog`, not from a bare timer: a thread that sends
``WATCHDOG=1`` only while every watched loop has made progress recently (its counter grew within
``stale_after_s``).  The device's vision loop counter stops when a camera read or an inference
hangs, the sync agent's when its loop hangs, the hub ingest worker's when a database write hangs,
the hub web app's when it stops answering its own requests; the pings stop, systemd kills the
process after ``WatchdogSec`` (SIGABRT; ``PYTHONFAULTHANDLER`` in the unit prints every thread's
stack to the journal) and restarts it.  A camera that is merely unplugged, or a broker or database
that is down while the loop keeps retrying, does *not* stop the pings: the loop keeps turning
(see docs/operations.md).

Used by the device (``tillsight run``, ``tillsight sync run``) and the hub (``tillsight hub ingest``,
``tillsight hub web``) alike: this module is the one copy.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

ENV_SOCKET = "NOTIFY_SOCKET"
ENV_WATCHDOG_USEC = "WATCHDOG_USEC"
ENV_WATCHDOG_PID = "WATCHDOG_PID"

# Without a watchdog timeout from systemd (STATUS updates only): how often to look, when to call a
# loop stalled (for the log).
DEFAULT_INTERVAL_S = 5.0
DEFAULT_STALE_AFTER_S = 30.0


def parse_notify_socket(value: str) -> str:
    """The address to send to: an absolute path as is, ``@name`` as the abstract ``\\0name``."""
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    raise ValueError(f"unsupported {ENV_SOCKET} {value!r} (expected an absolute path or an @abstract name)")


def parse_watchdog(env: Mapping[str, str], pid: int | None = None) -> float | None:
    """The watchdog timeout in seconds, or None when there is none or it is meant for another process."""
    raw = env.get(ENV_WATCHDOG_USEC, "").strip()
    if not raw:
        return None
    try:
        usec = int(raw)
    except ValueError:
        log.warning("ignoring %s=%r: not a whole number of microseconds", ENV_WATCHDOG_USEC, raw)
        return None
    if usec <= 0:
        log.warning("ignoring %s=%r: must be > 0", ENV_WATCHDOG_USEC, raw)
        return None
    target = env.get(ENV_WATCHDOG_PID, "").strip()
    if target:
        try:
            target_pid = int(target)
        except ValueError:
            log.warning("ignoring the watchdog: %s=%r is not a process id", ENV_WATCHDOG_PID, target)
            return None
        if target_pid != (os.getpid() if pid is None else pid):
            return None  # set for a parent or a sibling, not for us
    return usec / 1_000_000


def _one_line(text: str) -> str:
    """STATUS= takes one line (a newline would start the next assignment)."""
    return " ".join(text.split())[:500]


class ServiceNotifier:
    """Sends ``sd_notify`` messages; never raises (a failure is logged once until a send works)."""

    def __init__(self, address: str | None, watchdog_s: float | None = None) -> None:
        self.address = address
        self.watchdog_s = watchdog_s if address is not None else None
        self.sent = 0
        self._sock: socket.socket | None = None
        # Reentrant: a signal handler (STOPPING=1) may run while the main thread is mid-send.
        self._lock = threading.RLock()
        self._warned = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServiceNotifier:
        env = os.environ if env is None else env
        raw = env.get(ENV_SOCKET, "")
        if not raw:
            return cls(None)
        try:
            address = parse_notify_socket(raw)
        except ValueError as exc:
            log.warning("%s: not notifying systemd", exc)
            return cls(None)
        return cls(address, parse_watchdog(env))

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *assignments: str) -> bool:
        """Send ``KEY=value`` assignments in one datagram; True when it was sent."""
        if self.address is None or not assignments:
            return False
        data = "\n".join(assignments).encode("utf-8")
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.sendto(data, self.address)
            except OSError as exc:
                if not self._warned:
                    log.warning("cannot notify systemd at %r: %s", self.address.replace("\0", "@"), exc)
                    self._warned = True
                return False
            self._warned = False
            self.sent += 1
            return True

    def ready(self, status: str | None = None) -> bool:
        fields = ["READY=1"]
        if status:
            fields.append(f"STATUS={_one_line(status)}")
        return self.notify(*fields)

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={_one_line(text)}")

    def stopping(self, status: str = "stopping") -> bool:
        return self.notify("STOPPING=1", f"STATUS={_one_line(status)}")

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


@dataclass(frozen=True)
class ProgressProbe:
    """A loop the watchdog watches: ``counter()`` must keep growing while the loop works."""

    name: str  # for the log and STATUS, e.g. "vision loop"
    counter: Callable[[], int]
    thread_name: str | None = None  # whose stack is logged when the loop stalls


class LoopCounter:
    """A counter for a loop that has none of its own: call ``tick()`` once per turn."""

    def __init__(self) -> None:
        self.value = 0

    def tick(self) -> None:
        self.value += 1

    def __call__(self) -> int:
        return self.value


def thread_stack(name: str) -> str | None:
    """The current stack of the live thread called ``name`` (None if there is none)."""
    frames = sys._current_frames()
    for thread in threading.enumerate():
        if thread.name == name and thread.ident in frames:
            return "".join(traceback.format_stack(frames[thread.ident]))
    return None


class ProgressWatchdog:
    """Pings systemd's watchdog only while every probe's counter keeps growing.

    With a watchdog timeout ``T`` from systemd it looks every ``T/3`` and calls a loop stalled when
    its counter has not grown for ``T/2``: a hang is therefore noticed within about ``T/2 + T/3``
    and the service is killed at most ``T`` after the last ping.  ``status`` (optional) gives the
    ``STATUS=`` text while healthy; it is sent when it changes.
    """

    def __init__(self, notifier: ServiceNotifier, probes: Sequence[ProgressProbe], *,
                 stale_after_s: float | None = None, interval_s: float | None = None,
                 status: Callable[[], str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        timeout = notifier.watchdog_s
        self.notifier = notifier
        self.probes = tuple(probes)
        self.stale_after_s = stale_after_s or (timeout / 2 if timeout else DEFAULT_STALE_AFTER_S)
        self.interval_s = interval_s or (timeout / 3 if timeout else DEFAULT_INTERVAL_S)
        self.status = status
        self.pings = 0
        self._clock = clock
        self._seen: dict[str, tuple[int | None, float]] = {}  # name -> (count, when it last changed)
        self._stalled: set[str] = set()
        self._last_status: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stalled(self) -> frozenset[str]:
        return frozenset(self._stalled)

    def check(self) -> list[str]:
        """Note every probe's counter; return the names of those that have not grown for too long."""
        now = self._clock()
        stalled: list[str] = []
        for probe in self.probes:
            try:
                value: int | None = int(probe.counter())
            except Exception:  # a probe that cannot be read counts as no progress
                log.exception("watchdog probe %s failed", probe.name)
                value = None
            seen = self._seen.get(probe.name)
            if seen is None or (value is not None and value != seen[0]):
                self._seen[probe.name] = (value, now)
            elif now - seen[1] >= self.stale_after_s:
                stalled.append(probe.name)
        return stalled

    def beat(self) -> bool:
        """One turn: ping when every loop made progress, otherwise withhold the ping (and say why)."""
        stalled = self.check()
        for probe in self.probes:
            if probe.name in stalled and probe.name not in self._stalled:
                since = self._clock() - self._seen[probe.name][1]
                log.error("%s has made no progress for %.0f s: withholding watchdog pings, so systemd "
                          "restarts the service", probe.name, since)
                stack = thread_stack(probe.thread_name) if probe.thread_name else None
                if stack:
                    log.error("%s is stuck here:\n%s", probe.name, stack.rstrip())
            elif probe.name in self._stalled and probe.name not in stalled:
                log.warning("%s is making progress again; watchdog pings resume", probe.name)
        self._stalled = set(stalled)
        if stalled:
            self._send_status(f"STALLED: no progress from {', '.join(stalled)}")
            return False
        if self.notifier.watchdog_s is not None and self.notifier.watchdog():
            self.pings += 1
        if self.status is not None:
            try:
                self._send_status(self.status())
            except Exception:  # a status is a nicety; the ping went out
                log.debug("service status text failed", exc_info=True)
        return True

    def _send_status(self, text: str) -> None:
        if text != self._last_status and self.notifier.status(text):
            self._last_status = text

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="service-watchdog", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        self.check()  # the baseline: counting starts now
        while not self._stop.wait(self.interval_s):
            self.beat()


class ServiceSupervisor:
    """What a long-running Tillsight process does with systemd: ``ready()`` once it serves (this
    also starts the watchdog thread), ``stopping()`` on SIGTERM, ``close()`` on the way out."""

    def __init__(self, probes: Sequence[ProgressProbe], *, status: Callable[[], str] | None = None,
                 notifier: ServiceNotifier | None = None, stale_after_s: float | None = None) -> None:
        self.notifier = notifier or ServiceNotifier.from_env()
        self.watchdog = ProgressWatchdog(self.notifier, probes, status=status, stale_after_s=stale_after_s)

    def ready(self, status: str) -> None:
        if not self.notifier.enabled:
            return
        self.notifier.ready(status)
        log.info("told systemd the service is ready (watchdog %s)",
                 f"{self.notifier.watchdog_s:g} s" if self.notifier.watchdog_s else "off")
        self.watchdog.start()

    def stopping(self, status: str = "stopping") -> None:
        self.watchdog.stop(timeout_s=0)
        self.notifier.stopping(status)

    def close(self) -> None:
        self.watchdog.stop()
        self.notifier.close()
