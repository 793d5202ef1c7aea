"""A web server's own liveness, as a counter the service watchdog can watch.

A WSGI server has no loop of ours to count, so :class:`HttpSelfCheck` asks the process's own
server for a page every ``interval_s`` over loopback and counts every HTTP answer (any status: a
database outage answered with a 500 is still a server that answers).  When every worker thread
hangs, or the accept loop does, the answers stop, the counter stops, and
:class:`runtime.notify.ProgressWatchdog` withholds systemd's watchdog pings.
"""

from __future__ import annotations

import http.client
import logging
import ssl
import threading

log = logging.getLogger(__name__)

WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}


class HttpSelfCheck:
    """``check()`` once, or ``start()`` a thread that checks every ``interval_s``; ``answers`` counts."""

    def __init__(self, host: str, port: int, path: str = "/", *, interval_s: float = 5.0,
                 timeout_s: float = 10.0, tls: bool = False) -> None:
        self.host = WILDCARD_HOSTS.get(host, host)
        self.tls = tls  # the server speaks HTTPS: asked over TLS, its certificate not checked (it is our own)
        self.port = port
        self.path = path
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.answers = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self) -> int:
        return self.answers

    def check(self) -> bool:
        conn = (http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout_s,
                                            context=ssl._create_unverified_context())
                if self.tls else http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s))
        try:
            conn.request("GET", self.path, headers={"User-Agent": "tillsight-selfcheck"})
            conn.getresponse().read()
        except (OSError, http.client.HTTPException) as exc:
            log.debug("self-check of http://%s:%s%s failed: %s", self.host, self.port, self.path, exc)
            return False
        finally:
            conn.close()
        self.answers += 1
        return True

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="web-selfcheck", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.check()
            self._stop.wait(self.interval_s)
