"""A web server's liveness as a counter (``runtime.selfcheck``): it grows while the server answers and
stops when every server thread hangs, which is what the hub web app's watchdog watches."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from waitress import create_server

from runtime.notify import ProgressProbe, ProgressWatchdog, ServiceNotifier
from runtime.selfcheck import HttpSelfCheck
from tests.support.wait import wait_for


@pytest.fixture
def hanging_server() -> Iterator[tuple[int, threading.Event, threading.Event]]:
    """A one-thread waitress server whose /hang view blocks until released."""
    app = Flask(__name__)
    entered, release = threading.Event(), threading.Event()

    @app.get("/login")
    def login() -> str:
        return "login"

    @app.get("/hang")
    def hang() -> str:
        entered.set()
        release.wait(30)
        return "done"

    server = create_server(app, host="127.0.0.1", port=0, threads=1)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield int(server.effective_port), entered, release
    release.set()
    server.close()
    thread.join(5)


def test_answers_grow_while_served_and_stop_when_the_server_hangs(hanging_server) -> None:
    port, entered, release = hanging_server
    check = HttpSelfCheck("0.0.0.0", port, "/login", interval_s=0.05, timeout_s=0.5)
    assert check.host == "127.0.0.1"  # a wildcard bind is checked over loopback
    wd = ProgressWatchdog(ServiceNotifier(None), [ProgressProbe("web server", check)], stale_after_s=1.0)
    check.start()
    try:
        wait_for(lambda: check.answers >= 3, 10, "answers from a serving server")
        assert wd.check() == []
        threading.Thread(target=lambda: HttpSelfCheck("127.0.0.1", port, "/hang", timeout_s=30).check(),
                         daemon=True).start()
        assert entered.wait(10)  # the only server thread is stuck now
        wait_for(lambda: wd.check() == ["web server"], 10, "the stall noticed")
        stuck = check.answers
        wait_for(lambda: check.answers == stuck and wd.check() == ["web server"], 2, "no answers while hung")
        release.set()
        wait_for(lambda: check.answers > stuck, 10, "answers again once the thread is free")
    finally:
        check.stop()
