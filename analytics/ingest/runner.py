"""The ingest worker as a process: ``tillsight hub ingest --config FILE``."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from sqlalchemy.exc import SQLAlchemyError

from analytics.ingest.worker import IngestWorker
from firmware_config import ConfigError, load_config

log = logging.getLogger(__name__)


def run_ingest(config_path: str | None, client_id: str | None = None) -> int:
    """Run until SIGTERM or SIGINT; returns the exit status (2 = bad config or database)."""
    try:
        cfg = load_config(config_path)
        worker = IngestWorker(cfg.hub.database_url, cfg.mqtt, group=cfg.hub.ingest_group,
                              client_id=client_id, settings=cfg.hub)
    except (ConfigError, SQLAlchemyError, ValueError) as exc:
        log.error("%s", exc)
        return 2

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: stopping the ingest worker", signal.Signals(signum).name)
        worker.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        worker.run()
    except SQLAlchemyError as exc:
        log.error("hub database: %s", exc)
        return 2
    return 0
