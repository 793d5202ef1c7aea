"""The ingest worker against a real Mosquitto: dead letters, sequence gaps and their repair."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from analytics.db import make_engine, migrate
from analytics.db import tables as t
from analytics.ingest import IngestWorker
from tests.analytics.fleet.helpers import reported_doc
from tests.support.fixtures import make_config
from tests.support.hubdb import count, device, register_devices
from tests.support.mosquitto import MosquittoBroker
from tests.support.wait import wait_for

PREFIX = "tillsight/v1"


def tx_doc(seq: int, store_id: str = "s-001", device_id: str = "till-1") -> dict:
    return {"schema": "tillsight.tx/1", "tx_id": str(uuid.uuid4()), "seq": seq, "store_id": store_id,
            "device_id": device_id, "cashier_id": "ana", "started_at": "2026-11-21T14:03:11Z",
            "completed_at": "2026-11-21T14:04:02Z", "status": "completed", "currency": "DOP",
            "lines": [{"sku": "RICE-5LB", "name": "Rice 5 lb", "qty": 2, "unit_price": 32500, "line_total": 65000,
                       "source": "vision", "confidence": 0.93}],
            "subtotal": 65000, "discount": 0, "tax": 11700, "total": 76700,
            "payment": {"method": "cash", "tendered": 80000, "change": 3300}, "customer_id": None,
            "events": [], "anomaly": {"score": 0.12, "reasons": [], "model": "iforest-test"}}


class Publisher:
    """A plain MQTT client standing in for a device (or a misbehaving one)."""

    def __init__(self, broker: MosquittoBroker, client_id: str = "test-publisher") -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.resends: list[dict] = []
        self.client.on_message = lambda c, u, m: self.resends.append(json.loads(m.payload))

    def send(self, topic: str, payload: bytes | dict, qos: int = 1) -> None:
        body = json.dumps(payload).encode() if isinstance(payload, dict) else payload
        self.client.publish(f"{PREFIX}/{topic}", body, qos=qos).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def hub(tmp_path: Path, broker: MosquittoBroker):
    cfg = make_config(broker, tmp_path)
    engine = make_engine(cfg.hub.database_url)
    migrate(engine)
    register_devices(engine)
    worker = IngestWorker(cfg.hub.database_url, cfg.mqtt, client_id="hub-test", settings=cfg.hub)
    worker.start()
    wait_for(worker.ready.is_set, 10, "the broker granted the worker's subscriptions (SUBACK)")
    pub = Publisher(broker)
    yield engine, worker, pub
    pub.close()
    worker.stop()


def test_malformed_messages_become_dead_letters_and_ingest_goes_on(hub) -> None:
    engine, worker, pub = hub
    good1, bad_schema, good2 = tx_doc(1), tx_doc(2), tx_doc(2)
    del bad_schema["total"]
    pub.send("s-001/till-1/tx", good1)
    pub.send("s-001/till-1/tx", b"{not json")
    pub.send("s-001/till-1/tx", bad_schema)
    pub.send("s-002/till-1/tx", tx_doc(1))  # payload says s-001
    pub.send("s-001/till-1/alert", {"schema": "tillsight.alert/1", "alert_id": "x"})
    pub.send("s-001/till-1/status", b"[1, 2]")
    pub.send("s-001/till-1/tx", good2)
    wait_for(lambda: count(engine, t.transactions) == 2 and count(engine, t.dead_letters) == 5, 10,
             "two sales stored and five dead letters")
    with engine.connect() as conn:
        reasons = [(r.topic, r.reason) for r in conn.execute(select(t.dead_letters).order_by(t.dead_letters.c.id))]
    text = "\n".join(f"{topic}: {reason}" for topic, reason in reasons)
    assert "not JSON" in text
    assert "schema: tillsight.tx/1: (document): 'total' is a required property" in text
    assert "topic mismatch: payload store_id 's-001' but topic says 's-002'" in text
    assert "tillsight.alert/1" in text
    assert "payload must be a JSON object" in text
    assert count(engine, t.transactions, t.transactions.c.tx_id == good2["tx_id"]) == 1
    # dead letters are acknowledged too: nothing is re-delivered forever
    wait_for(lambda: worker.stats.acked == 7, 5, f"seven acknowledgements (got {worker.stats.acked})")


def test_duplicate_tx_is_stored_once(hub) -> None:
    engine, worker, pub = hub
    doc = tx_doc(1)
    for _ in range(3):
        pub.send("s-001/till-1/tx", doc)
    wait_for(lambda: worker.stats.outcomes["duplicate"] == 2, 10, "two duplicates seen")
    assert count(engine, t.transactions) == 1 and count(engine, t.tx_lines) == 1


def test_sequence_gaps_are_detected_filled_and_asked_for(hub, broker: MosquittoBroker) -> None:
    engine, _, pub = hub
    pub.client.subscribe(f"{PREFIX}/s-001/till-1/resend", qos=1)
    for seq in (1, 2, 5, 6, 9):
        pub.send("s-001/till-1/tx", tx_doc(seq))
    wait_for(lambda: count(engine, t.transactions) == 5, 10, "five sales")
    with engine.connect() as conn:
        rows = conn.execute(select(t.seq_gaps).order_by(t.seq_gaps.c.from_seq))
        gaps = [(g.from_seq, g.to_seq, g.filled) for g in rows]
    assert gaps == [(3, 4, False), (7, 8, False)]
    dev = device(engine, "s-001", "till-1")
    assert dev["last_seq"] == 9 and dev["gaps"] == 2
    # The hub asks the device again for what is still missing after hub.resend_after_s (2 s here).
    wait_for(lambda: len(pub.resends) >= 2, 15, "resend requests")
    assert sorted((r["from_seq"], r["to_seq"]) for r in pub.resends[:2]) == [(3, 4), (7, 8)]
    assert all(r["schema"] == "tillsight.resend/1" for r in pub.resends)
    for seq in (3, 4, 7):
        pub.send("s-001/till-1/tx", tx_doc(seq))
    wait_for(lambda: count(engine, t.transactions) == 8, 10, "late sales")
    with engine.connect() as conn:
        rows = conn.execute(select(t.seq_gaps).order_by(t.seq_gaps.c.from_seq))
        gaps = [(g.from_seq, g.to_seq, g.filled) for g in rows]
    assert gaps == [(3, 4, True), (7, 8, False)]
    assert device(engine, "s-001", "till-1")["gaps"] == 1
    # A device that reports (telemetry) it has sent up to seq 12 with nothing pending: 10..12 missing.
    pub.send("s-001/till-1/telemetry", {"store_id": "s-001", "device_id": "till-1", "at": "2026-11-21T14:05:00Z",
                                         "backlog": 0, "last_tx_seq": 12, "versions": {"tillsight": "0.1.0"}}, qos=0)
    wait_for(lambda: device(engine, "s-001", "till-1")["gaps"] == 2, 10, "the tail gap")
    dev = device(engine, "s-001", "till-1")
    assert dev["backlog"] == 0 and dev["versions"] == {"tillsight": "0.1.0"} and dev["last_tx_seq_reported"] == 12


def test_status_messages_drive_the_online_flag(hub) -> None:
    engine, _, pub = hub
    pub.send("s-001/till-1/status", {"state": "online", "at": "2026-11-21T14:00:00Z", "reason": "connected"})
    wait_for(lambda: (device(engine, "s-001", "till-1") or {}).get("online") is True, 10, "online")
    pub.send("s-001/till-1/status", {"state": "offline", "at": "2026-11-21T14:01:00Z", "reason": "shutdown"})
    wait_for(lambda: device(engine, "s-001", "till-1")["online"] is False, 10, "offline")
    assert device(engine, "s-001", "till-1")["status_at"] == "2026-11-21T14:01:00Z"


def test_a_reported_document_that_breaks_its_contract_is_dead_lettered_and_the_last_good_one_kept(hub) -> None:
    engine, _, pub = hub
    good = reported_doc("s-001", "till-1", trusted={"model": 3})
    pub.send("s-001/till-1/reported", good)
    wait_for(lambda: (device(engine, "s-001", "till-1") or {}).get("reported") == good, 10, "reported stored")
    broken = {**good, "update": {"kind": "model", "version": "four"}}  # what the rollout controller reads
    pub.send("s-001/till-1/reported", broken)
    wait_for(lambda: count(engine, t.dead_letters) == 1, 10, "a dead letter")
    with engine.connect() as conn:
        letter = conn.execute(select(t.dead_letters)).one()
    assert letter.topic == f"{PREFIX}/s-001/till-1/reported"
    assert "schema: tillsight.reported/1: update" in letter.reason
    assert device(engine, "s-001", "till-1")["reported"] == good
