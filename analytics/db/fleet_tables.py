"""Fleet tables (SQLAlchemy Core, same ``metadata`` as the ingest tables): which devices the hub
knows and in which group, their broker credentials, the artifacts it can ship, and the rollouts
(deployments) with each target device's progress as its ``reported`` state tells it."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Float, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from analytics.db.tables import metadata

# Registered devices (``tillsight hub device add``): the fleet's own list, whether or not a device
# has spoken yet.  ``devices`` (ingest) is what the broker has heard from.
device_registry = Table(
    "device_registry", metadata,
    Column("store_id", String(32), nullable=False),
    Column("device_id", String(32), nullable=False),
    Column("group_id", String(64), nullable=False, default="default"),
    Column("mqtt_username", String(128), nullable=False, unique=True),
    Column("created_at", String(32), nullable=False),
    Column("note", String(200)),
    PrimaryKeyConstraint("store_id", "device_id"),
    Index("device_registry_group", "group_id"),
)

# One row per artifact the hub can serve (a model bundle tarball or a config YAML), by content.
artifacts = Table(
    "artifacts", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),  # model | config
    Column("name", String(120), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("path", Text, nullable=False),  # file in the hub's artifact folder
    Column("created_at", String(32), nullable=False),
)

# The highest manifest version issued per kind; versions only grow (a rollback is a new version).
fleet_versions = Table(
    "fleet_versions", metadata,
    Column("kind", String(16), primary_key=True),
    Column("version", BigInteger, nullable=False),
)

deployments = Table(
    "deployments", metadata,
    Column("deployment_id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False),  # model | config
    Column("version", BigInteger, nullable=False),
    Column("name", String(120), nullable=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("manifest", JSON, nullable=False),  # the signed manifest as published
    Column("target_kind", String(16), nullable=False),  # device | group
    Column("target", String(100), nullable=False),  # "s-001/till-1" or a group id
    Column("waves", JSON, nullable=False),  # cumulative shares of the targets, e.g. [0.1, 0.5, 1.0]
    Column("current_wave", Integer, nullable=False, default=0),
    Column("success_threshold", Float, nullable=False),  # share of a wave that must succeed to go on
    Column("failure_threshold", Float, nullable=False),  # share of failures that stops the rollout
    # active | paused | stopped (too many failures) | completed | superseded | rolled_back
    Column("state", String(16), nullable=False),
    Column("state_reason", Text),
    Column("rollback_of", String(36)),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Index("deployments_kind_state", "kind", "state"),
)

deployment_targets = Table(
    "deployment_targets", metadata,
    Column("deployment_id", String(36), nullable=False),
    Column("store_id", String(32), nullable=False),
    Column("device_id", String(32), nullable=False),
    Column("wave", Integer, nullable=False),  # 0-based wave this device belongs to
    # waiting (wave not reached) | published | downloading | verifying | installing | self_test |
    # awaiting_idle | switching | health_window | succeeded | failed | rolled_back
    Column("state", String(24), nullable=False),
    Column("progress", Float, nullable=False, default=0.0),  # 0..1 of the current step (download)
    Column("detail", Text),
    Column("published_at", String(32)),
    Column("updated_at", String(32), nullable=False),
    PrimaryKeyConstraint("deployment_id", "store_id", "device_id"),
    Index("deployment_targets_device", "store_id", "device_id"),
)

FLEET_TABLES = (device_registry, artifacts, fleet_versions, deployments, deployment_targets)
