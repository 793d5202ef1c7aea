"""What the device reports on its telemetry topic (QoS 0): backlog, oldest unsent age, disk,
versions, the store's language (the hub writes the store's texts in it), and stock on hand per SKU with
its name (the hub's reorder advice and its catalogue of product names read it)."""

from __future__ import annotations

import platform
import shutil
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from contracts import validate
from contracts.timestamps import format_utc as utc_iso
from contracts.timestamps import parse_utc
from contracts.validation import TELEMETRY
from edge.store import Store

TELEMETRY_SCHEMA = TELEMETRY


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def versions() -> dict[str, str]:
    return {"tillsight": _version("tillsight"), "paho-mqtt": _version("paho-mqtt"),
            "python": platform.python_version()}


def oldest_age_s(store: Store, now: datetime) -> float | None:
    oldest = store.outbox.oldest_pending_at()
    return max(0.0, (now - parse_utc(oldest)).total_seconds()) if oldest else None


def last_tx_seq(store: Store) -> int:
    """The highest sale sequence number the device has handed out (0 before the first sale)."""
    return store.sales.last_seq()


def stock_on_hand(store: Store, now: datetime) -> dict[str, Any]:
    """Stock on hand of every active product, for the hub's reorder advice, with the product's name:
    the hub's catalogue takes names from here, never from a sale's lines."""
    items = [{"sku": p.sku, "name": p.name, "on_hand": p.stock_qty, "reorder_level": p.reorder_level}
             for p in store.products.list()]
    return {"as_of": utc_iso(now), "items": items}


def snapshot(store: Store, store_id: str, device_id: str, data_dir: Path, now: datetime) -> dict[str, Any]:
    try:
        disk_free: int | None = shutil.disk_usage(data_dir).free
    except OSError:
        disk_free = None
    oldest = store.outbox.oldest_pending_at()
    doc = {"schema": TELEMETRY_SCHEMA, "store_id": store_id, "device_id": device_id, "at": utc_iso(now),
           "backlog": store.outbox.backlog(), "oldest_unsent_at": oldest,
           "oldest_unsent_age_s": oldest_age_s(store, now), "last_tx_seq": last_tx_seq(store),
           "disk_free_bytes": disk_free, "versions": versions(), "stock": stock_on_hand(store, now)}
    if store.settings.is_seeded():  # an unseeded store has no language of its own yet: say none
        doc["language"] = store.settings.get().language
    validate(TELEMETRY_SCHEMA, doc)  # the hub checks the same contract
    return doc
