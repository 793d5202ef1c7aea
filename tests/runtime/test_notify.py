"""systemd's notify protocol and the progress-based watchdog (``runtime.notify``), against a
stand-in ``NOTIFY_SOCKET``.  The real processes that use them are tested where they live: the
device's in tests/edge/test_service_notify.py, the hub ingest's in tests/analytics/test_ingest_watchdog.py."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest

from runtime.notify import (
    LoopCounter,
    ProgressProbe,
    ProgressWatchdog,
    ServiceNotifier,
    ServiceSupervisor,
    parse_notify_socket,
    parse_watchdog,
)
from tests.runtime.notify_listener import NotifyListener, listener_fixture, short_dir_fixture  # noqa: F401 - fixtures

# --- the protocol ---------------------------------------------------------------------------


def test_socket_addresses() -> None:
    assert parse_notify_socket("/run/systemd/notify") == "/run/systemd/notify"
    assert parse_notify_socket("@/org/freedesktop/systemd1/notify/42") == "\0/org/freedesktop/systemd1/notify/42"
    for bad in ("relative/path", "@", "vsock:2:1234"):
        with pytest.raises(ValueError, match="NOTIFY_SOCKET"):
            parse_notify_socket(bad)


def test_watchdog_timeout_from_the_environment(caplog: pytest.LogCaptureFixture) -> None:
    assert parse_watchdog({}) is None
    assert parse_watchdog({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert parse_watchdog({"WATCHDOG_USEC": "2500000", "WATCHDOG_PID": str(os.getpid())}) == 2.5
    # set by systemd for another process (a parent that exec'd a helper): not ours to ping
    assert parse_watchdog({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid() + 1)}) is None
    with caplog.at_level(logging.WARNING):
        assert parse_watchdog({"WATCHDOG_USEC": "soon"}) is None
        assert parse_watchdog({"WATCHDOG_USEC": "0"}) is None
    assert "WATCHDOG_USEC" in caplog.text


def test_ready_status_stopping_and_pings_reach_the_socket(listener: NotifyListener) -> None:
    notifier = ServiceNotifier.from_env({"NOTIFY_SOCKET": listener.env_value, "WATCHDOG_USEC": "4000000"})
    assert notifier.enabled and notifier.watchdog_s == 4.0
    assert notifier.ready("serving on\nhttp://x:8080")
    assert notifier.watchdog()
    assert notifier.status("camera reconnecting")
    assert notifier.stopping()
    listener.wait_for(lambda: len(listener.snapshot()) == 4, 5, "four datagrams")
    fields = [f for _, f in listener.snapshot()]
    # a newline in a status would start a new assignment: it is folded into one line
    assert fields[0] == {"READY": "1", "STATUS": "serving on http://x:8080"}
    assert fields[1] == {"WATCHDOG": "1"}
    assert fields[2] == {"STATUS": "camera reconnecting"}
    assert fields[3] == {"STOPPING": "1", "STATUS": "stopping"}
    notifier.close()


def test_abstract_socket(short_dir: Path) -> None:
    lst = NotifyListener(f"\0tillsight-test-{os.getpid()}-{short_dir.name}")
    try:
        notifier = ServiceNotifier.from_env({"NOTIFY_SOCKET": lst.env_value})
        assert lst.env_value.startswith("@")
        assert notifier.ready("up")
        lst.wait_for(lambda: lst.times("READY") != [], 5, "READY on an abstract socket")
        assert notifier.watchdog_s is None
    finally:
        lst.close()


def test_outside_systemd_everything_is_a_no_op() -> None:
    notifier = ServiceNotifier.from_env({})
    assert not notifier.enabled
    assert not notifier.ready("x") and not notifier.watchdog() and not notifier.stopping()
    supervisor = ServiceSupervisor([ProgressProbe("loop", lambda: 0)], notifier=notifier)
    supervisor.ready("serving")
    assert supervisor.watchdog._thread is None  # no thread started for nobody
    supervisor.close()


def test_a_vanished_socket_is_logged_once_and_never_raises(short_dir: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    notifier = ServiceNotifier(str(short_dir / "gone.sock"), watchdog_s=10)
    with caplog.at_level(logging.WARNING, logger="runtime.notify"):
        assert notifier.ready("x") is False
        assert notifier.watchdog() is False
    assert caplog.text.count("cannot notify systemd") == 1


# --- the watchdog ---------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_pings_only_while_the_loop_makes_progress(listener: NotifyListener,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    notifier = ServiceNotifier(listener.address, watchdog_s=6.0)
    turns = LoopCounter()
    clock = FakeClock()
    wd = ProgressWatchdog(notifier, [ProgressProbe("vision loop", turns)], clock=clock,
                          status=lambda: f"{turns.value} turns")
    assert (wd.interval_s, wd.stale_after_s) == (2.0, 3.0)  # T/3 and T/2
    wd.check()  # baseline
    for _ in range(3):  # turning: a ping each time
        turns.tick()
        clock.now += 2
        assert wd.beat() is True
    clock.now += 2  # no turn for 2 s: still within T/2
    assert wd.beat() is True
    with caplog.at_level(logging.WARNING, logger="runtime.notify"):
        clock.now += 2  # 4 s without a turn: stalled
        assert wd.beat() is False
        clock.now += 2
        assert wd.beat() is False
        assert wd.stalled == {"vision loop"}
        turns.tick()  # it recovered (e.g. a slow camera reopen): pings resume
        clock.now += 2
        assert wd.beat() is True
    assert wd.pings == 5
    assert caplog.text.count("vision loop has made no progress for 4 s") == 1
    assert "making progress again" in caplog.text
    listener.wait_for(lambda: listener.statuses()[-1:] == ["4 turns"], 5, "the status after recovery")
    assert len(listener.times("WATCHDOG")) == 5
    assert listener.statuses() == ["1 turns", "2 turns", "3 turns", "STALLED: no progress from vision loop",
                                   "4 turns"]  # sent when it changes, not with every ping


def test_a_stall_logs_where_the_loop_is_stuck(listener: NotifyListener,
                                              caplog: pytest.LogCaptureFixture) -> None:
    release = threading.Event()

    def stuck_camera_read() -> None:
        release.wait(10)

    worker = threading.Thread(target=stuck_camera_read, name="stuck-worker", daemon=True)
    worker.start()
    clock = FakeClock()
    wd = ProgressWatchdog(ServiceNotifier(listener.address, watchdog_s=2.0),
                          [ProgressProbe("worker", lambda: 7, thread_name="stuck-worker")], clock=clock)
    wd.check()
    clock.now += 5
    with caplog.at_level(logging.ERROR, logger="runtime.notify"):
        assert wd.beat() is False
    release.set()
    assert "worker is stuck here" in caplog.text and "stuck_camera_read" in caplog.text
    assert listener.times("WATCHDOG") == []


def test_the_watchdog_thread_pings_on_its_own(listener: NotifyListener) -> None:
    turns = LoopCounter()
    notifier = ServiceNotifier(listener.address, watchdog_s=0.6)
    supervisor = ServiceSupervisor([ProgressProbe("loop", turns)], notifier=notifier)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.02):
            turns.tick()

    threading.Thread(target=loop, daemon=True).start()
    supervisor.ready("serving")
    try:
        listener.wait_for(lambda: len(listener.times("WATCHDOG")) >= 4, 10, "pings from the watchdog thread")
        stop.set()  # the loop stops turning: the pings stop
        listener.wait_for(lambda: supervisor.watchdog.stalled == {"loop"}, 10, "the stall was not noticed")
        time.sleep(0.2)  # a ping sent just before may still be on its way
        count = len(listener.times("WATCHDOG"))
        time.sleep(1.2)  # twice the watchdog timeout
        assert len(listener.times("WATCHDOG")) == count
    finally:
        supervisor.stopping()
        supervisor.close()
    assert listener.times("READY")
    listener.wait_for(lambda: listener.times("STOPPING") != [], 5, "no STOPPING=1")
