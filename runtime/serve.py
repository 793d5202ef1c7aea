"""Serve until a signal: the one run/stop lifecycle every long-running Tillsight process shares.

``run_until_signal(run, stop, what=...)`` installs SIGTERM and SIGINT handlers, calls ``run()`` (which
blocks: a WSGI server, an agent's loop, an ingest worker's loop) and, on the first signal, tells
systemd the service is stopping (``STOPPING=1``, when a :class:`~runtime.notify.ServiceSupervisor` is
given) and calls ``stop()`` so that ``run()`` returns.  An exception of a type in ``expected_on_stop``
raised by ``run()`` after a stop was asked for (waitress's loop on its closed socket) is the normal
way out, not an error.  The previous handlers are restored afterwards.

``wsgi_server(app, host, port, tls=...)`` gives the server both web apps run under, and its port:
waitress for plain HTTP (loopback only: :func:`runtime.tls.web_tls` decides), cheroot with Python's
``ssl`` for HTTPS (waitress speaks no TLS).  Both have ``run()`` (blocks) and ``close()``.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from runtime.notify import ServiceSupervisor
from runtime.tls import PlainHttpRefused, TlsFiles, is_loopback
from runtime.tls import context as tls_context

if TYPE_CHECKING:
    from waitress.server import TcpWSGIServer

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def run_until_signal(run: Callable[[], Any], stop: Callable[[], Any], *, what: str,
                     service: ServiceSupervisor | None = None,
                     expected_on_stop: tuple[type[BaseException], ...] = ()) -> threading.Event:
    """Run ``run()`` until it returns; a SIGTERM or SIGINT calls ``stop()``.  Returns the event that
    says whether a signal asked for the stop."""
    requested = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        if requested.is_set():
            return
        requested.set()
        log.info("signal %s: stopping %s", signal.Signals(signum).name, what)
        if service is not None:
            service.stopping()
        stop()

    previous = {sig: signal.signal(sig, _on_signal) for sig in STOP_SIGNALS}
    try:
        run()
    except expected_on_stop:
        if not requested.is_set():
            raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return requested


class TlsWsgiServer:
    """cheroot serving one WSGI app over HTTPS; ``run()`` blocks until ``close()``."""

    def __init__(self, app: Any, host: str, port: int, tls: TlsFiles, threads: int = 8,
                 ident: str | None = None) -> None:
        from cheroot.ssl.builtin import BuiltinSSLAdapter
        from cheroot.wsgi import Server

        self.server = Server((host, port), app, numthreads=threads, server_name=ident or "tillsight")
        adapter = BuiltinSSLAdapter(str(tls.cert), str(tls.key))
        adapter.context = tls_context(tls)  # TLS 1.2 or newer, the key checked against the certificate
        self.server.ssl_adapter = adapter
        self._closing = threading.Event()
        self.server.prepare()  # binds now, so the port is known and a busy one fails here
        bound = self.server.bind_addr
        self.port = int(bound[1]) if isinstance(bound, tuple) else port

    def run(self) -> None:
        """Serve in a thread and wait here: ``close()`` is called from a signal handler, which may
        interrupt cheroot's own loop while it holds a lock that ``stop()`` needs, so the stop is
        done here, after the handler returned."""
        thread = threading.Thread(target=self.server.serve, name="https-server", daemon=True)
        thread.start()
        try:
            while not self._closing.wait(0.5) and thread.is_alive():
                pass
        finally:
            self.server.stop()
            thread.join(30)

    def close(self) -> None:
        self._closing.set()


def wsgi_server(app: Any, host: str, port: int, *, tls: TlsFiles | None = None,
                **options: Any) -> tuple[TcpWSGIServer | TlsWsgiServer, int]:
    """The server for one host and port, and the port it listens on (``port=0``: a free one): HTTPS
    with ``tls``, plain HTTP (waitress) without, which only a loopback host may have."""
    if tls is not None:
        server = TlsWsgiServer(app, host, port, tls, threads=int(options.get("threads", 8)),
                               ident=options.get("ident"))
        return server, server.port
    if not is_loopback(host):
        raise PlainHttpRefused(f"plain HTTP on {host}: PINs and cookies would cross the LAN in clear (serve HTTPS)")
    return plain_wsgi_server(app, host, port, **options)


def plain_wsgi_server(app: Any, host: str, port: int, **options: Any) -> tuple[TcpWSGIServer, int]:
    """A waitress server (plain HTTP) for one host and port, and its port."""
    from waitress.server import TcpWSGIServer, create_server

    server = create_server(app, host=host, port=port, **options)
    if not isinstance(server, TcpWSGIServer):  # several listen addresses or a unix socket: not what was asked
        raise ValueError(f"{host}:{port} did not give one TCP server ({type(server).__name__})")
    bound = server.effective_port  # type: ignore[attr-defined]  # set in __init__; types-waitress leaves it out
    return server, int(bound)
