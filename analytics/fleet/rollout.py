"""Rollouts: who gets a deployment and when.

``create_deployment`` records a signed deployment and its targets in one transaction, with the
next version number; the targets are ordered by a stable hash of their ``store/device`` id (so
the same devices go first in every rollout: a fixed, known canary set) and split into waves by
cumulative shares (``0.1,0.5,1`` on 10 devices gives waves of 1, 4 and 5 devices; wave 0 always
has at least one).  A newer deployment of the same kind takes over the devices it covers from
older ones: their targets become ``superseded``, and an active deployment whose every device is
covered becomes ``superseded`` itself.

The controller that releases waves, stops and completes rollouts is ``controller.tick``.

``rollback`` ships the artifact the devices ran before (the newest earlier deployment of that
kind that succeeded on them) as a NEW deployment with a higher version, all at once, and marks the
original ``rolled_back``.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, insert, or_, select, update

from analytics.db.fleet_tables import deployment_targets as dt
from analytics.db.fleet_tables import deployments as dep_table
from analytics.db.fleet_tables import device_registry
from analytics.db.tables import devices as devices_table
from analytics.fleet.artifacts import StoredArtifact, find_artifact
from analytics.fleet.errors import FleetError
from analytics.fleet.manifests import Health, build_manifest, iso, next_version, sign
from analytics.fleet.publisher import RetainedSink, publish_chunks, publish_desired
from analytics.fleet.records import (
    ACTIVE,
    OUTCOMES,
    PAUSED,
    PUBLISHED,
    ROLLED_BACK,
    SUCCEEDED,
    SUPERSEDED,
    WAITING,
    Deployment,
    DeviceId,
    list_deployments,
    load_deployment,
    load_targets,
    resolve_deployment,
    set_state,
)

log = logging.getLogger(__name__)

DEVICE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}/[a-z0-9][a-z0-9-]{0,31}$")
GROUP_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DEFAULT_WAVES: tuple[float, ...] = (1.0,)
DEFAULT_SUCCESS_THRESHOLD = 0.9
DEFAULT_FAILURE_THRESHOLD = 0.2


# --- what the operator asks for ------------------------------------------------------------------


@dataclass(frozen=True)
class TargetSpec:
    kind: Literal["device", "group"]
    value: str  # "store/device" or a group id

    @classmethod
    def parse(cls, device: str | None, group: str | None) -> TargetSpec:
        if (device is None) == (group is None):
            raise FleetError("give exactly one target: --device STORE/DEVICE or --group GROUP")
        if device is not None:
            if not DEVICE_RE.fullmatch(device):
                raise FleetError(f"--device {device!r}: expected STORE/DEVICE with lower-case ids, e.g. s-001/till-1")
            if device.split("/", 1)[0] == "fleet":
                raise FleetError("--device: 'fleet' is not a valid store id (the topic is reserved)")
            return cls("device", device)
        assert group is not None
        if not GROUP_RE.fullmatch(group):
            raise FleetError(f"--group {group!r}: use 1-64 letters, digits, '_' or '-'")
        if group == "artifacts":
            raise FleetError("--group: 'artifacts' is reserved (fleet/artifacts/... carries artifact chunks)")
        return cls("group", group)

    def manifest_target(self) -> dict[str, Any]:
        return {"devices": [self.value]} if self.kind == "device" else {"group": self.value}


@dataclass(frozen=True)
class RolloutPlan:
    waves: tuple[float, ...] = DEFAULT_WAVES
    success_threshold: float = DEFAULT_SUCCESS_THRESHOLD
    failure_threshold: float = DEFAULT_FAILURE_THRESHOLD

    def __post_init__(self) -> None:
        check_waves(self.waves)
        if not 0.0 < self.success_threshold <= 1.0:
            raise FleetError(f"--success-threshold {self.success_threshold}: must be above 0 and at most 1")
        if not 0.0 <= self.failure_threshold <= 1.0:
            raise FleetError(f"--failure-threshold {self.failure_threshold}: must be between 0 and 1")


def parse_waves(text: str) -> tuple[float, ...]:
    """``"0.1,0.5,1"`` -> (0.1, 0.5, 1.0): cumulative shares of the targets per wave."""
    try:
        waves = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise FleetError(f"--waves {text!r}: give comma-separated shares such as 0.1,0.5,1") from None
    check_waves(waves)
    return waves


def check_waves(waves: Sequence[float]) -> None:
    if not waves:
        raise FleetError("--waves: give at least one share (1 = everything at once)")
    if any(not 0.0 < w <= 1.0 for w in waves):
        raise FleetError(f"--waves {','.join(map(str, waves))}: each share must be above 0 and at most 1")
    if any(b <= a for a, b in itertools.pairwise(waves)):
        raise FleetError(f"--waves {','.join(map(str, waves))}: shares are cumulative and must grow")
    if waves[-1] != 1.0:
        raise FleetError(f"--waves {','.join(map(str, waves))}: the last wave must be 1 (every device)")


def order_key(device: DeviceId) -> str:
    return hashlib.sha256(f"{device[0]}/{device[1]}".encode()).hexdigest()


def wave_bounds(n: int, waves: Sequence[float]) -> list[int]:
    """Cumulative device counts at the end of each wave: ceil(share * n), wave 0 at least 1."""
    bounds: list[int] = []
    for i, share in enumerate(waves):
        count = min(n, math.ceil(round(share * n, 9)))
        if i == 0 and n:
            count = max(count, 1)
        bounds.append(max(count, bounds[-1] if bounds else 0))
    if bounds:
        bounds[-1] = n
    return bounds


def assign_waves(devices: Iterable[DeviceId], waves: Sequence[float]) -> list[tuple[DeviceId, int]]:
    ordered = sorted(set(devices), key=order_key)
    bounds = wave_bounds(len(ordered), waves)
    out: list[tuple[DeviceId, int]] = []
    for index, device in enumerate(ordered):
        out.append((device, next(w for w, end in enumerate(bounds) if index < end)))
    return out


def resolve_devices(conn: Connection, spec: TargetSpec) -> list[DeviceId]:
    if spec.kind == "device":
        store_id, device_id = spec.value.split("/", 1)
        known = conn.execute(select(device_registry.c.store_id).where(
            device_registry.c.store_id == store_id, device_registry.c.device_id == device_id)).first()
        seen = conn.execute(select(devices_table.c.store_id).where(
            devices_table.c.store_id == store_id, devices_table.c.device_id == device_id)).first()
        if known is None and seen is None:
            raise FleetError(f"unknown device {spec.value}: it is not registered and the hub has never heard "
                             f"from it (register it with `tillsight hub device add --store {store_id} --device "
                             f"{device_id} --group GROUP`, or check the id)")
        return [(store_id, device_id)]
    rows = conn.execute(select(device_registry.c.store_id, device_registry.c.device_id)
                        .where(device_registry.c.group_id == spec.value)).all()
    if not rows:
        raise FleetError(f"group {spec.value!r} has no registered devices (register them with "
                         f"`tillsight hub device add --store S --device D --group {spec.value}`, or move them "
                         f"with `tillsight hub device group`)")
    return [(r.store_id, r.device_id) for r in rows]


def highest_trusted(conn: Connection, kind: str, targets: Sequence[DeviceId]) -> int:
    """The highest ``kind`` version these devices report having accepted (``reported.trusted``)."""
    wanted = set(targets)
    stores = sorted({s for s, _ in wanted})
    highest = 0
    for row in conn.execute(select(devices_table.c.store_id, devices_table.c.device_id, devices_table.c.reported)
                            .where(devices_table.c.store_id.in_(stores))):
        trusted = row.reported.get("trusted") if isinstance(row.reported, dict) else None
        value = trusted.get(kind) if isinstance(trusted, dict) else None
        if (row.store_id, row.device_id) in wanted and isinstance(value, int) and not isinstance(value, bool):
            highest = max(highest, value)
    return highest


# --- creating a deployment -----------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    deployment: Deployment
    released: list[DeviceId]  # devices whose desired document now carries it
    groups: list[str]  # groups whose desired document now carries it
    superseded: list[str]  # ids of deployments it superseded outright


def create_deployment(conn: Connection, *, key: Ed25519PrivateKey, artifact: StoredArtifact,
                      bundle_version: str | None, name: str, spec: TargetSpec, plan: RolloutPlan,
                      health: Health, chunk_size: int, expires_in: timedelta, now: datetime,
                      devices: Sequence[DeviceId] | None = None, rollback_of: str | None = None) -> Created:
    """Record a signed deployment with its targets (wave 0 released) inside the caller's
    transaction.  Nothing is published here: the caller publishes the artifact's chunks before and
    the desired documents after the commit."""
    stamp = iso(now)
    targets = list(devices) if devices is not None else resolve_devices(conn, spec)
    waves = DEFAULT_WAVES if spec.kind == "device" else plan.waves
    version = next_version(conn, artifact.kind, above=highest_trusted(conn, artifact.kind, targets))
    deployment_id = str(uuid.uuid4())
    manifest = sign(build_manifest(kind=artifact.kind, version=version, name=name, deployment_id=deployment_id,
                                   issued_at=now, expires_in=expires_in, target=spec.manifest_target(),
                                   artifact=artifact, chunk_size=chunk_size, health=health,
                                   bundle_version=bundle_version), key)
    conn.execute(insert(dep_table).values(
        deployment_id=deployment_id, kind=artifact.kind, version=version, name=manifest["name"],
        artifact_sha256=artifact.sha256, manifest=manifest, target_kind=spec.kind, target=spec.value,
        waves=list(waves), current_wave=0, success_threshold=plan.success_threshold,
        failure_threshold=plan.failure_threshold, state=ACTIVE,
        state_reason=f"wave 1/{len(waves)} released", rollback_of=rollback_of, created_at=stamp,
        updated_at=stamp))
    assigned = assign_waves(targets, waves)
    conn.execute(insert(dt), [
        {"deployment_id": deployment_id, "store_id": s, "device_id": d, "wave": wave,
         "state": PUBLISHED if wave == 0 else WAITING, "progress": 0.0, "detail": None,
         "published_at": stamp if wave == 0 else None, "updated_at": stamp}
        for (s, d), wave in assigned])
    superseded = _supersede(conn, artifact.kind, deployment_id, version, {d for d, _ in assigned}, stamp)
    deployment = load_deployment(conn, deployment_id)
    released = [d for d, wave in assigned if wave == 0]
    groups = [spec.value] if spec.kind == "group" and deployment.fully_released else []
    log.info("deployment %s: %s v%d (%s) to %s %s, %d device(s) in %d wave(s)", deployment_id, artifact.kind,
             version, manifest["name"], spec.kind, spec.value, len(assigned), len(waves))
    return Created(deployment, released, groups, superseded)


def _supersede(conn: Connection, kind: str, new_id: str, new_version: int, covered: set[DeviceId],
               stamp: str) -> list[str]:
    """Older deployments of ``kind`` hand the devices the new one covers over to it."""
    note = f"superseded by {new_id[:8]} (v{new_version})"
    superseded: list[str] = []
    open_targets = select(dt.c.deployment_id).where(dt.c.state.not_in(sorted(OUTCOMES | {SUPERSEDED})))
    older = conn.execute(select(dep_table).where(
        dep_table.c.kind == kind, dep_table.c.deployment_id != new_id, dep_table.c.version < new_version,
        or_(dep_table.c.state.in_((ACTIVE, PAUSED)), dep_table.c.deployment_id.in_(open_targets)))
        .order_by(dep_table.c.version)).mappings().all()
    for row in older:
        old = Deployment.from_row(row)
        targets = load_targets(conn, old.deployment_id)
        mine = [t for t in targets if (t.store_id, t.device_id) in covered]
        if not mine:
            continue
        for t in mine:
            if t.state not in OUTCOMES and t.state != SUPERSEDED:
                conn.execute(update(dt).where(dt.c.deployment_id == old.deployment_id, dt.c.store_id == t.store_id,
                                              dt.c.device_id == t.device_id)
                             .values(state=SUPERSEDED, detail=note, updated_at=stamp))
        if old.state in (ACTIVE, PAUSED) and len(mine) == len(targets):
            set_state(conn, old.deployment_id, SUPERSEDED, note, stamp)
            superseded.append(old.deployment_id)
    return superseded

# --- rollback ------------------------------------------------------------------------------------


def previous_deployment(conn: Connection, deployment: Deployment, devices: set[DeviceId]) -> Deployment | None:
    """The newest earlier deployment of the same kind, with another artifact, that succeeded on
    at least one of ``devices``: what they ran before."""
    for older in list_deployments(conn, limit=None, kind=deployment.kind):
        if (older.version >= deployment.version or older.state == ROLLED_BACK
                or older.artifact_sha256 == deployment.artifact_sha256):
            continue
        if any(t.state == SUCCEEDED and (t.store_id, t.device_id) in devices
               for t in load_targets(conn, older.deployment_id)):
            return older
    return None


@dataclass(frozen=True)
class RollbackPlan:
    original: Deployment
    previous: Deployment
    artifact: StoredArtifact
    devices: list[DeviceId]


def plan_rollback(conn: Connection, ref: str) -> RollbackPlan:
    original = resolve_deployment(conn, ref)
    if original.state == ROLLED_BACK:
        raise FleetError(f"deployment {original.short_id} was already rolled back ({original.state_reason})")
    if original.state == SUPERSEDED:
        raise FleetError(f"deployment {original.short_id} was superseded ({original.state_reason}); roll back "
                         "the newer deployment instead")
    devices = sorted({(t.store_id, t.device_id) for t in load_targets(conn, original.deployment_id)})
    previous = previous_deployment(conn, original, set(devices))
    if previous is None:
        raise FleetError(f"cannot roll back {original.short_id} ({original.kind} v{original.version}): no earlier "
                         f"{original.kind} deployment succeeded on its devices, so the hub does not know what they "
                         f"ran before. Publish the {original.kind} you want with `tillsight hub fleet publish`.")
    artifact = find_artifact(conn, previous.artifact_sha256)
    if artifact is None:
        raise FleetError(f"the artifact of {previous.short_id} ({previous.artifact_sha256[:12]}) is no longer "
                         "recorded; publish it again")
    return RollbackPlan(original, previous, artifact, devices)


def rollback(engine: Engine, sink: RetainedSink, key: Ed25519PrivateKey, ref: str, *, chunk_size: int,
             expires_in: timedelta, now: datetime) -> Created:
    """Roll a deployment back: publish the previous artifact's chunks, record a new deployment
    (next version, one wave) marking the original ``rolled_back``, and publish the desired
    documents."""
    with engine.connect() as conn:
        plan = plan_rollback(conn, ref)
    data = plan.artifact.read()
    publish_chunks(sink, plan.artifact.sha256, data, chunk_size)
    original, previous = plan.original, plan.previous
    with engine.begin() as conn:
        current = load_deployment(conn, original.deployment_id)
        if current.state in (ROLLED_BACK, SUPERSEDED):  # someone else got there first
            raise FleetError(f"deployment {current.short_id} is now {current.state}: {current.state_reason}")
        health = Health(**{k: v for k, v in previous.manifest["health"].items()
                           if k in ("window_s", "max_inference_ms", "max_errors")})
        created = create_deployment(
            conn, key=key, artifact=plan.artifact,
            bundle_version=previous.manifest["artifact"].get("bundle_version"),
            name=f"rollback to {previous.name}", spec=TargetSpec(original.target_kind, original.target),  # type: ignore[arg-type]
            plan=RolloutPlan(DEFAULT_WAVES, original.success_threshold, original.failure_threshold),
            health=health, chunk_size=chunk_size, expires_in=expires_in, now=now, devices=plan.devices,
            rollback_of=original.deployment_id)
        new = created.deployment
        set_state(conn, original.deployment_id, ROLLED_BACK,
                   f"rolled back by {new.short_id} (v{new.version}) to {previous.name} "
                   f"(v{previous.version})", iso(now))
    publish_desired(engine, sink, plan.devices, created.groups, now)
    log.warning("deployment %s rolled back by %s (v%d)", original.deployment_id, new.deployment_id, new.version)
    return created
