"""The operator's fleet commands as functions (``tillsight hub fleet ...`` calls these): each opens
the hub database and the broker from the hub configuration, does one thing, and raises
:class:`FleetError` with a clear message when it cannot."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from analytics.db import make_engine, migrate
from analytics.db.tables import devices
from analytics.fleet import rollout
from analytics.fleet.artifacts import (
    Artifact,
    config_artifact,
    pack_bundle,
    pack_gallery,
    read_bundle_manifest,
    store_artifact,
)
from analytics.fleet.controller import TickResult, tick
from analytics.fleet.errors import FleetError
from analytics.fleet.manifests import Health, iso
from analytics.fleet.progress import Summary, summarize, summary_of
from analytics.fleet.publisher import FleetPublisher, publish_chunks, publish_desired, republish_all
from analytics.fleet.records import FINISHED_STATES, Target, list_deployments, load_targets, resolve_deployment
from analytics.fleet.signing import KeyFiles, generate_keypair, load_private_key
from firmware_config.schema import MqttConfig, TillsightConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FleetSettings:
    database_url: str
    artifact_dir: Path
    signing_key: Path | None
    expires_in: timedelta
    chunk_size: int
    mqtt: MqttConfig

    @classmethod
    def from_config(cls, cfg: TillsightConfig) -> FleetSettings:
        hub = cfg.hub
        return cls(hub.database_url, hub.fleet_artifact_dir, hub.fleet_signing_key,
                   timedelta(days=hub.fleet_manifest_expiry_days), hub.fleet_chunk_size, cfg.mqtt)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@contextmanager
def open_engine(settings: FleetSettings) -> Iterator[Engine]:
    try:
        engine = make_engine(settings.database_url)
        migrate(engine)
    except SQLAlchemyError as exc:
        raise FleetError(f"hub database {settings.database_url.split('@')[-1]}: {exc.__class__.__name__}: "
                         f"{str(exc).splitlines()[0]}") from None
    try:
        yield engine
    finally:
        engine.dispose()


def signing_key(settings: FleetSettings, override: str | Path | None) -> Ed25519PrivateKey:
    path = override or settings.signing_key
    if path is None:
        raise FleetError("no signing key: pass --key FILE or set hub.fleet_signing_key "
                         "(create one with `tillsight hub fleet keygen --out DIR`)")
    return load_private_key(path)


def keygen(out_dir: str | Path) -> KeyFiles:
    return generate_keypair(out_dir)


@dataclass(frozen=True)
class PublishRequest:
    model_dir: Path | None = None
    config_file: Path | None = None
    gallery_dir: Path | None = None
    device: str | None = None
    group: str | None = None
    plan: rollout.RolloutPlan = field(default_factory=rollout.RolloutPlan)
    health: Health = field(default_factory=Health)
    expires_in: timedelta | None = None
    name: str | None = None
    key: Path | None = None
    force: bool = False  # publish a model that `tillsight train compare` found worse than the running one


def check_gallery_gate(model_dir: Path, force: bool) -> None:
    """Refuse a bundle that ``tillsight train compare`` recorded as worse than the running model on a
    store's own enrolment photos (``gallery_check`` in its manifest), unless ``force``."""
    check = read_bundle_manifest(Path(model_dir)).get("gallery_check")
    if not isinstance(check, dict):
        log.info("%s carries no gallery check (tillsight train compare); publishing without one", model_dir)
        return
    if check.get("passed") is False:
        if not force:
            raise FleetError(f"{model_dir}: {check.get('summary', 'worse than the running model')}; "
                             "publish it anyway with --force")
        log.warning("publishing %s although it is worse than the running model (--force): %s", model_dir,
                    check.get("summary"))


