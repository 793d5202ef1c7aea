"""The ingest worker as a process: ``tillsight hub ingest --config FILE`` (``tillsight-ingest@.service``).

It migrates the hub database, tells systemd it is ready (``Type=notify``) and runs the worker's loop
until SIGTERM or SIGINT.  The service watchdog (``runtime.notify``) pings systemd only while the
worker's loop turns: a database write that hangs stops the pings and systemd restarts the worker;
a broker or database outage that the loop waits out does not.  ``STATUS=`` says whether the broker
has granted the subscriptions (``IngestWorker.ready``) and what was stored.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from analytics.ingest.worker import IngestWorker
from firmware_config import ConfigError, load_config
from runtime.notify import ProgressProbe, ServiceSupervisor
from runtime.serve import run_until_signal

log = logging.getLogger(__name__)


def _status(worker: IngestWorker, broker: str) -> str:
    state = "subscribed at" if worker.ready.is_set() else "waiting for the broker's SUBACK at"
    return (f"{state} {broker}; stored {worker.stats.outcomes['stored']}, "
            f"acknowledged {worker.stats.acked} since start")


def run_ingest(config_path: str | None, client_id: str | None = None) -> int:
    """Run until SIGTERM or SIGINT; returns the exit status (2 = bad config or database)."""
    try:
        cfg = load_config(config_path)
        worker = IngestWorker(cfg.hub.database_url, cfg.mqtt, group=cfg.hub.ingest_group,
                              client_id=client_id, settings=cfg.hub)
        worker.prepare()
    except (ConfigError, SQLAlchemyError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    broker = f"{cfg.mqtt.host}:{cfg.mqtt.port}"
    # run() is the main thread's loop here: its stack is the one to log when it hangs
    service = ServiceSupervisor([ProgressProbe("ingest loop", worker.turns, "MainThread")],
                                status=lambda: _status(worker, broker))
    service.ready(f"ingest worker {worker.client_id} (group {worker.group}), broker {broker}")
    try:
        run_until_signal(worker.run, worker.request_stop, what="the ingest worker", service=service)
    except SQLAlchemyError as exc:
        log.error("hub database: %s", exc)
        return 2
    finally:
        service.close()
    return 0
