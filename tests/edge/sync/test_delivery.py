"""End to end over a real Mosquitto: device outbox -> sync agent -> broker -> hub ingest -> hub DB."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from analytics.db import make_engine, migrate
from analytics.db import tables as t
from analytics.ingest import IngestWorker
from edge.sync import SyncAgent
from tests.support.device import record_sales, seeded_store
from tests.support.fixtures import make_config
from tests.support.hubdb import count, distinct_tx, register_devices
from tests.support.mosquitto import MosquittoBroker
from tests.support.wait import wait_for

log = logging.getLogger(__name__)


@pytest.mark.slow
def test_ten_thousand_sales_made_offline_arrive_exactly_once(tmp_path: Path, broker: MosquittoBroker) -> None:
    cfg = make_config(broker, tmp_path)
    broker.stop()
    store = seeded_store(tmp_path / "device" / "store.db")
    agent = SyncAgent(store, cfg)
    agent.start()
    t0 = time.monotonic()
    assert record_sales(store, 10_000) == 10_000
    log.info("recorded 10000 sales in %.1f s", time.monotonic() - t0)
    # 10,000 sales and ONE health alert: the backlog passed mqtt.backlog_alert_count (1000) once.
    wait_for(lambda: store.alerts.recent() != [], 30, "the agent's backlog alert while the broker is down")
    assert store.outbox.backlog() == 10_001 and not agent.connected.is_set()
    assert [a.kind for a in store.alerts.recent()] == ["health"]

    engine = make_engine(cfg.hub.database_url)
    migrate(engine)
    register_devices(engine)
    worker = IngestWorker(cfg.hub.database_url, cfg.mqtt, client_id="hub-a", settings=cfg.hub)
    broker.start()
    worker.start()
    t1 = time.monotonic()
    try:
        wait_for(lambda: count(engine, t.transactions) >= 10_000 and store.outbox.backlog() == 0, 90,
                 "all sales in the hub")
        elapsed = time.monotonic() - t1
        log.info("10000 sales delivered in %.1f s", elapsed)
        time.sleep(1.0)  # anything extra (a duplicate) would land now
        assert count(engine, t.transactions) == 10_000
        assert distinct_tx(engine) == 10_000
        assert store.outbox.backlog() == 0
        with engine.connect() as conn:
            dev = conn.execute(select(t.devices)).mappings().one()
        assert dev["last_seq"] == 10_000 and dev["gaps"] == 0
        assert count(engine, t.tx_lines) == 30_000
        assert count(engine, t.dead_letters) == 0
        wait_for(lambda: count(engine, t.alerts) == 1, 10, "the health alert at the hub")
        assert worker.stats.outcomes["stored"] == 10_001  # the sales and the alert
    finally:
        agent.stop()
        worker.stop()
        store.close()