def publish(settings: FleetSettings, request: PublishRequest, now: datetime | None = None) -> rollout.Created:
    """Check and store the artifact, publish its chunks, record the signed deployment (next
    version, wave 0 released) and publish the desired documents of the released devices."""
    now = now or utc_now()
    given = [p for p in (request.model_dir, request.config_file, request.gallery_dir) if p is not None]
    if len(given) != 1:
        raise FleetError("give exactly one of --model BUNDLE_DIR, --config FILE or --gallery GALLERY_DIR")
    spec = rollout.TargetSpec.parse(request.device, request.group)
    if request.model_dir is not None:
        check_gallery_gate(request.model_dir, request.force)
    key = signing_key(settings, request.key)
    artifact: Artifact = (pack_bundle(request.model_dir) if request.model_dir is not None
                          else pack_gallery(request.gallery_dir) if request.gallery_dir is not None
                          else config_artifact(request.config_file, request.name))  # type: ignore[arg-type]
    name = request.name or artifact.name
    expires_in = request.expires_in or settings.expires_in
    with open_engine(settings) as engine:
        with engine.connect() as conn:  # fail on an unknown target before touching the broker
            devices = rollout.resolve_devices(conn, spec)
        with FleetPublisher(settings.mqtt) as pub:
            with engine.begin() as conn:
                stored = store_artifact(conn, settings.artifact_dir, artifact, iso(now))
            publish_chunks(pub, stored.sha256, artifact.data, settings.chunk_size)
            with engine.begin() as conn:
                created = rollout.create_deployment(
                    conn, key=key, artifact=stored, bundle_version=artifact.bundle_version, name=name, spec=spec,
                    plan=request.plan, health=request.health, chunk_size=settings.chunk_size,
                    expires_in=expires_in, now=now, devices=devices)
            try:
                publish_desired(engine, pub, created.released, created.groups, now)
            except FleetError as exc:
                raise FleetError(f"deployment {created.deployment.deployment_id} (v{created.deployment.version}) is "
                                 f"recorded but its desired documents were not published: {exc}. "
                                 "`tillsight hub fleet watch` publishes them once the broker is reachable.") from None
    return created


def rollback(settings: FleetSettings, ref: str, key_path: str | Path | None = None,
             now: datetime | None = None) -> rollout.Created:
    now = now or utc_now()
    with open_engine(settings) as engine, engine.connect() as conn:
        kind = resolve_deployment(conn, ref).kind
    if kind == "prices":  # a till never puts an old price back from an older list: withdraw what it brought
        from analytics.pricing.push import rollback_prices  # pricing builds on the fleet: imported on use

        return rollback_prices(settings, ref, now, key_path)
    key = signing_key(settings, key_path)
    with open_engine(settings) as engine, FleetPublisher(settings.mqtt) as pub:
        return rollout.rollback(engine, pub, key, ref, chunk_size=settings.chunk_size,
                                expires_in=settings.expires_in, now=now)


@dataclass(frozen=True)
class StatusView:
    summary: Summary
    targets: list[Target]
    online: dict[tuple[str, str], bool]  # devices the ingest has heard from


def status(settings: FleetSettings, ref: str | None, limit: int = 20) -> list[StatusView]:
    """Summaries (and, for one deployment, its targets with their online state) as the database
    has them; the controller (``watch``) is what brings them up to date."""
    with open_engine(settings) as engine, engine.connect() as conn:
        if ref is None:
            return [StatusView(summary_of(conn, d), [], {}) for d in list_deployments(conn, limit=limit)]
        deployment = resolve_deployment(conn, ref)
        targets = load_targets(conn, deployment.deployment_id)
        stores = sorted({t.store_id for t in targets})
        online = {(r.store_id, r.device_id): bool(r.online) for r in conn.execute(
            select(devices.c.store_id, devices.c.device_id, devices.c.online).where(devices.c.store_id.in_(stores)))}
        return [StatusView(summarize(deployment, targets), targets, online)]


def watch(settings: FleetSettings, ref: str | None, *, interval_s: float, once: bool, forever: bool,
          report: Callable[[TickResult], None], sleep: Callable[[float], None] = time.sleep) -> str | None:
    """Run the controller until the watched deployment (or, with no ``ref``, every active one) is
    finished; returns its final state (None when watching all).  A broker that fails half-way is
    retried each interval, and the full desired state is republished once it is back."""
    with open_engine(settings) as engine, FleetPublisher(settings.mqtt) as pub:
        watched = None
        if ref is not None:
            with engine.connect() as conn:
                watched = resolve_deployment(conn, ref).deployment_id
        resync = True
        while True:
            now = utc_now()
            try:
                if resync:
                    republish_all(engine, pub, now)
                    resync = False
                result = tick(engine, pub, now)
            except (FleetError, SQLAlchemyError) as exc:
                log.error("%s; retrying in %.0fs", str(exc).splitlines()[0], interval_s)
                resync = True
                if once:
                    raise
                sleep(interval_s)
                continue
            state = None
            if watched is not None:
                with engine.connect() as conn:
                    summary = summary_of(conn, resolve_deployment(conn, watched))
                result.summaries = [summary]
                result.events = [e for e in result.events if e.deployment_id == watched]
                state = summary.deployment.state
            report(result)
            if once:
                return state
            if watched is not None and state in FINISHED_STATES and not forever:
                return state
            if watched is None and not forever and not any(s.deployment.state == "active" for s in result.summaries):
                return None
            sleep(interval_s)

