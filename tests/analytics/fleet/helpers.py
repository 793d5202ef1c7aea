"""What the fleet tests share: a small model bundle on disk, registered devices, ``reported``
documents written the way the ingest stores them, and a look at the broker's retained topics."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, insert

import contracts
from analytics.db.fleet_tables import device_registry
from analytics.fleet.operations import FleetSettings
from analytics.fleet.signing import generate_keypair, load_private_key
from analytics.ingest.parse import Parsed
from analytics.ingest.store import apply
from contracts import topics
from firmware_config import load_config
from tests.support.mosquitto import MosquittoBroker

PREFIX = topics.DEFAULT_PREFIX
T0 = datetime(2026, 11, 21, 15, 0, 0, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_bundle(folder: Path, version: str = "20261121.120000", size: int = 300_000, seed: int = 0,
                extra: dict[str, bytes] | None = None) -> Path:
    """A model bundle folder as training writes one (the model bytes are not a real network: the
    hub never loads them, it only checks and ships them)."""
    folder.mkdir(parents=True, exist_ok=True)
    model = random.Random(seed).randbytes(size)
    (folder / "model.onnx").write_bytes(model)
    (folder / "selftest.jpg").write_bytes(b"\xff\xd8\xff\xe0" + random.Random(seed + 1).randbytes(2000))
    for name, data in (extra or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    manifest = {"format": "tillsight.bundle/1", "version": version, "created": "2026-11-21T12:00:00Z",
                "architecture": "yolo11n", "model_file": "model.onnx",
                "model_sha256": hashlib.sha256(model).hexdigest(), "model_bytes": size, "input_size": 320,
                "classes": ["WATER-1500"], "selftest": {"image": "selftest.jpg", "expected": {"WATER-1500": 1}}}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return folder


def fleet_settings(broker: MosquittoBroker, tmp_path: Path, db_url: str, chunk_size: int = 64 * 1024,
                   key: Path | None = None) -> FleetSettings:
    cfg = load_config(None, env={}, overrides={
        "mqtt": {"host": broker.host, "port": broker.port, "keepalive_s": 5, "reconnect_min_s": 0.1,
                 "reconnect_max_s": 1.0},
        "hub": {"database_url": db_url, "fleet_artifact_dir": str(tmp_path / "artifacts"),
                "fleet_chunk_size": chunk_size, "fleet_signing_key": str(key) if key else None}})
    return FleetSettings.from_config(cfg)


def signing_key(tmp_path: Path) -> Path:
    folder = tmp_path / "keys"
    if not (folder / "fleet-signing.key").exists():
        generate_keypair(folder)
    return folder / "fleet-signing.key"


def private_key(tmp_path: Path) -> Any:
    return load_private_key(signing_key(tmp_path))


def register(engine: Engine, group: str, devices: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    rows = [{"store_id": s, "device_id": d, "group_id": group, "mqtt_username": f"{s}.{d}",
             "created_at": stamp(T0)} for s, d in devices]
    with engine.begin() as conn:
        conn.execute(insert(device_registry), rows)
    return [(r["store_id"], r["device_id"]) for r in rows]


def fleet_of(n: int, store_prefix: str = "s") -> list[tuple[str, str]]:
    return [(f"{store_prefix}-{i:03d}", "till-1") for i in range(1, n + 1)]


def reported_doc(store_id: str, device_id: str, group: str = "default", *, update: dict[str, Any] | None = None,
                 results: Sequence[dict[str, Any]] = (), model: dict[str, Any] | None = None,
                 trusted: dict[str, int] | None = None, at: datetime = T0) -> dict[str, Any]:
    """A ``tillsight.reported/1`` document as a device publishes it (checked against the contract)."""
    doc = {"schema": "tillsight.reported/1", "store_id": store_id, "device_id": device_id, "at": stamp(at),
           "group": group, "model": model, "config": None, "update": update, "results": list(results),
           "trusted": trusted or {}}
    contracts.validate("tillsight.reported/1", doc)
    return doc


def outcome(manifest: dict[str, Any], outcome: str, reason: str = "", at: datetime = T0) -> dict[str, Any]:
    return {"kind": manifest["kind"], "version": manifest["version"], "deployment_id": manifest["deployment_id"],
            "outcome": outcome, "reason": reason or outcome, "at": stamp(at)}


def step(manifest: dict[str, Any], name: str, progress: float = 0.0, detail: str = "", at: datetime = T0
         ) -> dict[str, Any]:
    return {"kind": manifest["kind"], "version": manifest["version"], "deployment_id": manifest["deployment_id"],
            "step": name, "progress": progress, "detail": detail, "at": stamp(at)}


def store_reported(engine: Engine, doc: dict[str, Any], now: datetime = T0) -> None:
    """Store a reported document through the ingest's own code path (``devices.reported``)."""
    with engine.begin() as conn:
        apply(conn, Parsed("reported", doc["store_id"], doc["device_id"], doc), stamp(now))


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass
class Retained:
    """The retained messages a fresh subscriber gets for some topic filters."""

    messages: dict[str, bytes]

    def json(self, topic: str) -> dict[str, Any]:
        return json.loads(self.messages[topic])

    def device_topics(self) -> list[str]:
        return sorted(t for t in self.messages if t.endswith("/desired") and f"{PREFIX}/fleet/" not in t)


def retained(broker: MosquittoBroker, filters: Sequence[str], quiet_s: float = 0.4, timeout_s: float = 10.0
             ) -> Retained:
    got: dict[str, bytes] = {}
    subscribed = threading.Event()
    last = [time.monotonic()]

    def on_connect(client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        client.subscribe([(f, 1) for f in filters])

    def on_subscribe(client: mqtt.Client, userdata: Any, mid: int, rcs: Any, props: Any) -> None:
        last[0] = time.monotonic()
        subscribed.set()

    def on_message(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.retain:
            got[msg.topic] = msg.payload
        last[0] = time.monotonic()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{random.random():.9f}",
                         protocol=mqtt.MQTTv5)
    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        if not subscribed.wait(timeout_s):
            raise AssertionError("probe subscriber got no SUBACK")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() - last[0] < quiet_s and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.disconnect()
        client.loop_stop()
    return Retained(got)


def desired_topics(broker: MosquittoBroker) -> Retained:
    return retained(broker, [f"{PREFIX}/+/+/desired", f"{PREFIX}/fleet/+/desired"])


def publish_retained_reported(broker: MosquittoBroker, doc: dict[str, Any]) -> None:
    """Publish a reported document retained with QoS 1, as a device does."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{doc['store_id']}-{doc['device_id']}-test",
                         protocol=mqtt.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        info = client.publish(f"{PREFIX}/{doc['store_id']}/{doc['device_id']}/reported",
                              json.dumps(doc).encode(), qos=1, retain=True)
        info.wait_for_publish(10)
        assert info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()
