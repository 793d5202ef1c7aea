"""The sync agent as a process: ``tillsight sync run --config FILE [--data-dir DIR]``."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from types import FrameType

from edge.store import Store
from edge.store.errors import StoreError
from edge.sync.agent import SyncAgent
from firmware_config import ConfigError, load_config

log = logging.getLogger(__name__)


def run_sync_agent(config_path: str | None, data_dir: str | None = None) -> int:
    """Run until SIGTERM or SIGINT; returns the process exit status (2 = bad config or store)."""
    overrides: dict[str, object] = {"data_dir": data_dir} if data_dir else {}
    try:
        cfg = load_config(config_path, overrides=overrides)
        store = Store(Path(cfg.data_dir) / "store.db")
    except (ConfigError, StoreError) as exc:
        log.error("%s", exc)
        return 2
    agent = SyncAgent(store, cfg)

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: stopping the sync agent", signal.Signals(signum).name)
        agent.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        agent.run()
    finally:
        store.close()
    return 0
