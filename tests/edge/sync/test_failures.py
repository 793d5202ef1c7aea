"""Crashes mid-stream over a real Mosquitto: nothing lost, nothing stored twice."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from analytics.db import make_engine, migrate
from analytics.db import tables as t
from analytics.ingest import IngestWorker
from edge.sync import SyncAgent
from tests.support.device import record_sales, seeded_store
from tests.support.fixtures import make_config, write_config
from tests.support.hubdb import count, device, distinct_tx, register_devices
from tests.support.mosquitto import MosquittoBroker
from tests.support.procs import agent_process, ingest_process
from tests.support.wait import wait_for

log = logging.getLogger(__name__)


@pytest.mark.slow
def test_broker_and_ingest_killed_mid_stream_lose_and_duplicate_nothing(tmp_path: Path,
                                                                       broker: MosquittoBroker) -> None:
    cfg = make_config(broker, tmp_path, backlog_alert_count=1_000_000)
    config_file = write_config(cfg, tmp_path / "hub.yaml")
    engine = make_engine(cfg.hub.database_url)
    migrate(engine)
    register_devices(engine)
    store = seeded_store(tmp_path / "device" / "store.db")
    ingest = ingest_process(config_file, "hub-crashy", tmp_path / "ingest-1.log")
    agent = SyncAgent(store, cfg)
    agent.start()
    try:
        record_sales(store, 1500, batch=100)
        wait_for(lambda: count(engine, t.transactions) >= 300, 30, "the first sales at the hub")
        broker.kill()  # SIGKILL mid-stream
        log.info("broker killed with %d at the hub", count(engine, t.transactions))
        record_sales(store, 500, batch=100)
        broker.start()
        wait_for(lambda: count(engine, t.transactions) >= 1700, 60, "sales after the broker restart")
        record_sales(store, 1000, batch=100)
        wait_for(lambda: count(engine, t.transactions) >= 1900, 30, "sales flowing again")
        ingest.kill()  # SIGKILL the ingest worker mid-stream
        log.info("ingest killed with %d at the hub", count(engine, t.transactions))
        record_sales(store, 500, batch=100)
        ingest = ingest_process(config_file, "hub-crashy", tmp_path / "ingest-2.log")
        made = int(store.db.scalar("SELECT count(*) FROM sales"))
        assert made == 3500
        wait_for(lambda: count(engine, t.transactions) >= made and store.outbox.backlog() == 0, 90,
                 "every sale at the hub")
        time.sleep(1.0)
        assert count(engine, t.transactions) == made
        assert distinct_tx(engine) == made
        assert store.outbox.backlog() == 0
        dev = device(engine, "s-001", "till-1")
        assert dev is not None and dev["last_seq"] == made
        wait_for(lambda: (device(engine, "s-001", "till-1") or {}).get("gaps") == 0, 30, "no open gaps")
    finally:
        agent.stop()
        ingest.terminate()
        store.close()
        log.info("ingest logs:\n%s", (tmp_path / "ingest-1.log").read_text()[-3000:])


@pytest.mark.slow
def test_two_ingest_workers_share_the_load_without_duplicates(tmp_path: Path, broker: MosquittoBroker) -> None:
    cfg = make_config(broker, tmp_path, backlog_alert_count=1_000_000)
    # Two workers store alternate sales, so short-lived gaps are normal; no resend should be asked for here.
    cfg.hub.resend_after_s = 120.0
    engine = make_engine(cfg.hub.database_url)
    migrate(engine)
    register_devices(engine)
    workers = [IngestWorker(cfg.hub.database_url, cfg.mqtt, client_id=f"hub-w{i}", settings=cfg.hub)
               for i in (1, 2)]
    for w in workers:
        w.start()
    wait_for(lambda: all(w.ready.is_set() for w in workers), 10, "the broker granted both workers' subscriptions")
    store = seeded_store(tmp_path / "device" / "store.db")
    agent = SyncAgent(store, cfg)
    agent.start()
    try:
        made = record_sales(store, 2000, batch=200)
        wait_for(lambda: count(engine, t.transactions) >= made and store.outbox.backlog() == 0, 60,
                 "every sale at the hub")
        # a worker counts what it stored just after its commit: wait for the counts, not for a while
        wait_for(lambda: sum(w.stats.outcomes["stored"] for w in workers) >= made, 10, "the workers' counts")
        stored = [w.stats.outcomes["stored"] for w in workers]
        log.info("sales stored per worker: %s", stored)
        assert all(n > 0 for n in stored), stored
        assert sum(stored) == made
        assert [w.stats.outcomes["duplicate"] for w in workers] == [0, 0]
        assert agent.published == made  # nothing was sent twice
        assert count(engine, t.transactions) == made == distinct_tx(engine)
    finally:
        agent.stop()
        for w in workers:
            w.stop()
        store.close()


@pytest.mark.slow
def test_killed_agent_is_marked_offline_by_its_last_will(tmp_path: Path, broker: MosquittoBroker) -> None:
    cfg = make_config(broker, tmp_path)
    config_file = write_config(cfg, tmp_path / "device.yaml")
    engine = make_engine(cfg.hub.database_url)
    migrate(engine)
    register_devices(engine)
    worker = IngestWorker(cfg.hub.database_url, cfg.mqtt, client_id="hub-lw", settings=cfg.hub)
    worker.start()
    wait_for(worker.ready.is_set, 10, "the broker granted the worker's subscriptions")
    seeded_store(tmp_path / "device" / "store.db").close()
    agent = agent_process(config_file, tmp_path / "agent.log")
    try:
        wait_for(lambda: (device(engine, "s-001", "till-1") or {}).get("online") is True, 20,
                 "the device online at the hub")
        agent.kill()
        wait_for(lambda: (device(engine, "s-001", "till-1") or {}).get("online") is False, 20,
                 "the Last Will marking the device offline")
        assert device(engine, "s-001", "till-1")["status_reason"] == "connection lost"
    finally:
        agent.kill()
        worker.stop()


@pytest.mark.slow
def test_sigterm_stops_the_agent_cleanly_with_an_offline_status(tmp_path: Path, broker: MosquittoBroker) -> None:
    cfg = make_config(broker, tmp_path)
    config_file = write_config(cfg, tmp_path / "device.yaml")
    engine = make_engine(cfg.hub.database_url)
    migrate(engine)
    register_devices(engine)
    worker = IngestWorker(cfg.hub.database_url, cfg.mqtt, client_id="hub-term", settings=cfg.hub)
    worker.start()
    wait_for(worker.ready.is_set, 10, "the broker granted the worker's subscriptions")
    store = seeded_store(tmp_path / "device" / "store.db")
    record_sales(store, 20)
    agent = agent_process(config_file, tmp_path / "agent.log")
    try:
        wait_for(lambda: count(engine, t.transactions) == 20, 20, "the sales at the hub")
        assert agent.terminate() == 0, agent.log()
        wait_for(lambda: (device(engine, "s-001", "till-1") or {}).get("online") is False, 10, "offline")
        assert device(engine, "s-001", "till-1")["status_reason"] == "shutdown"
        assert store.outbox.backlog() == 0
    finally:
        agent.kill()
        worker.stop()
        store.close()
