"""A device seeded as the demo seeds it (``edge.demo.seed``), registered at a hub, and its outbox
carried to the hub through the ingest's own parser and writer: the hub's figures from the same
records the device has, with no broker in between."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from analytics.broker.registry import StoreDefaults, add_device
from analytics.db import make_engine, migrate
from analytics.ingest.parse import Parsed, parse
from analytics.ingest.store import apply_batch
from contracts.timestamps import format_utc
from contracts.topics import DEFAULT_PREFIX, device_topic
from edge.demo.seed import seed_store
from edge.store import DeviceIdentity, Store
from edge.sync.telemetry import snapshot

STORE, DEVICE = "s-001", "till-1"
SHOP, ZONE = "Colmado La Esquina", "America/Santo_Domingo"


def sync(store: Store, hub: Engine, now: datetime) -> int:
    """Carry every unsent outbox message to the hub as the ingest stores them; returns how many."""
    pending = store.outbox.pending(limit=1_000_000)
    msgs = []
    for m in pending:
        p = parse(device_topic(DEFAULT_PREFIX, STORE, DEVICE, m.kind), json.dumps(m.payload).encode(), DEFAULT_PREFIX)
        assert isinstance(p, Parsed), p
        msgs.append(p)
    with hub.begin() as conn:
        apply_batch(conn, msgs, format_utc(now))
    store.outbox.mark_sent([m.id for m in pending])
    return len(msgs)


def send_telemetry(store: Store, hub: Engine, folder: Path, now: datetime) -> None:
    """The device's telemetry at ``now`` (its stock on hand among it), stored as the ingest stores it."""
    doc = snapshot(store, STORE, DEVICE, folder, now)
    p = parse(device_topic(DEFAULT_PREFIX, STORE, DEVICE, "telemetry"), json.dumps(doc).encode(), DEFAULT_PREFIX)
    assert isinstance(p, Parsed), p
    with hub.begin() as conn:
        apply_batch(conn, [p], format_utc(now))


def demo_device(folder: Path, now: datetime, history_days: int = 28) -> tuple[Store, Engine]:
    """The demo device with ``history_days`` of history ending at ``now``, synced to a hub (SQLite)
    that registered it."""
    store = Store(folder / "store.db", identity=DeviceIdentity(STORE, DEVICE))
    assert seed_store(store, store_name=SHOP, timezone_name=ZONE, history_days=history_days, store_id=STORE,
                      device_id=DEVICE, now=now) > 0
    hub = make_engine(f"sqlite:///{folder / 'hub.db'}")
    migrate(hub)
    with hub.begin() as conn:
        add_device(conn, STORE, DEVICE, store=StoreDefaults(SHOP, ZONE, "DOP"),
                   now=format_utc(now - timedelta(days=history_days + 7)))
    assert sync(store, hub, now) > 0
    return store, hub
