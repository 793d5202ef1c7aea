"""Approved price changes to the store's tills as a signed fleet update.

:func:`push_prices` builds the store's ``tillsight.prices/1`` list (every approved or sent change
still due or recent, so a newer list never drops one a till has not applied), stores it as a
``prices`` artifact, publishes its chunks, records one signed deployment to all the store's devices
(next ``prices`` version) and publishes their desired documents — the same path and the same
guarantees as a model or config update (``analytics/fleet``): only the fleet operator's key can
change what a till charges, and the devices report each step on ``reported``
(``tillsight hub fleet status`` shows it).  The tills apply each change at its effective time.

It needs the signing key (``hub.fleet_signing_key``) where it runs: the hub web app pushes at once
when its configuration has one; otherwise approvals wait as ``approved`` until
``tillsight hub pricing push --store ID`` runs where the key is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from analytics.db.fleet_tables import device_registry
from analytics.db.tables import devices, stores
from analytics.fleet import rollout
from analytics.fleet.artifacts import Artifact, store_artifact
from analytics.fleet.errors import FleetError
from analytics.fleet.manifests import Health, iso
from analytics.fleet.operations import FleetSettings, signing_key
from analytics.fleet.publisher import FleetPublisher, publish_chunks, publish_desired
from analytics.pricing import changes as ch
from contracts.prices import PriceChange, PriceList

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreTarget(rollout.TargetSpec):
    """Every device of one store in one deployment (``kind`` device: released at once)."""

    devices: tuple[str, ...] = ()

    def manifest_target(self) -> dict[str, Any]:
        return {"devices": list(self.devices)}


@dataclass(frozen=True)
class PushResult:
    deployment_id: str | None
    version: int | None
    devices: list[str]
    changes: int
    sent: list[str]  # change ids newly marked sent

    def as_dict(self) -> dict[str, Any]:
        return {"deployment_id": self.deployment_id, "version": self.version, "devices": self.devices,
                "changes": self.changes, "sent": self.sent}


def store_devices(engine: Engine, store_id: str) -> list[tuple[str, str]]:
    """The store's devices: registered ones and those the hub has heard from."""
    with engine.connect() as conn:
        rows = list(conn.execute(select(device_registry.c.store_id, device_registry.c.device_id)
                                 .where(device_registry.c.store_id == store_id)).all())
        rows += conn.execute(select(devices.c.store_id, devices.c.device_id)
                             .where(devices.c.store_id == store_id)).all()
    return sorted({(r[0], r[1]) for r in rows})


def store_currency(engine: Engine, store_id: str) -> str:
    with engine.connect() as conn:
        value = conn.execute(select(stores.c.currency).where(stores.c.store_id == store_id)).scalar()
    return str(value or "XXX")


def price_list(engine: Engine, store_id: str, now: datetime) -> tuple[PriceList, list[str]]:
    rows = ch.to_push(engine, store_id, now)
    changes = [PriceChange(r["change_id"], r["sku"], int(r["new_price"]), int(r["old_price"]), r["effective_at"],
                           r["decided_by"], r["decided_at"], (r["reason"] or "")[:500]) for r in rows]
    return PriceList.build(store_id, store_currency(engine, store_id), now, changes), \
        [r["change_id"] for r in rows if r["status"] == "approved"]


def waiting(engine: Engine, store_id: str) -> int:
    """Approved changes not sent yet."""
    with engine.connect() as conn:
        return len(conn.execute(select(ch.price_changes.c.change_id).where(
            ch.price_changes.c.store_id == store_id, ch.price_changes.c.status == "approved",
            ch.price_changes.c.kind == "price")).all())


def push_prices(settings: FleetSettings, engine: Engine, store_id: str, now: datetime,
                key_path: str | Path | None = None) -> PushResult:
    """Sign and publish the store's price list; marks the approved changes it carries as sent."""
    prices, approved = price_list(engine, store_id, now)
    if not prices.changes:
        return PushResult(None, None, [], 0, [])
    targets = store_devices(engine, store_id)
    if not targets:
        raise FleetError(f"store {store_id} has no registered device to send prices to "
                         f"(`tillsight hub device add --store {store_id} --device D`)")
    key = signing_key(settings, key_path)
    payload = prices.to_payload()
    artifact = Artifact("prices", f"prices {store_id}: {len(prices.changes)} change(s)", payload)
    ids = tuple(f"{s}/{d}" for s, d in targets)
    spec = StoreTarget("device", f"{store_id}/*", ids)
    with FleetPublisher(settings.mqtt) as pub:
        with engine.begin() as conn:
            stored = store_artifact(conn, settings.artifact_dir, artifact, iso(now))
        publish_chunks(pub, stored.sha256, payload, settings.chunk_size)
        with engine.begin() as conn:
            created = rollout.create_deployment(
                conn, key=key, artifact=stored, bundle_version=None, name=artifact.name, spec=spec,
                plan=rollout.RolloutPlan(), health=Health(window_s=0.0), chunk_size=settings.chunk_size,
                expires_in=settings.expires_in, now=now, devices=targets)
        deployment_id = created.deployment.deployment_id
        ch.mark_sent(engine, [c.change_id for c in prices.changes], deployment_id, now)
        try:
            publish_desired(engine, pub, created.released, [], now)
        except FleetError as exc:
            raise FleetError(f"prices deployment {deployment_id} is recorded but its desired documents were not "
                             f"published: {exc}. `tillsight hub fleet watch` publishes them once the broker is "
                             "reachable.") from None
    log.info("pushed %d price change(s) of %s to %s as deployment %s v%d", len(prices.changes), store_id,
             ", ".join(ids), deployment_id, created.deployment.version)
    return PushResult(deployment_id, created.deployment.version, list(ids), len(prices.changes), approved)
