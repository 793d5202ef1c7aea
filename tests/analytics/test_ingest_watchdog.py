"""The hub ingest worker as systemd runs it (``tillsight-ingest@.service``: ``Type=notify`` with
``WatchdogSec``), against a stand-in ``NOTIFY_SOCKET``, a real broker and a real device sync agent.

``tillsight hub ingest`` must say READY=1, report in STATUS once the broker granted its
subscriptions, keep pinging while it stores sales, and stop pinging -- while still alive -- once a
database write hangs (here: another connection holds the hub database's write lock, so the batch
commit waits out SQLite's 30 s busy timeout), as the device's vision loop does when a camera read
hangs.  When the write goes through, the pings resume and nothing was lost."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analytics.db import make_engine, migrate
from analytics.db import tables as t
from edge.sync import SyncAgent
from tests.conftest import REPO
from tests.runtime.notify_listener import NotifyListener, listener_fixture, notify_env, short_dir_fixture  # noqa: F401
from tests.support.device import record_sales, seeded_store
from tests.support.fixtures import make_config, write_config
from tests.support.hubdb import count, register_devices
from tests.support.mosquitto import MosquittoBroker

WATCHDOG_S = 3.0  # pings every 1 s; the loop counts as stalled after 1.5 s without a turn


@pytest.mark.slow
def test_ingest_is_ready_after_suback_pings_while_storing_and_stops_when_a_write_hangs(
        tmp_path: Path, broker: MosquittoBroker, listener: NotifyListener) -> None:
    cfg = make_config(broker, tmp_path)
    config = write_config(cfg, tmp_path / "hub.yaml")
    hub_db = Path(cfg.hub.database_url.removeprefix("sqlite:///"))
    engine = make_engine(cfg.hub.database_url)
    migrate(engine)
    register_devices(engine)
    log = tmp_path / "ingest.log"
    broker_at = f"{broker.host}:{broker.port}"
    with open(log, "wb") as out:
        # what tillsight-ingest@.service runs
        proc = subprocess.Popen([sys.executable, "-m", "tillsight_cli.main", "hub", "ingest", "--config", str(config),
                                 "--client-id", "hub-ingest-wd"], cwd=REPO,
                                env=notify_env(listener, int(WATCHDOG_S * 1e6)), stdout=out, stderr=subprocess.STDOUT)
    store = seeded_store(tmp_path / "device" / "store.db")
    agent = SyncAgent(store, cfg)
    lock: sqlite3.Connection | None = None
    try:
        listener.wait_for(lambda: listener.times("READY") != [], 60, "no READY=1 from the ingest worker", proc, log)
        listener.wait_for(lambda: any(s.startswith(f"subscribed at {broker_at}") for s in listener.statuses()), 30,
                          "the status never said the broker granted the subscriptions", proc, log)
        agent.start()
        made = record_sales(store, 5)
        listener.wait_for(lambda: count(engine, t.transactions) == made, 30, "the first sales at the hub", proc, log)
        listener.wait_for(lambda: len(listener.times("WATCHDOG")) >= 3, 30, "no repeated pings", proc, log)

        # another connection takes the hub database's write lock: the worker's next commit hangs
        lock = sqlite3.connect(hub_db, isolation_level=None, timeout=30)
        lock.execute("BEGIN IMMEDIATE")
        made += record_sales(store, 5)
        listener.wait_for(lambda: "ingest loop has made no progress" in log.read_text(errors="replace"), 20,
                          "the hung database write was not noticed", proc, log)
        listener.wait_for(lambda: "ingest loop is stuck here" in log.read_text(errors="replace"), 10,
                          "no stack of the stuck ingest loop", proc, log)
        listener.wait_for(lambda: any(s.startswith("STALLED") for s in listener.statuses()), 10,
                          "no STALLED status", proc, log)
        pings = len(listener.times("WATCHDOG"))
        time.sleep(WATCHDOG_S * 1.5)  # longer than WatchdogSec: systemd would have restarted it by now
        assert proc.poll() is None, "the process must stay alive: restarting it is systemd's job"
        assert len(listener.times("WATCHDOG")) == pings, "pings went on while the database write hung"
        # (read through the lock's own connection: the hub engine's reads would wait for the lock too)
        assert lock.execute(f"SELECT count(*) FROM {t.transactions.name}").fetchone()[0] == made - 5

        lock.rollback()  # the write goes through: nothing lost, and the pings resume
        lock.close()
        lock = None
        listener.wait_for(lambda: count(engine, t.transactions) == made and store.outbox.backlog() == 0, 30,
                          "the held sales at the hub", proc, log)
        resumed_at = time.monotonic()
        listener.wait_for(lambda: len(listener.times("WATCHDOG", after=resumed_at)) >= 2, 10,
                          "the pings did not resume", proc, log)
        assert "making progress again" in log.read_text(errors="replace")
    finally:
        if lock is not None:
            lock.close()
        agent.stop()
        store.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                assert proc.wait(30) == 0, log.read_text(errors="replace")[-3000:]
            except subprocess.TimeoutExpired:
                proc.kill()
                pytest.fail("the ingest worker did not stop on SIGTERM")
    listener.wait_for(lambda: listener.times("STOPPING") != [], 5, "no STOPPING=1 on SIGTERM")
