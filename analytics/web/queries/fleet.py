"""The fleet as the hub knows it: every device the broker has heard from (``devices``, kept by the
ingest from status, telemetry and reported messages) together with every registered device
(``device_registry``, including those never seen), and the rollouts (``deployments``) with each
target's progress (``deployment_targets``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from analytics.db import fleet_tables as ft
from analytics.db import tables as t
from analytics.web.tenancy import StoreScope

# deployment_targets.state values (analytics/fleet/records.py), grouped the way a person reads a
# rollout: not released yet, released and not finished (the device's reported step), outcomes
WAITING = ("waiting",)
IN_PROGRESS = ("published", "accepted", "downloading", "verifying", "installing", "self_test", "awaiting_idle",
               "switching", "health_window", "rolling_back")
SUCCEEDED = ("succeeded",)
FAILED = ("failed", "refused")
ROLLED_BACK = ("rolled_back",)
SUPERSEDED = ("superseded",)  # a newer deployment of the same kind took the device over
OPEN_DEPLOYMENT_STATES = ("active", "paused")


@dataclass(frozen=True)
class DeviceRow:
    store_id: str
    device_id: str
    group: str | None
    registered: bool
    state: str  # online | offline | never seen
    online: bool
    status_at: str | None
    status_reason: str | None
    first_seen: str | None
    last_seen: str | None
    tillsight_version: str | None
    model_version: int | None  # the fleet version; 0 is the bundle the device was set up with
    model_name: str | None
    model: str | None  # what a person reads: "v8 · 20261120.8", "20261120.0 (as installed)"
    config_version: int | None
    update: str | None  # "model v8: downloading 45%" while an update runs
    update_deployment: str | None
    update_step: str | None
    update_progress: float | None
    update_detail: str | None
    last_outcome: str | None  # "model v7 succeeded"
    last_outcome_at: str | None
    backlog: int | None
    oldest_unsent_age_s: float | None
    disk_free_bytes: int | None
    telemetry_at: str | None
    gaps: int
    last_seq: int | None


def model_label(version: int | None, bundle: str | None) -> str | None:
    """The model a device runs, in words: the fleet version with its bundle, or the bundle it was set
    up with when the fleet has installed none (version 0 means "not installed by the fleet", not a model 0)."""
    if version is None and not bundle:
        return None
    if not version:
        return f"{bundle} (as installed)" if bundle else "as installed"
    return f"v{version} · {bundle}" if bundle else f"v{version}"


@dataclass(frozen=True)
class FleetSummary:
    devices: int
    online: int
    offline: int
    never_seen: int
    updating: int
    backlog_total: int
    with_backlog: int
    with_gaps: int
    open_deployments: int


@dataclass(frozen=True)
class DeploymentRow:
    deployment_id: str
    kind: str
    name: str
    version: int
    target_kind: str
    target: str
    state: str
    state_reason: str | None
    current_wave: int  # 1-based for people
    waves: int
    wave_shares: list[float]
    success_threshold: float
    failure_threshold: float
    rollback_of: str | None
    created_at: str
    updated_at: str
    targets: int
    waiting: int
    in_progress: int
    succeeded: int
    failed: int
    rolled_back: int
    superseded: int
    progress: float  # succeeded / targets not superseded


@dataclass(frozen=True)
class WaveRow:
    deployment_id: str
    wave: int  # 1-based
    share: float | None  # cumulative share of the targets this wave reaches
    status: str  # done | current | pending
    targets: int
    waiting: int
    in_progress: int
    succeeded: int
    failed: int
    rolled_back: int
    superseded: int


@dataclass(frozen=True)
class TargetRow:
    deployment_id: str
    store_id: str
    device_id: str
    wave: int  # 1-based
    state: str
    progress: float
    detail: str | None
    published_at: str | None
    updated_at: str


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _update_text(kind: Any, version: Any, step: str | None, progress: float | None) -> str | None:
    if not step:
        return None
    what = f"{kind} v{version}: " if kind and version is not None else ""
    share = f" {progress * 100:.0f}%" if progress is not None and step == "downloading" else ""
    return f"{what}{step.replace('_', ' ')}{share}"


def _active_targets(conn: Connection, scope: StoreScope) -> dict[tuple[str, str], dict[str, Any]]:
    """The newest in-progress target row of an open deployment, per device."""
    dt, d = ft.deployment_targets.c, ft.deployments.c
    rows = conn.execute(
        select(dt.store_id, dt.device_id, dt.deployment_id, dt.state, dt.progress, dt.detail, dt.updated_at,
               d.kind, d.version)
        .join(ft.deployments, ft.deployments.c.deployment_id == dt.deployment_id)
        .where(scope.where(dt.store_id), d.state.in_(OPEN_DEPLOYMENT_STATES), dt.state.in_(IN_PROGRESS))
        .order_by(dt.updated_at)).mappings().all()
    return {(r["store_id"], r["device_id"]): dict(r) for r in rows}  # later rows win


def device_rows(conn: Connection, scope: StoreScope) -> list[DeviceRow]:
    """Every device in scope, heard from or only registered, sorted by store and device."""
    seen = {(r["store_id"], r["device_id"]): dict(r)
            for r in conn.execute(select(t.devices).where(scope.where(t.devices.c.store_id))).mappings()}
    registry = {(r["store_id"], r["device_id"]): dict(r) for r in conn.execute(
        select(ft.device_registry).where(scope.where(ft.device_registry.c.store_id))).mappings()}
    targets = _active_targets(conn, scope)
    out = []
    for key in sorted(set(seen) | set(registry)):
        dev, reg = seen.get(key), registry.get(key)
        reported = _dict(dev.get("reported")) if dev else {}
        telemetry = _dict(dev.get("telemetry")) if dev else {}
        versions = _dict(dev.get("versions")) if dev else {}
        model, config = _dict(reported.get("model")), _dict(reported.get("config"))
        update = _dict(reported.get("update"))
        results = reported.get("results") if isinstance(reported.get("results"), list) else []
        last = _dict(results[0]) if results else {}
        online = bool(dev and dev["online"])
        step = update.get("step") if isinstance(update.get("step"), str) else None
        progress = float(update["progress"]) if isinstance(update.get("progress"), (int, float)) else None
        deployment = update.get("deployment_id") if step else None
        detail = update.get("detail") if step else None
        kind, version = update.get("kind"), update.get("version")
        target = targets.get(key)
        if step is None and target is not None:  # the device has not reported it yet: the hub's view
            step, progress, deployment, detail = target["state"], float(target["progress"] or 0), \
                target["deployment_id"], target["detail"]
            kind, version = target["kind"], target["version"]
        backlog = dev.get("backlog") if dev else None
        if backlog is None and isinstance(telemetry.get("backlog"), int):
            backlog = telemetry["backlog"]
        out.append(DeviceRow(
            store_id=key[0], device_id=key[1],
            group=(reg or {}).get("group_id") or (reported.get("group") if isinstance(reported.get("group"), str)
                                                   else None),
            registered=reg is not None,
            state="never seen" if dev is None else ("online" if online else "offline"),
            online=online, status_at=dev.get("status_at") if dev else None,
            status_reason=(dev.get("status_reason") or None) if dev else None,
            first_seen=dev.get("first_seen") if dev else None, last_seen=dev.get("last_seen") if dev else None,
            tillsight_version=str(versions["tillsight"]) if versions.get("tillsight") is not None else None,
            model_version=_int(model.get("version")),
            model_name=(model.get("bundle_version") or model.get("name")) if model else None,
            model=model_label(_int(model.get("version")),
                              (model.get("bundle_version") or model.get("name")) if model else None),
            config_version=_int(config.get("version")),
            update=_update_text(kind, version, step, progress), update_deployment=deployment, update_step=step,
            update_progress=progress, update_detail=detail or None,
            last_outcome=(f"{last.get('kind')} v{last.get('version')} {last.get('outcome')}" if last.get("outcome")
                          else None),
            last_outcome_at=last.get("at") if last else None,
            backlog=_int(backlog),
            oldest_unsent_age_s=float(telemetry["oldest_unsent_age_s"])
            if isinstance(telemetry.get("oldest_unsent_age_s"), (int, float)) else None,
            disk_free_bytes=_int(telemetry.get("disk_free_bytes")),
            telemetry_at=telemetry.get("at") if isinstance(telemetry.get("at"), str) else None,
            gaps=int(dev.get("gaps") or 0) if dev else 0,
            last_seq=_int(dev.get("last_seq")) if dev else None))
    return out


def _state_counts(counts: Counter) -> dict[str, int]:
    return {"targets": sum(counts.values()),
            "waiting": sum(counts[s] for s in WAITING),
            "in_progress": sum(counts[s] for s in IN_PROGRESS),
            "succeeded": sum(counts[s] for s in SUCCEEDED),
            "failed": sum(counts[s] for s in FAILED),
            "rolled_back": sum(counts[s] for s in ROLLED_BACK),
            "superseded": sum(counts[s] for s in SUPERSEDED)}


def _share(part: int, whole: int) -> float:
    return part / whole if whole > 0 else 0.0


def _deployment_filter(scope: StoreScope):
    """Deployments with at least one target in scope (all of them for an all-stores scope)."""
    d, dt = ft.deployments.c, ft.deployment_targets.c
    if scope.all_stores:
        return None
    return d.deployment_id.in_(select(dt.deployment_id).where(scope.where(dt.store_id)))


def deployment_rows(conn: Connection, scope: StoreScope, limit: int | None = None,
                    deployment_id: str | None = None) -> list[DeploymentRow]:
    """Deployments newest first, each with its targets counted by state (targets in scope only)."""
    d, dt = ft.deployments.c, ft.deployment_targets.c
    q = select(ft.deployments).order_by(d.created_at.desc(), d.deployment_id)
    flt = _deployment_filter(scope)
    if flt is not None:
        q = q.where(flt)
    if deployment_id is not None:
        q = q.where(d.deployment_id == deployment_id)
    if limit is not None:
        q = q.limit(limit)
    rows = conn.execute(q).mappings().all()
    if not rows:
        return []
    ids = [r["deployment_id"] for r in rows]
    counts: dict[str, Counter] = defaultdict(Counter)
    for dep, state, n in conn.execute(
            select(dt.deployment_id, dt.state, func.count()).where(dt.deployment_id.in_(ids), scope.where(dt.store_id))
            .group_by(dt.deployment_id, dt.state)):
        counts[dep][state] += int(n)
    out = []
    for r in rows:
        c = _state_counts(counts[r["deployment_id"]])
        waves = [float(x) for x in r["waves"]] if isinstance(r["waves"], list) else []
        out.append(DeploymentRow(
            deployment_id=r["deployment_id"], kind=r["kind"], name=r["name"], version=int(r["version"]),
            target_kind=r["target_kind"], target=r["target"], state=r["state"], state_reason=r["state_reason"],
            current_wave=int(r["current_wave"] or 0) + 1, waves=len(waves), wave_shares=waves,
            success_threshold=float(r["success_threshold"]), failure_threshold=float(r["failure_threshold"]),
            rollback_of=r["rollback_of"], created_at=r["created_at"], updated_at=r["updated_at"],
            progress=_share(c["succeeded"], c["targets"] - c["superseded"]), **c))
    return out


def deployment(conn: Connection, scope: StoreScope, deployment_id: str) -> DeploymentRow | None:
    found = deployment_rows(conn, scope, deployment_id=deployment_id)
    return found[0] if found else None


def wave_rows(conn: Connection, scope: StoreScope, dep: DeploymentRow) -> list[WaveRow]:
    """One row per wave of a deployment, its targets counted by state."""
    dt = ft.deployment_targets.c
    counts: dict[int, Counter] = defaultdict(Counter)
    for wave, state, n in conn.execute(
            select(dt.wave, dt.state, func.count()).where(dt.deployment_id == dep.deployment_id,
                                                          scope.where(dt.store_id)).group_by(dt.wave, dt.state)):
        counts[int(wave)][state] += int(n)
    n_waves = max([dep.waves, *[w + 1 for w in counts]]) if (dep.waves or counts) else 0
    out = []
    for w in range(n_waves):
        current = dep.current_wave - 1
        status = "done" if w < current else ("current" if w == current else "pending")
        if dep.state in ("completed",):
            status = "done"
        out.append(WaveRow(deployment_id=dep.deployment_id, wave=w + 1,
                           share=dep.wave_shares[w] if w < len(dep.wave_shares) else None, status=status,
                           **_state_counts(counts[w])))
    return out


def target_rows(conn: Connection, scope: StoreScope, deployment_id: str,
                states: tuple[str, ...] | None = None) -> list[TargetRow]:
    dt = ft.deployment_targets.c
    q = (select(ft.deployment_targets).where(dt.deployment_id == deployment_id, scope.where(dt.store_id))
         .order_by(dt.wave, dt.store_id, dt.device_id))
    if states is not None:
        q = q.where(dt.state.in_(states))
    return [TargetRow(deployment_id=r["deployment_id"], store_id=r["store_id"], device_id=r["device_id"],
                      wave=int(r["wave"]) + 1, state=r["state"], progress=float(r["progress"] or 0),
                      detail=r["detail"], published_at=r["published_at"], updated_at=r["updated_at"])
            for r in conn.execute(q).mappings()]


def fleet_summary(devices: list[DeviceRow], deployments: list[DeploymentRow]) -> FleetSummary:
    states = Counter(d.state for d in devices)
    return FleetSummary(
        devices=len(devices), online=states["online"], offline=states["offline"], never_seen=states["never seen"],
        updating=sum(1 for d in devices if d.update_step),
        backlog_total=sum(d.backlog or 0 for d in devices), with_backlog=sum(1 for d in devices if d.backlog),
        with_gaps=sum(1 for d in devices if d.gaps),
        open_deployments=sum(1 for d in deployments if d.state in OPEN_DEPLOYMENT_STATES))


@dataclass(frozen=True)
class DeadLetterRow:
    letter_id: int
    received_at: str
    store_id: str | None  # read from the topic (the payload may be unreadable)
    device_id: str | None
    message: str | None  # the topic's last part: tx, alert, telemetry, ...
    reason: str
    topic: str
    payload: str  # as received (cut to PAYLOAD_SHOWN characters)


PAYLOAD_SHOWN = 2000


def _store_like(store_id: str) -> str:
    return "%/" + store_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"


def dead_letter_rows(conn: Connection, scope: StoreScope, store_id: str | None = None,
                     limit: int = 200) -> list[DeadLetterRow] | None:
    """The messages the ingest could not store, newest first, with the store and device their topic
    names.  Operators only, like :func:`dead_letter_count` (None for any other scope)."""
    if not scope.all_stores:
        return None
    d = t.dead_letters.c
    q = select(d.id, d.topic, d.payload, d.reason, d.received_at).order_by(d.received_at.desc(), d.id.desc())
    if store_id is not None:
        q = q.where(d.topic.like(_store_like(store_id), escape="\\"))
    out = []
    for r in conn.execute(q.limit(limit)).all():
        parts = str(r.topic).split("/")
        store, device, leaf = (parts[-3], parts[-2], parts[-1]) if len(parts) >= 3 else (None, None, None)
        out.append(DeadLetterRow(letter_id=int(r.id), received_at=r.received_at, store_id=store or None,
                                 device_id=device or None, message=leaf or None, reason=r.reason, topic=r.topic,
                                 payload=str(r.payload)[:PAYLOAD_SHOWN]))
    return out


def dead_letter_count(conn: Connection, scope: StoreScope, store_id: str | None = None) -> int | None:
    """Messages the ingest could not store.  Only for an all-stores scope (operators): a dead
    letter may be unreadable, so it cannot be trusted to say which tenant it belongs to."""
    if not scope.all_stores:
        return None
    q = select(func.count()).select_from(t.dead_letters)
    if store_id is not None:
        q = q.where(t.dead_letters.c.topic.like(_store_like(store_id), escape="\\"))
    return int(conn.execute(q).scalar_one())
