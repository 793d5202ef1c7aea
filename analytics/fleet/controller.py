"""The rollout controller: one ``tick`` reads each target device's latest ``reported`` document
(stored by the ingest in ``devices.reported``), records the device's step or outcome for that
deployment in ``deployment_targets``, then for each active deployment either stops it (more than
``failure_threshold`` of its released devices failed, were rolled back or refused; or every
released device finished and fewer than ``success_threshold`` succeeded), releases the next wave
(at least ``success_threshold`` succeeded), or marks it completed (the same, on the last wave).
The desired documents of every device and group whose answer changed are recomputed from the
database and published."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, select, update

from analytics.db.fleet_tables import deployment_targets as dt
from analytics.db.fleet_tables import deployments as dep_table
from analytics.db.tables import devices as devices_table
from analytics.fleet.manifests import iso
from analytics.fleet.progress import Summary, summarize
from analytics.fleet.publisher import RetainedSink, publish_desired
from analytics.fleet.records import (
    ACTIVE,
    COMPLETED,
    OUTCOMES,
    PUBLISHED,
    STEPS,
    STOPPED,
    SUCCEEDED,
    SUPERSEDED,
    WAITING,
    Deployment,
    DeviceId,
    Target,
    list_deployments,
    load_deployment,
    load_targets,
    set_state,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    deployment_id: str
    what: Literal["wave_released", "stopped", "completed"]
    message: str


@dataclass
class TickResult:
    summaries: list[Summary]
    events: list[Event]
    updated_targets: int
    published: int


def observed_state(reported: Any, deployment: Deployment, outcomes_only: bool = False
                   ) -> tuple[str, float | None, str] | None:
    """What a device's ``reported`` document says about this deployment: (state, progress, detail),
    or None when it says nothing about it.  ``outcomes_only``: only an outcome the device reported
    in ``results`` (for a superseded target)."""
    if not isinstance(reported, dict):
        return None
    results = reported.get("results")
    for result in results if isinstance(results, list) else []:  # newest first
        if (isinstance(result, dict) and result.get("deployment_id") == deployment.deployment_id
                and result.get("outcome") in OUTCOMES):
            return str(result["outcome"]), 1.0 if result["outcome"] == SUCCEEDED else None, \
                str(result.get("reason") or "")[:2000]
    if outcomes_only:
        return None
    step = reported.get("update")
    if isinstance(step, dict) and step.get("deployment_id") == deployment.deployment_id and step.get("step") in STEPS:
        progress = step.get("progress")
        value = min(max(float(progress), 0.0), 1.0) if isinstance(progress, (int, float)) else None
        return str(step["step"]), value, str(step.get("detail") or "")[:2000]
    running = reported.get(deployment.kind)
    if (isinstance(running, dict) and running.get("version") == deployment.version
            and running.get("sha256") in (None, deployment.artifact_sha256)):
        return SUCCEEDED, 1.0, "running it (no result reported)"
    trusted = reported.get("trusted")
    accepted = trusted.get(deployment.kind) if isinstance(trusted, dict) else None
    if isinstance(accepted, int) and not isinstance(accepted, bool) and accepted > deployment.version:
        # the device takes this version for old news and will never act on it
        return "refused", None, (f"the device already accepted {deployment.kind} v{accepted}, above this "
                                 f"version (v{deployment.version})")
    return None


def refresh_targets(conn: Connection, stamp: str) -> int:
    """Record what devices report about every released target not yet at an outcome; returns
    the number of targets changed."""
    rows = conn.execute(select(dt, dep_table.c.current_wave)
                        .select_from(dt.join(dep_table, dt.c.deployment_id == dep_table.c.deployment_id))
                        .where(dt.c.state.not_in(sorted(OUTCOMES)), dt.c.wave <= dep_table.c.current_wave)
                        ).mappings().all()
    if not rows:
        return 0
    stores = sorted({r["store_id"] for r in rows})
    reported = {(r.store_id, r.device_id): r.reported for r in conn.execute(
        select(devices_table.c.store_id, devices_table.c.device_id, devices_table.c.reported)
        .where(devices_table.c.store_id.in_(stores)))}
    cache: dict[str, Deployment] = {}
    changed = 0
    for row in rows:
        target = Target.from_row(row)
        deployment = cache.get(target.deployment_id) or load_deployment(conn, target.deployment_id)
        cache[target.deployment_id] = deployment
        # a superseded target only records how it ended, as the device reported it
        seen = observed_state(reported.get((target.store_id, target.device_id)), deployment,
                              outcomes_only=target.state == SUPERSEDED)
        if seen is None:
            continue
        state, progress, detail = seen
        new_progress = target.progress if progress is None else progress
        if (state, new_progress, detail) == (target.state, target.progress, target.detail or ""):
            continue
        conn.execute(update(dt).where(dt.c.deployment_id == target.deployment_id, dt.c.store_id == target.store_id,
                                      dt.c.device_id == target.device_id)
                     .values(state=state, progress=new_progress, detail=detail, updated_at=stamp))
        changed += 1
    return changed


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _stop(conn: Connection, deployment: Deployment, targets: Sequence[Target], stamp: str,
          devices: set[DeviceId], groups: set[str], reason: str) -> list[Event]:
    """Stop a rollout: no further wave, and the update is withdrawn from the released devices that
    have not succeeded with it (their desired document falls back to what they had)."""
    set_state(conn, deployment.deployment_id, STOPPED, reason, stamp)
    devices.update((t.store_id, t.device_id) for t in targets
                   if t.wave <= deployment.current_wave and t.state != SUCCEEDED)
    if deployment.target_kind == "group" and deployment.fully_released:
        groups.add(deployment.target)
    short = f"{deployment.short_id} {deployment.kind} v{deployment.version}"
    log.warning("deployment %s %s", short, reason)
    return [Event(deployment.deployment_id, "stopped", f"{short} {reason}")]


def _advance(conn: Connection, deployment: Deployment, stamp: str,
             devices: set[DeviceId], groups: set[str]) -> list[Event]:
    """Stop, release the next wave(s) or complete one active deployment."""
    targets = load_targets(conn, deployment.deployment_id)
    s = summarize(deployment, targets)
    short = f"{deployment.short_id} {deployment.kind} v{deployment.version}"
    if s.released and s.failure_share > deployment.failure_threshold:
        return _stop(conn, deployment, targets, stamp, devices, groups,
                     f"stopped: {s.failed} of {s.released} released devices failed ({_pct(s.failure_share)}), "
                     f"more than the failure threshold {_pct(deployment.failure_threshold)}; {s.waiting} "
                     "device(s) not released")
    if s.released and s.success_share < deployment.success_threshold:
        if s.pending or s.in_progress:
            return []  # wait for the devices still at it
        return _stop(conn, deployment, targets, stamp, devices, groups,
                     f"stopped: only {s.succeeded} of {s.released} released devices succeeded "
                     f"({_pct(s.success_share)}), below the success threshold "
                     f"{_pct(deployment.success_threshold)}, and none is still updating; {s.waiting} device(s) "
                     "not released")
    if deployment.fully_released:
        reason = f"completed: {s.succeeded} of {s.released} devices succeeded ({_pct(s.success_share)})"
        set_state(conn, deployment.deployment_id, COMPLETED, reason, stamp)
        log.info("deployment %s %s", short, reason)
        return [Event(deployment.deployment_id, "completed", f"{short} {reason}")]
    wave, released_now = deployment.current_wave, []
    while wave < deployment.last_wave:  # release the next wave; skip waves with nobody left in them
        wave += 1
        released_now = [t for t in targets if t.wave == wave and t.state == WAITING]
        if released_now:
            break
    conn.execute(update(dt).where(dt.c.deployment_id == deployment.deployment_id, dt.c.wave <= wave,
                                  dt.c.state == WAITING)
                 .values(state=PUBLISHED, published_at=stamp, updated_at=stamp))
    basis = f"{s.succeeded} of {s.released} succeeded" if s.released else "no devices left in earlier waves"
    reason = f"wave {wave + 1}/{len(deployment.waves)} released ({len(released_now)} device(s)) after {basis}"
    set_state(conn, deployment.deployment_id, ACTIVE, reason, stamp, current_wave=wave)
    devices.update((t.store_id, t.device_id) for t in targets if t.wave <= wave and t.state == WAITING)
    if deployment.target_kind == "group" and wave >= deployment.last_wave:
        groups.add(deployment.target)
    log.info("deployment %s %s", short, reason)
    return [Event(deployment.deployment_id, "wave_released", f"{short} {reason}")]


def tick(engine: Engine, sink: RetainedSink, now: datetime) -> TickResult:
    """One pass of the controller over every deployment; publishes what changed."""
    stamp = iso(now)
    devices: set[DeviceId] = set()
    groups: set[str] = set()
    events: list[Event] = []
    with engine.begin() as conn:
        updated = refresh_targets(conn, stamp)
        for deployment in list_deployments(conn, limit=None, states=frozenset({ACTIVE})):
            events += _advance(conn, deployment, stamp, devices, groups)
    published = publish_desired(engine, sink, devices, groups, now) if devices or groups else 0
    touched = {e.deployment_id for e in events}
    with engine.connect() as conn:
        summaries = [summarize(d, load_targets(conn, d.deployment_id))
                     for d in list_deployments(conn, limit=None)
                     if d.state == ACTIVE or d.deployment_id in touched]
    return TickResult(summaries, events, updated, published)
