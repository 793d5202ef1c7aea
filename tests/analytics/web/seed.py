"""A hub database with two tenants, written straight into the tables the ingest and the fleet
commands fill: store A ``s-001`` (Santo Domingo, DOP) and store B ``s-002`` (Madrid, EUR), their
devices (online, offline, registered but never seen), sales around the stores' local midnights,
alerts, dead letters, and two deployments with targets in every state that matters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert

from analytics.db import fleet_tables as ft
from analytics.db import migrate
from analytics.db import tables as t
from analytics.web.accounts import HubUsers

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)  # 11:00 in Santo Domingo, 16:00 in Madrid
A, B = "s-001", "s-002"
DEPLOY_MODEL = "d0000000-0000-4000-8000-000000000001"
DEPLOY_CONFIG = "d0000000-0000-4000-8000-000000000002"
PASSWORDS = {"op": "operator-pass-1", "ann": "owner-a-pass-1", "bob": "owner-b-pass-1", "val": "viewer-a-pass-1",
             "nobody": "no-stores-pass-1"}
# text that only store B's rows contain: none of it may reach store A's users
B_MARKERS = ("s-002", "Bodega Bob", "bob-cashier", "b-alert-1", "EUR")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tx(store: str, device: str, seq: int, at: datetime, total: int, status: str = "completed",
        cashier: str = "ana", currency: str = "DOP", tx_id: str | None = None, qty: int = 1) -> tuple[dict, dict]:
    tx_id = tx_id or str(uuid.uuid4())
    payload = {"schema": "tillsight.tx/1", "tx_id": tx_id, "seq": seq, "store_id": store, "device_id": device,
               "status": status, "total": total}
    row = {"tx_id": tx_id, "store_id": store, "device_id": device, "seq": seq, "status": status,
           "cashier_id": cashier, "currency": currency, "completed_at": iso(at), "total": total,
           "customer_id": None, "anomaly_score": 0.1, "payload": payload, "received_at": iso(at)}
    line = {"tx_id": tx_id, "line_no": 1, "store_id": store, "sku": "RICE-5LB", "name": "Rice 5 lb",
            "qty": qty if status != "refunded" else -qty, "unit_price": abs(total), "line_total": total,
            "source": "vision"}
    return row, line


def reported(store: str, device: str, model: int, config: int, update: dict | None = None,
             results: list | None = None) -> dict:
    return {"schema": "tillsight.reported/1", "store_id": store, "device_id": device, "at": iso(NOW),
            "group": "pilot",
            "model": {"version": model, "name": "demo", "sha256": "ab" * 32, "bundle_version": f"20261120.{model}",
                      "installed_at": iso(NOW - timedelta(days=1))},
            "config": {"version": config, "name": "store config", "sha256": None, "bundle_version": None,
                       "installed_at": None},
            "update": update, "results": results or [], "trusted": {"model": model, "config": config}}


def seed_hub(engine: Engine, now: datetime = NOW) -> None:
    migrate(engine)
    stamp = iso(now)
    # Santo Domingo is UTC-4: its "today" began at 04:00Z; Madrid (UTC+1) at 23:00Z yesterday
    a_today = now.replace(hour=4, minute=0, second=0)
    sales = [
        _tx(A, "till-1", 1, a_today + timedelta(hours=1), 10000),
        _tx(A, "till-1", 2, a_today + timedelta(hours=2), 5000),
        _tx(A, "till-1", 3, a_today + timedelta(hours=3), -2000, status="refunded"),
        _tx(A, "till-1", 4, a_today + timedelta(hours=4), 9999, status="voided"),
        _tx(A, "till-1", 5, a_today - timedelta(minutes=30), 700),  # UTC today, but yesterday in the store
        _tx(A, "till-2", 1, a_today - timedelta(days=3), 20000),
        _tx(A, "till-2", 2, a_today - timedelta(days=10), 70000),  # older than 7 days
        _tx(B, "till-1", 1, now - timedelta(hours=1), 12345, cashier="bob-cashier", currency="EUR"),
    ]
    devices = [
        {"store_id": A, "device_id": "till-1", "first_seen": iso(now - timedelta(days=30)),
         "last_seen": iso(now - timedelta(seconds=20)), "online": True, "status_at": iso(now - timedelta(hours=2)),
         "status_reason": "connected", "versions": {"tillsight": "0.1.0", "python": "3.11.2"},
         "telemetry": {"backlog": 7, "oldest_unsent_age_s": 120.0, "disk_free_bytes": 5 * 2**30, "at": iso(now)},
         "backlog": 7, "last_seq": 5, "gaps": 1,
         "reported": reported(A, "till-1", 8, 3,
                              update={"kind": "model", "version": 9, "deployment_id": DEPLOY_MODEL,
                                      "step": "downloading", "progress": 0.45, "detail": "chunk 9 of 20",
                                      "at": iso(now)},
                              results=[{"kind": "config", "version": 3, "deployment_id": DEPLOY_CONFIG,
                                        "outcome": "succeeded", "reason": "", "at": iso(now - timedelta(days=1))}])},
        {"store_id": A, "device_id": "till-2", "first_seen": iso(now - timedelta(days=30)),
         "last_seen": iso(now - timedelta(hours=5)), "online": False, "status_at": iso(now - timedelta(hours=5)),
         "status_reason": "connection lost", "versions": {"tillsight": "0.0.9"}, "telemetry": None, "backlog": 0,
         "last_seq": 2, "gaps": 0, "reported": reported(A, "till-2", 7, 2)},
        {"store_id": B, "device_id": "till-1", "first_seen": iso(now - timedelta(days=3)),
         "last_seen": iso(now - timedelta(minutes=1)), "online": True, "status_at": iso(now - timedelta(days=1)),
         "status_reason": "connected", "versions": {"tillsight": "0.1.0"},
         "telemetry": {"backlog": 0, "at": iso(now)}, "backlog": 0, "last_seq": 1, "gaps": 0,
         "reported": reported(B, "till-1", 9, 3)},
    ]
    registry = [
        {"store_id": A, "device_id": "till-2", "group_id": "pilot", "mqtt_username": "s-001.till-2",
         "created_at": stamp},
        {"store_id": A, "device_id": "till-3", "group_id": "pilot", "mqtt_username": "s-001.till-3",
         "created_at": stamp, "note": "arrives next week"},
        {"store_id": B, "device_id": "till-1", "group_id": "default", "mqtt_username": "s-002.till-1",
         "created_at": stamp},
    ]
    deployments = [
        {"deployment_id": DEPLOY_MODEL, "kind": "model", "version": 9, "name": "demo 20261121",
         "artifact_sha256": "cd" * 32, "manifest": {"kind": "model", "version": 9}, "target_kind": "group",
         "target": "pilot", "waves": [0.5, 1.0], "current_wave": 0, "success_threshold": 0.9,
         "failure_threshold": 0.2, "state": "active", "state_reason": None, "rollback_of": None,
         "created_at": iso(now - timedelta(hours=1)), "updated_at": iso(now)},
        {"deployment_id": DEPLOY_CONFIG, "kind": "config", "version": 3, "name": "store config 3",
         "artifact_sha256": "ef" * 32, "manifest": {"kind": "config", "version": 3}, "target_kind": "device",
         "target": "s-001/till-1", "waves": [1.0], "current_wave": 0, "success_threshold": 1.0,
         "failure_threshold": 0.5, "state": "completed", "state_reason": "every device succeeded",
         "rollback_of": None, "created_at": iso(now - timedelta(days=2)), "updated_at": iso(now - timedelta(days=1))},
    ]
    targets = [
        {"deployment_id": DEPLOY_MODEL, "store_id": A, "device_id": "till-1", "wave": 0, "state": "downloading",
         "progress": 0.45, "detail": "chunk 9 of 20", "published_at": iso(now - timedelta(hours=1)),
         "updated_at": stamp},
        {"deployment_id": DEPLOY_MODEL, "store_id": A, "device_id": "till-2", "wave": 0, "state": "failed",
         "progress": 0.0, "detail": "sha256 mismatch after download", "published_at": iso(now - timedelta(hours=1)),
         "updated_at": stamp},
        {"deployment_id": DEPLOY_MODEL, "store_id": B, "device_id": "till-1", "wave": 0, "state": "succeeded",
         "progress": 1.0, "detail": None, "published_at": iso(now - timedelta(hours=1)), "updated_at": stamp},
        {"deployment_id": DEPLOY_MODEL, "store_id": A, "device_id": "till-3", "wave": 1, "state": "waiting",
         "progress": 0.0, "detail": None, "published_at": None, "updated_at": stamp},
        {"deployment_id": DEPLOY_CONFIG, "store_id": A, "device_id": "till-1", "wave": 0, "state": "succeeded",
         "progress": 1.0, "detail": None, "published_at": iso(now - timedelta(days=2)), "updated_at": stamp},
    ]
    with engine.begin() as conn:
        conn.execute(insert(t.stores), [
            {"store_id": A, "name": "Colmado Ana", "timezone": "America/Santo_Domingo", "currency": "DOP",
             "settings": {}, "created_at": stamp, "updated_at": stamp},
            {"store_id": B, "name": "Bodega Bob", "timezone": "Europe/Madrid", "currency": "EUR", "settings": {},
             "created_at": stamp, "updated_at": stamp}])
        conn.execute(insert(t.transactions), [row for row, _ in sales])
        conn.execute(insert(t.tx_lines), [line for _, line in sales])
        conn.execute(insert(t.devices), devices)
        conn.execute(insert(ft.device_registry), registry)
        conn.execute(insert(ft.deployments), deployments)
        conn.execute(insert(ft.deployment_targets), targets)
        conn.execute(insert(t.alerts), [
            {"alert_id": "a-alert-1", "store_id": A, "device_id": "till-1", "kind": "anomaly",
             "raised_at": iso(now - timedelta(hours=1)), "tx_id": sales[0][0]["tx_id"], "score": 0.91,
             "reasons": ["void after payment", "odd basket"], "model": "iforest-1", "received_at": stamp},
            {"alert_id": "b-alert-1", "store_id": B, "device_id": "till-1", "kind": "anomaly",
             "raised_at": iso(now - timedelta(hours=1)), "tx_id": None, "score": 0.8, "reasons": ["drawer open"],
             "model": "iforest-1", "received_at": stamp}])
        conn.execute(insert(t.dead_letters), [
            {"topic": "tillsight/v1/s-001/till-1/tx", "payload": "{not json", "reason": "not JSON",
             "received_at": stamp},
            {"topic": "tillsight/v1/s-001/till-2/tx", "payload": "{}", "reason": "schema", "received_at": stamp},
            {"topic": "tillsight/v1/s-002/till-1/tx", "payload": "{}", "reason": "schema", "received_at": stamp}])


def seed_users(engine: Engine) -> None:
    users = HubUsers(engine)
    users.save("op", "Olga Operator", "operator", password=PASSWORDS["op"], stores=[])
    users.save("ann", "Ann Owner", "owner", password=PASSWORDS["ann"], stores=[A])
    users.save("bob", "Bob Owner", "owner", password=PASSWORDS["bob"], stores=[B])
    users.save("val", "Val Viewer", "viewer", password=PASSWORDS["val"], stores=[A])
    users.save("nobody", "No Stores", "owner", password=PASSWORDS["nobody"], stores=[])
