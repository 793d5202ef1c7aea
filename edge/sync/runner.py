"""The sync agent as a process: ``tillsight sync run --config FILE [--data-dir DIR]``."""

from __future__ import annotations

import logging
from pathlib import Path

from edge.store import DeviceIdentity, Store
from edge.store.errors import StoreError
from edge.sync.agent import SyncAgent
from firmware_config import ConfigError, load_config
from runtime.notify import LoopCounter, ProgressProbe, ServiceSupervisor
from runtime.serve import run_until_signal

log = logging.getLogger(__name__)


def run_sync_agent(config_path: str | None, data_dir: str | None = None) -> int:
    """Run until SIGTERM or SIGINT; returns the process exit status (2 = bad config or store)."""
    overrides: dict[str, object] = {"data_dir": data_dir} if data_dir else {}
    try:
        cfg = load_config(config_path, overrides=overrides)
        store = Store(Path(cfg.data_dir) / "store.db", identity=DeviceIdentity(cfg.store.store_id, cfg.store.device_id))
    except (ConfigError, StoreError) as exc:
        log.error("%s", exc)
        return 2
    try:
        agent = SyncAgent(store, cfg)
    except ValueError as exc:  # missing TLS files, the fleet agent's keys or state file
        log.error("%s", exc)
        store.close()
        return 2

    turns = LoopCounter()
    agent.on_tick = turns.tick
    broker = f"{cfg.mqtt.host}:{cfg.mqtt.port}"
    probes = [ProgressProbe("sync agent loop", turns)]
    if agent.fleet is not None:  # a hung or dead update worker would otherwise go unnoticed
        fleet = agent.fleet
        probes.append(ProgressProbe("fleet agent", lambda: fleet.turns, "fleet-agent"))
    service = ServiceSupervisor(probes, status=lambda: (
        f"{'connected to' if agent.connected.is_set() else 'offline, retrying'} {broker}; "
        f"sent {agent.acked} since start"))
    service.ready(f"sync agent for {cfg.store.store_id}/{cfg.store.device_id}, broker {broker}")
    try:
        run_until_signal(agent.run, agent.request_stop, what="the sync agent", service=service)
    finally:
        service.close()
        store.close()
    return 0
