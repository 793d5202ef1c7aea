"""Serve until a signal (``runtime.serve``): SIGTERM stops the loop, says STOPPING=1, and the handlers
that were there before come back."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from runtime.notify import ServiceNotifier, ServiceSupervisor
from runtime.serve import run_until_signal
from tests.runtime.notify_listener import NotifyListener, listener_fixture, short_dir_fixture  # noqa: F401 - fixtures


def _signal_soon(sig: signal.Signals, started: threading.Event) -> None:
    def send() -> None:
        assert started.wait(5)
        os.kill(os.getpid(), sig)  # as systemd does: to the process

    threading.Thread(target=send, daemon=True).start()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_loop_and_says_stopping(sig: signal.Signals, listener: NotifyListener) -> None:
    before = signal.getsignal(sig)
    service = ServiceSupervisor([], notifier=ServiceNotifier(listener.address))
    started, stopped = threading.Event(), threading.Event()
    stops: list[int] = []

    def run() -> None:  # a service loop: it wakes now and then (a signal's handler runs in between)
        started.set()
        deadline = time.monotonic() + 10
        while not stopped.wait(0.05):
            assert time.monotonic() < deadline, "stop() was never called"

    def stop() -> None:
        stops.append(1)
        stopped.set()

    _signal_soon(sig, started)
    requested = run_until_signal(run, stop, what="the test loop", service=service)
    assert requested.is_set() and stops == [1]
    listener.wait_for(lambda: listener.times("STOPPING") != [], 5, "no STOPPING=1")
    assert signal.getsignal(sig) == before
    service.close()


def test_an_error_on_the_way_out_is_expected_only_after_a_stop() -> None:
    started, closed = threading.Event(), threading.Event()

    def serve() -> None:  # like waitress: its loop fails on the socket closed under it
        started.set()
        while not closed.wait(0.05):
            pass
        raise OSError("bad file descriptor")

    _signal_soon(signal.SIGTERM, started)
    assert run_until_signal(serve, closed.set, what="a server", expected_on_stop=(OSError,)).is_set()

    def broken() -> None:
        raise OSError("address in use")

    with pytest.raises(OSError, match="address in use"):
        run_until_signal(broken, lambda: None, what="a server", expected_on_stop=(OSError,))
