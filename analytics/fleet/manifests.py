"""``tillsight.manifest/1``: the next version number, building, signing and validating a manifest.

A version only grows per kind across the whole fleet (``fleet_versions``); it is taken inside the
transaction that records the deployment, so two operators publishing at once get two versions and
a version is never used twice, on SQLite (``BEGIN IMMEDIATE``) and PostgreSQL (row lock of the
upsert) alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, case
from sqlalchemy.dialects import postgresql, sqlite

import contracts
from analytics.db.fleet_tables import fleet_versions
from analytics.fleet.artifacts import StoredArtifact
from analytics.fleet.errors import FleetError
from analytics.fleet.signing import sign_manifest
from contracts.timestamps import format_utc

MANIFEST_SCHEMA = "tillsight.manifest/1"
DEFAULT_CHUNK_SIZE = 256 * 1024
DEFAULT_HEALTH_WINDOW_S = 300.0
DEFAULT_MAX_ERRORS = 0


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with a ``Z``, whole seconds (the contract's form)."""
    return format_utc(moment)


@dataclass(frozen=True)
class Health:
    """The health window a device runs after switching: roll back on errors or slow inference."""

    window_s: float = DEFAULT_HEALTH_WINDOW_S
    max_inference_ms: float | None = None
    max_errors: int = DEFAULT_MAX_ERRORS

    def as_dict(self) -> dict[str, Any]:
        return {"window_s": self.window_s, "max_inference_ms": self.max_inference_ms,
                "max_errors": self.max_errors}


def next_version(conn: Connection, kind: str, above: int = 0) -> int:
    """Take the next manifest version of ``kind`` inside the caller's transaction: one more than
    the last one issued, and more than ``above`` (the highest version devices report trusting, so
    a hub whose database was restored from an old backup cannot issue versions devices ignore)."""
    dialect = conn.dialect.name
    first = max(1, above + 1)
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(fleet_versions).values(kind=kind, version=first)
    elif dialect == "sqlite":
        stmt = sqlite.insert(fleet_versions).values(kind=kind, version=first)
    else:
        raise FleetError(f"unsupported hub database dialect {dialect!r}")
    bumped = case((fleet_versions.c.version + 1 > first, fleet_versions.c.version + 1), else_=first)
    stmt = stmt.on_conflict_do_update(index_elements=[fleet_versions.c.kind], set_={"version": bumped})
    return int(conn.execute(stmt.returning(fleet_versions.c.version)).scalar_one())


def chunk_count(size: int, chunk_size: int) -> int:
    return max(1, math.ceil(size / chunk_size))


def build_manifest(*, kind: str, version: int, name: str, deployment_id: str, issued_at: datetime,
                   expires_in: timedelta, target: dict[str, Any], artifact: StoredArtifact,
                   chunk_size: int, health: Health, bundle_version: str | None) -> dict[str, Any]:
    """The unsigned manifest (``key_id`` and ``signature`` are added by :func:`sign`)."""
    art: dict[str, Any] = {"sha256": artifact.sha256, "size": artifact.size, "format": artifact.format,
                           "chunk_size": chunk_size, "chunks": chunk_count(artifact.size, chunk_size)}
    if bundle_version is not None:
        art["bundle_version"] = bundle_version
    return {"schema": MANIFEST_SCHEMA, "kind": kind, "version": version, "name": name[:120],
            "deployment_id": deployment_id, "issued_at": iso(issued_at),
            "expires_at": iso(issued_at + expires_in), "target": target, "artifact": art,
            "health": health.as_dict()}


def sign(manifest: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """Sign and check the result against the contract (a bad manifest never leaves the hub)."""
    signed = sign_manifest(manifest, key)
    try:
        contracts.validate(MANIFEST_SCHEMA, signed)
    except contracts.ContractError as exc:
        raise FleetError(f"the manifest would break the contract: {exc}") from None
    return signed
