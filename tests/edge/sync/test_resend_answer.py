"""A gap the device cannot fill is closed once the device says so (issue 26): a forged sale with a
sequence number the till never handed out reaches the hub through a real broker; the hub asks the
till to resend the numbers in between, the till answers (``tillsight.resend_answer/1``) that it never
had them, and the hub closes that gap with the reason and asks no more."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from analytics.db import make_engine, migrate
from analytics.db import tables as t
from analytics.ingest import IngestWorker, resend
from edge.sync import SyncAgent
from tests.support.device import record_sales, seeded_store
from tests.support.fixtures import make_config
from tests.support.hubdb import device, register_devices
from tests.support.mosquitto import MosquittoBroker
from tests.support.wait import wait_for

FORGED_SEQ = 50


def _gaps(engine) -> list[tuple[int, int, bool, str | None]]:
    g = t.seq_gaps.c
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(g.from_seq, g.to_seq, g.filled, g.closed_reason)
                                               .order_by(g.from_seq))]


def test_a_forged_sequence_number_leaves_no_gap_asked_for_forever(tmp_path: Path, broker: MosquittoBroker) -> None:
    cfg = make_config(broker, tmp_path)
    cfg.hub.resend_after_s = 0.5
    engine = make_engine(cfg.hub.database_url)
    migrate(engine)
    register_devices(engine)
    worker = IngestWorker(cfg.hub.database_url, cfg.mqtt, client_id="hub-gaps", settings=cfg.hub)
    store = seeded_store(tmp_path / "device" / "store.db")
    made = record_sales(store, 3)
    real = next(r.payload for r in store.outbox.pending() if r.kind == "tx")
    agent = SyncAgent(store, cfg)
    answers: list[dict] = []
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="watcher", protocol=mqtt.MQTTv5)
    watcher.on_message = lambda c, u, m: answers.append(json.loads(m.payload))
    watcher.connect(broker.host, broker.port)
    watcher.subscribe(f"{cfg.mqtt.topic_prefix}/s-001/till-1/resend_answer", qos=1)
    watcher.loop_start()
    worker.start()
    try:
        wait_for(worker.ready.is_set, 10, "the broker granted the worker's subscriptions")
        agent.start()
        wait_for(lambda: (device(engine, "s-001", "till-1") or {}).get("last_seq") == made, 30, "the till's sales")
        # someone on the LAN publishes a schema-valid sale as this till, numbered far ahead
        forged = {**real, "tx_id": str(uuid.uuid4()), "seq": FORGED_SEQ}
        forger = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="forger", protocol=mqtt.MQTTv5)
        forger.connect(broker.host, broker.port)
        forger.loop_start()
        forger.publish(f"{cfg.mqtt.topic_prefix}/s-001/till-1/tx", json.dumps(forged), qos=1).wait_for_publish(5)
        forger.disconnect()
        forger.loop_stop()

        wait_for(lambda: answers != [], 30, "the till's answer to the hub's resend request")
        assert answers[0]["cannot_fill"] == [{"from_seq": made + 1, "to_seq": FORGED_SEQ - 1}]
        assert answers[0]["last_seq"] == made and answers[0]["requeued"] == 0
        wait_for(lambda: all(filled for _, _, filled, _ in _gaps(engine)), 30, "the gap closed")
        [(lo, hi, filled, reason)] = _gaps(engine)
        assert (lo, hi, filled) == (made + 1, FORGED_SEQ - 1, True)
        assert reason is not None and f"cannot fill {made + 1}..{FORGED_SEQ - 1}" in reason
        assert device(engine, "s-001", "till-1")["gaps"] == 0
        # nothing is left to ask for, however long the hub waits
        assert resend.due_requests(engine, "2099-01-01T00:00:00Z", "2099-01-01T00:00:00Z") == []
    finally:
        agent.stop()
        worker.stop()
        watcher.loop_stop()
        store.close()
