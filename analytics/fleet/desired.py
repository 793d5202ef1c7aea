"""``tillsight.desired/1`` documents, computed from the database alone (deployments + targets), so
that publishing, releasing a wave, a stop and a rollback all produce the same answer.

Per device and kind the desired manifest is the highest-version one among the deployments that
cover the device in a wave already released, and that still stand: ``active``, ``paused``,
``completed`` or ``superseded`` (a newer one has a higher version anyway), and a ``stopped`` one
only where the device already succeeded with it (a stop withdraws the update from the devices that
have not finished).  A ``rolled_back`` deployment never counts.

Per group and kind it is the highest-version *group* deployment whose last wave is released and
that still stands (``active``, ``completed``, ``superseded``); devices that join the group later
take it from ``fleet/{group}/desired``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from analytics.db.fleet_tables import deployment_targets as dt
from analytics.db.fleet_tables import deployments as dep
from analytics.fleet.manifests import iso
from analytics.fleet.records import ACTIVE, COMPLETED, PAUSED, STOPPED, SUCCEEDED, SUPERSEDED

DESIRED_SCHEMA = "tillsight.desired/1"
KINDS = ("model", "config", "gallery", "prices")
_STANDING = (ACTIVE, PAUSED, COMPLETED, SUPERSEDED)
_GROUP_STANDING = (ACTIVE, COMPLETED, SUPERSEDED)


def device_manifests(conn: Connection, store_id: str, device_id: str) -> dict[str, dict[str, Any] | None]:
    rows = conn.execute(
        select(dep.c.kind, dep.c.version, dep.c.manifest)
        .select_from(dt.join(dep, dt.c.deployment_id == dep.c.deployment_id))
        .where(dt.c.store_id == store_id, dt.c.device_id == device_id, dt.c.wave <= dep.c.current_wave,
               or_(dep.c.state.in_(_STANDING), and_(dep.c.state == STOPPED, dt.c.state == SUCCEEDED)))
        .order_by(dep.c.version.desc())).all()
    return _highest_per_kind(rows)


def group_manifests(conn: Connection, group: str) -> dict[str, dict[str, Any] | None]:
    rows = conn.execute(
        select(dep.c.kind, dep.c.version, dep.c.manifest, dep.c.waves, dep.c.current_wave)
        .where(dep.c.target_kind == "group", dep.c.target == group, dep.c.state.in_(_GROUP_STANDING))
        .order_by(dep.c.version.desc())).all()
    released = [r for r in rows if int(r.current_wave) >= len(r.waves) - 1]
    return _highest_per_kind(released)


def _highest_per_kind(rows: Iterable[Any]) -> dict[str, dict[str, Any] | None]:
    found: dict[str, dict[str, Any] | None] = dict.fromkeys(KINDS)
    best: dict[str, int] = {}
    for row in rows:
        if row.kind in found and int(row.version) > best.get(row.kind, 0):
            best[row.kind] = int(row.version)
            found[row.kind] = dict(row.manifest)
    return found


def desired_document(manifests: dict[str, dict[str, Any] | None], now: datetime) -> dict[str, Any]:
    doc = {"schema": DESIRED_SCHEMA, "published_at": iso(now), "model": manifests.get("model"),
           "config": manifests.get("config")}
    if manifests.get("gallery"):  # only when there is one: devices before galleries refuse the key
        doc["gallery"] = manifests["gallery"]
    if manifests.get("prices"):  # likewise: a store's price changes (analytics/pricing/push.py)
        doc["prices"] = manifests["prices"]
    return doc


def released_devices(conn: Connection) -> list[tuple[str, str]]:
    """Every device that any deployment has released to (the set a full republish covers)."""
    rows = conn.execute(
        select(dt.c.store_id, dt.c.device_id).distinct()
        .select_from(dt.join(dep, dt.c.deployment_id == dep.c.deployment_id))
        .where(dt.c.wave <= dep.c.current_wave)).all()
    return sorted((r.store_id, r.device_id) for r in rows)


def deployed_groups(conn: Connection) -> list[str]:
    """Every group that a group deployment was ever fully released to."""
    rows = conn.execute(select(dep.c.target, dep.c.waves, dep.c.current_wave)
                        .where(dep.c.target_kind == "group")).all()
    return sorted({r.target for r in rows if int(r.current_wave) >= len(r.waves) - 1})
