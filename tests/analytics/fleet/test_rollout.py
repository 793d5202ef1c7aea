"""Rollouts against a real Mosquitto and the hub database (SQLite and PostgreSQL): waves released
as devices report success, an automatic stop on failures, supersession, rollback to the previous
artifact as a new version, versions that only grow, and artifact chunks that reassemble."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

import contracts
from analytics.db.fleet_tables import deployments, fleet_versions
from analytics.fleet import rollout
from analytics.fleet.controller import TickResult, tick
from analytics.fleet.errors import FleetError
from analytics.fleet.manifests import Health, next_version
from analytics.fleet.operations import FleetSettings, PublishRequest, publish
from analytics.fleet.operations import rollback as rollback_op
from analytics.fleet.publisher import FleetPublisher
from analytics.fleet.records import load_deployment, load_targets
from analytics.fleet.signing import load_public_key, verify_manifest
from tests.analytics.fleet.helpers import (
    PREFIX,
    T0,
    desired_topics,
    fleet_of,
    fleet_settings,
    later,
    make_bundle,
    outcome,
    register,
    reported_doc,
    retained,
    signing_key,
    step,
    store_reported,
)
from tests.support.mosquitto import MosquittoBroker


@pytest.fixture
def settings(broker: MosquittoBroker, tmp_path: Path, db_url: str, engine: Engine) -> FleetSettings:
    return fleet_settings(broker, tmp_path, db_url, key=signing_key(tmp_path))


def _tick(settings: FleetSettings, engine: Engine, seconds: float) -> TickResult:
    with FleetPublisher(settings.mqtt) as pub:
        return tick(engine, pub, later(seconds))


def _succeed(engine: Engine, devices: list[tuple[str, str]], manifest: dict, group: str = "north",
             result: str = "succeeded") -> None:
    for s, d in devices:
        store_reported(engine, reported_doc(s, d, group, results=[outcome(manifest, result)],
                                            trusted={"model": manifest["version"]}))


def _wave_devices(engine: Engine, deployment_id: str, wave: int) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(t.store_id, t.device_id) for t in load_targets(conn, deployment_id) if t.wave == wave]


def _with_manifest(seen, version: int) -> list[str]:
    return [t for t in seen.device_topics() if (seen.json(t).get("model") or {}).get("version") == version]


def test_waves_release_one_device_first_and_the_rest_as_devices_succeed(
        settings: FleetSettings, engine: Engine, broker: MosquittoBroker, tmp_path: Path) -> None:
    fleet = register(engine, "north", fleet_of(10))
    register(engine, "south", fleet_of(3, "x"))  # another group: never touched
    created = publish(settings, PublishRequest(model_dir=make_bundle(tmp_path / "b"), group="north",
                                               plan=rollout.RolloutPlan((0.1, 0.5, 1.0))), now=T0)
    dep = created.deployment
    manifest = dep.manifest
    assert [len(_wave_devices(engine, dep.deployment_id, w)) for w in range(3)] == [1, 4, 5]
    first = _wave_devices(engine, dep.deployment_id, 0)
    assert created.released == first

    seen = desired_topics(broker)
    assert seen.device_topics() == [f"{PREFIX}/{s}/{d}/desired" for s, d in first]
    doc = seen.json(seen.device_topics()[0])
    contracts.validate("tillsight.desired/1", doc)
    assert doc["model"] == manifest and doc["config"] is None
    assert f"{PREFIX}/fleet/north/desired" not in seen.messages
    assert verify_manifest(doc["model"], load_public_key(tmp_path / "keys" / "fleet-signing.pub"))

    # nothing reported yet: nothing moves
    result = _tick(settings, engine, 10)
    assert result.events == [] and len(desired_topics(broker).device_topics()) == 1

    # the canary reports progress, then success -> wave 2 (cumulative 5 devices)
    s0, d0 = first[0]
    store_reported(engine, reported_doc(s0, d0, "north", update=step(manifest, "downloading", 0.5, "chunk 3/6")))
    result = _tick(settings, engine, 20)
    assert result.events == []
    with engine.connect() as conn:
        target = load_targets(conn, dep.deployment_id)[0]
    assert (target.state, target.progress, target.detail) == ("downloading", 0.5, "chunk 3/6")
    assert result.summaries[0].steps == {"downloading": 1}

    _succeed(engine, first, manifest)
    result = _tick(settings, engine, 30)
    assert [e.what for e in result.events] == ["wave_released"]
    second = _wave_devices(engine, dep.deployment_id, 1)
    seen = desired_topics(broker)
    assert sorted(_with_manifest(seen, dep.version)) == sorted(f"{PREFIX}/{s}/{d}/desired" for s, d in first + second)
    assert len(seen.device_topics()) == 5 and f"{PREFIX}/fleet/north/desired" not in seen.messages
    with engine.connect() as conn:
        d = load_deployment(conn, dep.deployment_id)
        targets = load_targets(conn, dep.deployment_id)
    assert d.current_wave == 1 and d.state == "active" and "wave 2/3 released" in (d.state_reason or "")
    assert {t.state for t in targets if t.wave == 1} == {"published"}
    assert {t.state for t in targets if t.wave == 2} == {"waiting"}

    # 3 of 5 succeeded is below 0.9: no release yet
    _succeed(engine, second[:2], manifest)
    assert _tick(settings, engine, 40).events == []
    _succeed(engine, second[2:], manifest)
    result = _tick(settings, engine, 50)
    assert [e.what for e in result.events] == ["wave_released"]
    seen = desired_topics(broker)
    assert len(_with_manifest(seen, dep.version)) == 10
    assert seen.json(f"{PREFIX}/fleet/north/desired")["model"] == manifest  # the whole group now
    assert not any(t.startswith(f"{PREFIX}/x-") for t in seen.messages)

    _succeed(engine, _wave_devices(engine, dep.deployment_id, 2), manifest)
    result = _tick(settings, engine, 60)
    assert [e.what for e in result.events] == ["completed"]
    with engine.connect() as conn:
        d = load_deployment(conn, dep.deployment_id)
    assert d.state == "completed" and d.state_reason.startswith("completed: 10 of 10")
    assert fleet  # registered


def test_failures_past_the_threshold_stop_the_rollout(
        settings: FleetSettings, engine: Engine, broker: MosquittoBroker, tmp_path: Path) -> None:
    register(engine, "north", fleet_of(10))
    dep = publish(settings, PublishRequest(model_dir=make_bundle(tmp_path / "b"), group="north",
                                           plan=rollout.RolloutPlan((0.1, 0.5, 1.0), 0.9, 0.2)),
                  now=T0).deployment
    manifest = dep.manifest
    _succeed(engine, _wave_devices(engine, dep.deployment_id, 0), manifest)
    _tick(settings, engine, 10)
    second = _wave_devices(engine, dep.deployment_id, 1)
    # of 5 released: 1 refused is 20% (not more than the threshold) ...
    _succeed(engine, second[:1], manifest, result="refused")
    assert _tick(settings, engine, 20).events == []
    # ... a second failure (rolled back after its health window) is 40%: stop
    _succeed(engine, second[1:2], manifest, result="rolled_back")
    result = _tick(settings, engine, 30)
    assert [e.what for e in result.events] == ["stopped"]
    with engine.connect() as conn:
        d = load_deployment(conn, dep.deployment_id)
        targets = load_targets(conn, dep.deployment_id)
    assert d.state == "stopped" and "2 of 5 released devices failed (40%)" in (d.state_reason or "")
    assert {t.state for t in targets if t.wave == 2} == {"waiting"}
    assert sorted(t.state for t in targets if t.wave <= 1) == ["published", "published", "refused",
                                                              "rolled_back", "succeeded"]
    # the remaining wave never gets it; devices that had not finished have it withdrawn
    _succeed(engine, second[2:], manifest)
    assert _tick(settings, engine, 40).events == []
    seen = desired_topics(broker)
    with_it = _with_manifest(seen, dep.version)
    assert with_it == [f"{PREFIX}/{s}/{d}/desired" for s, d in _wave_devices(engine, dep.deployment_id, 0)]
    assert len(seen.device_topics()) == 5  # the 5 released devices; the other 5 never got a document
    assert f"{PREFIX}/fleet/north/desired" not in seen.messages


def test_a_wave_that_finished_below_the_success_threshold_stops(
        settings: FleetSettings, engine: Engine, broker: MosquittoBroker, tmp_path: Path) -> None:
    fleet = register(engine, "north", fleet_of(4))
    dep = publish(settings, PublishRequest(model_dir=make_bundle(tmp_path / "b"), group="north",
                                           plan=rollout.RolloutPlan((1.0,), 0.9, 0.5)), now=T0).deployment
    _succeed(engine, fleet[:2], dep.manifest)
    _succeed(engine, fleet[2:3], dep.manifest, result="failed")
    assert _tick(settings, engine, 10).events == []  # one device still at it: wait
    _succeed(engine, fleet[3:], dep.manifest)
    result = _tick(settings, engine, 20)  # 3 of 4 = 75% < 90%, 25% failures <= 50%, nobody left
    assert [e.what for e in result.events] == ["stopped"]
    with engine.connect() as conn:
        d = load_deployment(conn, dep.deployment_id)
    assert d.state == "stopped" and "below the success threshold 90%" in (d.state_reason or "")
    seen = desired_topics(broker)
    assert seen.json(f"{PREFIX}/fleet/north/desired")["model"] is None  # withdrawn from the group
    assert seen.json(f"{PREFIX}/s-003/till-1/desired")["model"] is None  # and from the device that failed
    assert seen.json(f"{PREFIX}/s-001/till-1/desired")["model"] == dep.manifest  # kept where it runs


def test_a_newer_deployment_supersedes_the_older_active_one(
        settings: FleetSettings, engine: Engine, broker: MosquittoBroker, tmp_path: Path) -> None:
    register(engine, "north", fleet_of(4))
    old = publish(settings, PublishRequest(model_dir=make_bundle(tmp_path / "a", seed=1), group="north",
                                           plan=rollout.RolloutPlan((0.25, 1.0))), now=T0).deployment
    single = publish(settings, PublishRequest(model_dir=make_bundle(tmp_path / "c", seed=3), device="s-004/till-1"),
                     now=later(5))
    assert single.deployment.version == old.version + 1 and single.superseded == []  # covers only part of it
    new = publish(settings, PublishRequest(model_dir=make_bundle(tmp_path / "b", seed=2), group="north",
                                           plan=rollout.RolloutPlan((0.25, 1.0))), now=later(10))
    assert new.superseded == [old.deployment_id, single.deployment.deployment_id]
    with engine.connect() as conn:
        o = load_deployment(conn, old.deployment_id)
        targets = load_targets(conn, old.deployment_id)
    assert o.state == "superseded" and new.deployment.deployment_id[:8] in (o.state_reason or "")
    assert {t.state for t in targets} == {"superseded"}
    # the older one no longer advances even when its devices report success
    _succeed(engine, [(t.store_id, t.device_id) for t in targets], o.manifest)
    result = _tick(settings, engine, 20)
    assert [e.deployment_id for e in result.events] == []
    with engine.connect() as conn:
        assert load_deployment(conn, old.deployment_id).state == "superseded"
        after = load_targets(conn, old.deployment_id)
    # how the released canary ended is still recorded; the devices it never reached stay superseded
    assert [t.state for t in after if t.wave == 0] == ["succeeded"]
    assert {t.state for t in after if t.wave == 1} == {"superseded"}


def test_rollback_ships_the_previous_artifact_as_a_new_higher_version(
        settings: FleetSettings, engine: Engine, broker: MosquittoBroker, tmp_path: Path) -> None:
    fleet = register(engine, "north", fleet_of(3))
    first = publish(settings, PublishRequest(model_dir=make_bundle(tmp_path / "a", "v1", seed=1), group="north"),
                    now=T0).deployment
    with pytest.raises(FleetError, match="no earlier model deployment succeeded on its devices"):
        rollback_op(settings, first.deployment_id)
    _succeed(engine, fleet, first.manifest)
    assert [e.what for e in _tick(settings, engine, 10).events] == ["completed"]
    second = publish(settings, PublishRequest(model_dir=make_bundle(tmp_path / "b", "v2", seed=2), group="north",
                                              plan=rollout.RolloutPlan((0.34, 1.0))), now=later(20)).deployment
    _succeed(engine, fleet[:1], second.manifest, result="rolled_back")
    _tick(settings, engine, 30)

    back = rollback_op(settings, second.deployment_id[:8], now=later(40)).deployment
    assert back.version > second.version > first.version
    assert back.artifact_sha256 == first.artifact_sha256 and back.rollback_of == second.deployment_id
    assert back.manifest["artifact"]["bundle_version"] == "v1" and back.waves == (1.0,)
    assert verify_manifest(back.manifest, load_public_key(tmp_path / "keys" / "fleet-signing.pub"))
    with engine.connect() as conn:
        s = load_deployment(conn, second.deployment_id)
        assert s.state == "rolled_back" and back.deployment_id[:8] in (s.state_reason or "")
        assert {t.state for t in load_targets(conn, back.deployment_id)} == {"published"}
    seen = desired_topics(broker)
    for s_id, d_id in fleet:  # every device at once, even those the stopped wave never reached
        assert seen.json(f"{PREFIX}/{s_id}/{d_id}/desired")["model"] == back.manifest
    assert seen.json(f"{PREFIX}/fleet/north/desired")["model"] == back.manifest
    with pytest.raises(FleetError, match="already rolled back"):
        rollback_op(settings, second.deployment_id)


def test_versions_only_grow_across_publishes_and_rollbacks(
        settings: FleetSettings, engine: Engine, broker: MosquittoBroker, tmp_path: Path) -> None:
    fleet = register(engine, "north", fleet_of(2))
    config = tmp_path / "tuning.yaml"
    config.write_text("detector:\n  confidence: 0.4\n")
    seen: list[int] = []
    a = publish(settings, PublishRequest(model_dir=make_bundle(tmp_path / "a", seed=1), group="north"), now=T0)
    _succeed(engine, fleet, a.deployment.manifest)
    _tick(settings, engine, 1)
    seen.append(a.deployment.version)
    c = publish(settings, PublishRequest(config_file=config, device="s-001/till-1"), now=later(2))
    assert c.deployment.version == 1  # versions are per kind
    for i in range(2):
        b = publish(settings, PublishRequest(model_dir=make_bundle(tmp_path / f"b{i}", seed=10 + i), group="north"),
                    now=later(3 + i))
        seen.append(b.deployment.version)
    seen.append(rollback_op(settings, b.deployment.deployment_id, now=later(10)).deployment.version)
    seen.append(publish(settings, PublishRequest(model_dir=make_bundle(tmp_path / "a", seed=1), group="north"),
                        now=later(11)).deployment.version)  # the same bundle again is a new version too
    assert seen == sorted(seen) and len(set(seen)) == len(seen) == 5
    with engine.connect() as conn:
        assert dict(conn.execute(select(fleet_versions.c.kind, fleet_versions.c.version)).all()) == {
            "model": seen[-1], "config": 1}
        versions = conn.execute(select(deployments.c.version).where(deployments.c.kind == "model")).scalars().all()
    assert sorted(versions) == seen
    # a refused config consumes no version and records nothing
    bad = tmp_path / "bad.yaml"
    bad.write_text("mqtt:\n  host: evil.example\n")
    with pytest.raises(FleetError, match=r"mqtt\.host: not fleet-managed"):
        publish(settings, PublishRequest(config_file=bad, device="s-001/till-1"), now=later(12))
    with engine.connect() as conn:
        assert conn.execute(select(fleet_versions.c.version).where(fleet_versions.c.kind == "config")).scalar() == 1


def test_a_hub_behind_its_fleet_issues_versions_above_what_devices_trust(
        settings: FleetSettings, engine: Engine, broker: MosquittoBroker, tmp_path: Path) -> None:
    # e.g. a hub database restored from an old backup: the devices have accepted up to v41
    fleet = register(engine, "north", fleet_of(2))
    store_reported(engine, reported_doc(*fleet[0], "north", trusted={"model": 41, "config": 3}))
    dep = publish(settings, PublishRequest(model_dir=make_bundle(tmp_path / "a"), group="north"), now=T0).deployment
    assert dep.version == 42
    # a device that trusts a version above a deployment's never acts on it: recorded as refused
    store_reported(engine, reported_doc(*fleet[1], "north", trusted={"model": 50}))
    _tick(settings, engine, 10)
    with engine.connect() as conn:
        target = next(t for t in load_targets(conn, dep.deployment_id) if (t.store_id, t.device_id) == fleet[1])
    assert target.state == "refused" and "already accepted model v50" in (target.detail or "")


def test_concurrent_version_takers_never_share_a_version(engine: Engine) -> None:
    got: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def take() -> None:
        try:
            for _ in range(5):
                with engine.begin() as conn:
                    v = next_version(conn, "model")
                with lock:
                    got.append(v)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(got) == list(range(1, 21))


def test_chunks_published_retained_reassemble_to_the_artifact(
        broker: MosquittoBroker, tmp_path: Path, engine: Engine, db_url: str) -> None:
    settings = fleet_settings(broker, tmp_path, db_url, chunk_size=4096, key=signing_key(tmp_path))
    register(engine, "north", fleet_of(1))
    bundle = make_bundle(tmp_path / "b", size=50_000)
    created = publish(settings, PublishRequest(model_dir=bundle, device="s-001/till-1", health=Health(120.0, 400.0, 1)),
                      now=T0)
    art = created.deployment.manifest["artifact"]
    assert art["chunk_size"] == 4096 and art["chunks"] == -(-art["size"] // 4096) > 5
    assert created.deployment.manifest["health"] == {"window_s": 120.0, "max_inference_ms": 400.0, "max_errors": 1}
    chunks = retained(broker, [f"{PREFIX}/fleet/artifacts/{art['sha256']}/+"]).messages
    assert len(chunks) == art["chunks"]
    joined = b"".join(chunks[f"{PREFIX}/fleet/artifacts/{art['sha256']}/{i}"] for i in range(art["chunks"]))
    assert len(joined) == art["size"] and hashlib.sha256(joined).hexdigest() == art["sha256"]
    stored = settings.artifact_dir / f"{art['sha256']}.tar.gz"
    assert stored.read_bytes() == joined


def test_config_updates_reach_a_device_beside_its_model(
        settings: FleetSettings, engine: Engine, broker: MosquittoBroker, tmp_path: Path) -> None:
    register(engine, "north", fleet_of(2))
    model = publish(settings, PublishRequest(model_dir=make_bundle(tmp_path / "a"), group="north"), now=T0)
    config = tmp_path / "tuning.yaml"
    config.write_text("gate:\n  threshold: 4.5\n")
    cfg = publish(settings, PublishRequest(config_file=config, device="s-002/till-1"), now=later(1)).deployment
    assert cfg.manifest["artifact"]["format"] == "yaml" and cfg.manifest["target"] == {"devices": ["s-002/till-1"]}
    seen = desired_topics(broker)
    doc = seen.json(f"{PREFIX}/s-002/till-1/desired")
    assert doc["model"] == model.deployment.manifest and doc["config"] == cfg.manifest
    assert seen.json(f"{PREFIX}/s-001/till-1/desired")["config"] is None
    chunk = retained(broker, [f"{PREFIX}/fleet/artifacts/{cfg.artifact_sha256}/0"]).messages
    assert list(chunk.values()) == [config.read_bytes()]


def test_unknown_targets_are_refused_before_anything_is_recorded(
        settings: FleetSettings, engine: Engine, tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "a")
    with pytest.raises(FleetError, match="group 'nowhere' has no registered devices"):
        publish(settings, PublishRequest(model_dir=bundle, group="nowhere"))
    with pytest.raises(FleetError, match="unknown device s-404/till-1"):
        publish(settings, PublishRequest(model_dir=bundle, device="s-404/till-1"))
    with pytest.raises(FleetError, match="STORE/DEVICE"):
        publish(settings, PublishRequest(model_dir=bundle, device="S 1"))
    with pytest.raises(FleetError, match="shares are cumulative"):
        rollout.parse_waves("0.5,0.2,1")
    with pytest.raises(FleetError, match="last wave must be 1"):
        rollout.parse_waves("0.1,0.5")
    with engine.connect() as conn:
        assert conn.execute(select(deployments)).first() is None
