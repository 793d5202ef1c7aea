"""Serve until a signal: the one run/stop lifecycle every long-running Tillsight process shares.

``run_until_signal(run, stop, what=...)`` installs SIGTERM and SIGINT handlers, calls ``run()`` (which
blocks: a WSGI server, an agent's loop, an ingest worker's loop) and, on the first signal, tells
systemd the service is stopping (``STOPPING=1``, when a :class:`~runtime.notify.ServiceSupervisor` is
given) and calls ``stop()`` so that ``run()`` returns.  An exception of a type in ``expected_on_stop``
raised by ``run()`` after a stop was asked for (waitress's loop on its closed socket) is the normal
way out, not an error.  The previous handlers are restored afterwards.

``wsgi_server(app, host, port)`` gives the waitress server both web apps run under it, and its port.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any

from runtime.notify import ServiceSupervisor

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


def wsgi_server(app: Any, host: str, port: int, **options: Any) -> tuple[TcpWSGIServer, int]:
    """A waitress server for one host and port, and the port it listens on (``port=0``: a free one)."""
    from waitress.server import TcpWSGIServer, create_server

    server = create_server(app, host=host, port=port, **options)
    if not isinstance(server, TcpWSGIServer):  # several listen addresses or a unix socket: not what was asked
        raise ValueError(f"{host}:{port} did not give one TCP server ({type(server).__name__})")
    bound = server.effective_port  # type: ignore[attr-defined]  # set in __init__; types-waitress leaves it out
    return server, int(bound)
