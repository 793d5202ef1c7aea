"""Approved price changes to the store's tills as a signed fleet update.

:func:`push_prices` builds the store's ``tillsight.prices/2`` list (every approved or sent change
still due or recent, so a newer list never drops one a till has not applied; the changes withdrawn
by a rollback; the store's whole set of running multi-buy and bundle offers), stores it as a
``prices`` artifact, publishes its chunks, records one signed deployment to all the store's devices
(next ``prices`` version) and publishes their desired documents — the same path and the same
guarantees as a model or config update (``analytics/fleet``): only the fleet operator's key can
change what a till charges, and the devices report each step on ``reported``
(``tillsight hub fleet status`` shows it).  The tills apply each change at its effective time.

It needs the signing key (``hub.fleet_signing_key``) where it runs: the hub web app pushes at once
when its configuration has one; otherwise approvals wait as ``approved`` until
``tillsight hub pricing push --store ID`` runs where the key is.

:func:`rollback_prices` is what ``tillsight hub fleet rollback`` does for a ``prices`` deployment: a
till applies each change once and never puts an old price back from an older list, so re-sending the
previous list would change nothing.  Instead the changes and offers the rolled-back list brought (those
not in the list before it) are marked ``withdrawn`` and a new list, naming them withdrawn, goes out as
the rollback deployment: the tills put back the prices they had before each change (unless a newer
price was set since), never apply a withdrawn change still due, and drop the withdrawn offers.
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
from analytics.fleet.artifacts import Artifact, find_artifact, store_artifact
from analytics.fleet.errors import FleetError
from analytics.fleet.manifests import Health, iso
from analytics.fleet.operations import FleetSettings, open_engine, signing_key
from analytics.fleet.publisher import FleetPublisher, publish_chunks, publish_desired
from analytics.fleet.records import ROLLED_BACK, SUPERSEDED, load_targets, resolve_deployment, set_state
from analytics.pricing import changes as ch
from contracts.money import format_money
from contracts.prices import PriceChange, PriceList, Promotion, PromotionItem

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


def promotion(row: dict[str, Any], currency: str) -> Promotion:
    """An approved offer as the tills get it: a multi-buy takes ``quantity`` units of its SKU, a bundle one
    of each; its name (on the till's basket and receipt) says what it is and its price."""
    price = int(row["new_price"])
    skus = [str(s) for s in row["skus"] or [row["sku"]]]
    if row["kind"] == "multibuy":
        qty = int(((row.get("predicted") or {}).get("quantity")) or 2)
        items: tuple[PromotionItem, ...] = (PromotionItem(skus[0], qty),)
        name = f"{qty} × {row['name']}: {format_money(price, currency)}"
    else:
        items = tuple(PromotionItem(s, 1) for s in skus)
        name = f"{row['name']}: {format_money(price, currency)}"
    return Promotion(row["change_id"], row["kind"], name[:200], items, price, row["effective_at"],
                     row["decided_by"], row["decided_at"])


def price_list(engine: Engine, store_id: str, now: datetime) -> tuple[PriceList, list[str]]:
    """The store's list as of ``now``, and the ids of the approved changes and offers it sends first."""
    currency = store_currency(engine, store_id)
    rows = ch.to_push(engine, store_id, now)
    offers = ch.offers_to_push(engine, store_id)
    withdrawn = [r["change_id"] for r in ch.to_push(engine, store_id, now, statuses=("withdrawn",))]
    changes = [PriceChange(r["change_id"], r["sku"], int(r["new_price"]), int(r["old_price"]), r["effective_at"],
                           r["decided_by"], r["decided_at"], (r["reason"] or "")[:500]) for r in rows]
    prices = PriceList.build(store_id, currency, now, changes, withdrawn, [promotion(r, currency) for r in offers])
    return prices, [r["change_id"] for r in rows + offers if r["status"] == "approved"]


def waiting(engine: Engine, store_id: str) -> int:
    """Approved changes and offers not sent yet."""
    with engine.connect() as conn:
        return len(conn.execute(select(ch.price_changes.c.change_id).where(
            ch.price_changes.c.store_id == store_id, ch.price_changes.c.status == "approved")).all())


def push_prices(settings: FleetSettings, engine: Engine, store_id: str, now: datetime,
                key_path: str | Path | None = None, force: bool = False) -> PushResult:
    """Sign and publish the store's price list; marks the approved changes and offers it carries as sent.
    ``force``: send it even when it is empty (the owner ended the last offer: the tills drop it)."""
    prices, approved = price_list(engine, store_id, now)
    if not (prices.changes or prices.promotions or approved or force):
        return PushResult(None, None, [], 0, [])
    targets = store_devices(engine, store_id)
    if not targets:
        raise FleetError(f"store {store_id} has no registered device to send prices to "
                         f"(`tillsight hub device add --store {store_id} --device D`)")
    key = signing_key(settings, key_path)
    name = f"prices {store_id}: {len(prices.changes)} change(s), {len(prices.promotions)} offer(s)"
    ids = tuple(f"{s}/{d}" for s, d in targets)
    with FleetPublisher(settings.mqtt) as pub:
        created = _deploy(settings, engine, pub, key, prices, name, targets, now)
        deployment_id = created.deployment.deployment_id
        ch.mark_sent(engine, [c.change_id for c in prices.changes] + [p.promotion_id for p in prices.promotions],
                     deployment_id, now)
        try:
            publish_desired(engine, pub, created.released, [], now)
        except FleetError as exc:
            raise FleetError(f"prices deployment {deployment_id} is recorded but its desired documents were not "
                             f"published: {exc}. `tillsight hub fleet watch` publishes them once the broker is "
                             "reachable.") from None
    log.info("pushed %d price change(s) and %d offer(s) of %s to %s as deployment %s v%d", len(prices.changes),
             len(prices.promotions), store_id, ", ".join(ids), deployment_id, created.deployment.version)
    return PushResult(deployment_id, created.deployment.version, list(ids), len(prices.changes), approved)


def _deploy(settings: FleetSettings, engine: Engine, pub: FleetPublisher, key: Any, prices: PriceList, name: str,
            targets: list[tuple[str, str]], now: datetime, rollback_of: str | None = None) -> rollout.Created:
    """Store the list as a ``prices`` artifact, publish its chunks and record one signed deployment to
    ``targets`` (released at once)."""
    payload = prices.to_payload()
    artifact = Artifact("prices", name[:120], payload)
    spec = StoreTarget("device", f"{prices.store_id}/*", tuple(f"{s}/{d}" for s, d in targets))
    with engine.begin() as conn:
        stored = store_artifact(conn, settings.artifact_dir, artifact, iso(now))
    publish_chunks(pub, stored.sha256, payload, settings.chunk_size)
    with engine.begin() as conn:
        return rollout.create_deployment(
            conn, key=key, artifact=stored, bundle_version=None, name=artifact.name, spec=spec,
            plan=rollout.RolloutPlan(), health=Health(window_s=0.0), chunk_size=settings.chunk_size,
            expires_in=settings.expires_in, now=now, devices=targets, rollback_of=rollback_of)


def _list_of(conn: Any, sha256: str) -> PriceList | None:
    stored = find_artifact(conn, sha256)
    return None if stored is None else PriceList.from_payload(stored.read())


def rollback_prices(settings: FleetSettings, ref: str, now: datetime,
                    key_path: str | Path | None = None) -> rollout.Created:
    """Roll a ``prices`` deployment back: withdraw what its list brought and send the store's list again
    (a new deployment, ``rollback_of`` the original, which turns ``rolled_back``)."""
    key = signing_key(settings, key_path)
    with open_engine(settings) as engine, FleetPublisher(settings.mqtt) as pub:
        with engine.connect() as conn:
            original = resolve_deployment(conn, ref)
            if original.kind != "prices":
                raise FleetError(f"deployment {original.short_id} is a {original.kind} update, not prices")
            if original.state in (ROLLED_BACK, SUPERSEDED):
                raise FleetError(f"deployment {original.short_id} is {original.state} ({original.state_reason})")
            targets = sorted({(t.store_id, t.device_id) for t in load_targets(conn, original.deployment_id)})
            rolled = _list_of(conn, original.artifact_sha256)
            previous = rollout.previous_deployment(conn, original, set(targets))
            before = _list_of(conn, previous.artifact_sha256) if previous is not None else None
        if rolled is None:
            raise FleetError(f"the price list of {original.short_id} is no longer recorded: approve new prices "
                             "instead")
        kept = {c.change_id for c in before.changes} | {p.promotion_id for p in before.promotions} if before else set()
        brought = [c.change_id for c in rolled.changes] + [p.promotion_id for p in rolled.promotions]
        taken = [cid for cid in brought if cid not in kept]
        ch.withdraw(engine, rolled.store_id, taken)
        prices, _approved = price_list(engine, rolled.store_id, now)
        created = _deploy(settings, engine, pub, key, prices, f"rollback of prices v{original.version}: "
                          f"{len(taken)} change(s)/offer(s) withdrawn", targets, now, original.deployment_id)
        new = created.deployment
        with engine.begin() as conn:
            set_state(conn, original.deployment_id, ROLLED_BACK,
                      f"rolled back by {new.short_id} (v{new.version}): {len(taken)} change(s)/offer(s) withdrawn",
                      iso(now))
        publish_desired(engine, pub, created.released, [], now)
    log.warning("prices deployment %s rolled back by %s (v%d): withdrew %s", original.deployment_id,
                new.deployment_id, new.version, ", ".join(taken) or "nothing")
    return created
