"""Deployments and their targets as records, and the queries that read them.

States (also what the hub dashboard shows):

deployment ``state``: ``active`` (waves being released), ``completed`` (last wave released and its
success share reached), ``stopped`` (failures passed the failure threshold; no further wave),
``superseded`` (a newer deployment of the same kind took over all its devices), ``rolled_back``
(``hub fleet rollback`` shipped the previous artifact instead), ``paused`` (reserved).

target ``state``: ``waiting`` (its wave is not released), ``published`` (released; the device has
not reported on it yet), a step the device reports (``accepted``, ``downloading``, ``verifying``,
``installing``, ``self_test``, ``awaiting_idle``, ``switching``, ``health_window``,
``rolling_back``), an outcome (``succeeded``, ``failed``, ``rolled_back``, ``refused``), or
``superseded`` (a newer deployment of the same kind covers this device).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from analytics.db.fleet_tables import deployment_targets, deployments
from analytics.fleet.errors import FleetError

# deployment states
ACTIVE, PAUSED, STOPPED, COMPLETED, SUPERSEDED, ROLLED_BACK = (
    "active", "paused", "stopped", "completed", "superseded", "rolled_back")
FINISHED_STATES = frozenset({STOPPED, COMPLETED, SUPERSEDED, ROLLED_BACK})

# target states
WAITING, PUBLISHED = "waiting", "published"
SUCCEEDED = "succeeded"
FAILED_OUTCOMES = frozenset({"failed", "rolled_back", "refused"})
OUTCOMES = frozenset({SUCCEEDED} | FAILED_OUTCOMES)
DeviceId = tuple[str, str]  # (store_id, device_id)
STEPS = ("accepted", "downloading", "verifying", "installing", "self_test", "awaiting_idle", "switching",
         "health_window", "rolling_back")


@dataclass(frozen=True)
class Deployment:
    deployment_id: str
    kind: str
    version: int
    name: str
    artifact_sha256: str
    manifest: dict[str, Any]
    target_kind: str  # device | group
    target: str  # "store/device" or a group id
    waves: tuple[float, ...]
    current_wave: int
    success_threshold: float
    failure_threshold: float
    state: str
    state_reason: str | None
    rollback_of: str | None
    created_at: str
    updated_at: str

    @property
    def last_wave(self) -> int:
        return len(self.waves) - 1

    @property
    def fully_released(self) -> bool:
        return self.current_wave >= self.last_wave

    @property
    def short_id(self) -> str:
        return self.deployment_id[:8]

    @classmethod
    def from_row(cls, row: Any) -> Deployment:
        return cls(row["deployment_id"], row["kind"], int(row["version"]), row["name"], row["artifact_sha256"],
                   dict(row["manifest"]), row["target_kind"], row["target"],
                   tuple(float(w) for w in row["waves"]), int(row["current_wave"]),
                   float(row["success_threshold"]), float(row["failure_threshold"]), row["state"],
                   row["state_reason"], row["rollback_of"], row["created_at"], row["updated_at"])


@dataclass(frozen=True)
class Target:
    deployment_id: str
    store_id: str
    device_id: str
    wave: int
    state: str
    progress: float
    detail: str | None
    published_at: str | None
    updated_at: str

    @property
    def device(self) -> str:
        return f"{self.store_id}/{self.device_id}"

    @classmethod
    def from_row(cls, row: Any) -> Target:
        return cls(row["deployment_id"], row["store_id"], row["device_id"], int(row["wave"]), row["state"],
                   float(row["progress"] or 0.0), row["detail"], row["published_at"], row["updated_at"])


def load_deployment(conn: Connection, deployment_id: str) -> Deployment:
    row = conn.execute(select(deployments).where(deployments.c.deployment_id == deployment_id)).mappings().first()
    if row is None:
        raise FleetError(f"no deployment {deployment_id!r}")
    return Deployment.from_row(row)


def resolve_deployment(conn: Connection, ref: str) -> Deployment:
    """A deployment by its id or a unique prefix of it (as ``status`` prints them)."""
    ref = ref.strip()
    if len(ref) < 4:
        raise FleetError(f"deployment id {ref!r} is too short; give at least 4 characters")
    rows = conn.execute(select(deployments).where(deployments.c.deployment_id.startswith(ref, autoescape=True))
                        .limit(3)).mappings().all()
    if not rows:
        raise FleetError(f"no deployment matches {ref!r} (see `tillsight hub fleet status`)")
    exact = [r for r in rows if r["deployment_id"] == ref]
    if len(rows) > 1 and not exact:
        raise FleetError(f"{ref!r} matches more than one deployment; give more of the id")
    return Deployment.from_row(exact[0] if exact else rows[0])


def list_deployments(conn: Connection, limit: int | None = 20, states: frozenset[str] | None = None,
                     kind: str | None = None) -> list[Deployment]:
    """Newest first (by version within a kind, by creation time across kinds)."""
    query = select(deployments).order_by(deployments.c.created_at.desc(), deployments.c.version.desc())
    if states is not None:
        query = query.where(deployments.c.state.in_(sorted(states)))
    if kind is not None:
        query = query.where(deployments.c.kind == kind)
    if limit is not None:
        query = query.limit(limit)
    return [Deployment.from_row(r) for r in conn.execute(query).mappings()]


def load_targets(conn: Connection, deployment_id: str) -> list[Target]:
    rows = conn.execute(select(deployment_targets).where(deployment_targets.c.deployment_id == deployment_id)
                        .order_by(deployment_targets.c.wave, deployment_targets.c.store_id,
                                  deployment_targets.c.device_id)).mappings()
    return [Target.from_row(r) for r in rows]


def set_state(conn: Connection, deployment_id: str, state: str, reason: str, stamp: str, **values: Any) -> None:
    """Change a deployment's state (and any other columns) with the reason the operator sees."""
    conn.execute(update(deployments).where(deployments.c.deployment_id == deployment_id)
                 .values(state=state, state_reason=reason, updated_at=stamp, **values))
