"""``tillsight hub fleet ...`` end to end: a real Mosquitto, the real ingest storing the devices'
retained ``reported`` documents, and the commands run as an operator runs them (the long-running
ones as processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from analytics.db import make_engine, migrate
from analytics.ingest import IngestWorker
from firmware_config import TillsightConfig, load_config
from tests.analytics.fleet.helpers import (
    PREFIX,
    desired_topics,
    fleet_of,
    make_bundle,
    outcome,
    publish_retained_reported,
    register,
    reported_doc,
)
from tests.support.fixtures import write_config
from tests.support.hubdb import device
from tests.support.mosquitto import MosquittoBroker
from tests.support.wait import wait_for
from tillsight_cli.main import main

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def hub(broker: MosquittoBroker, tmp_path: Path) -> Iterator[tuple[TillsightConfig, Path, Engine]]:
    cfg = load_config(None, env={}, overrides={
        "mqtt": {"host": broker.host, "port": broker.port, "keepalive_s": 5, "reconnect_min_s": 0.1,
                 "reconnect_max_s": 1.0},
        "hub": {"database_url": f"sqlite:///{tmp_path / 'hub.db'}", "fleet_artifact_dir": str(tmp_path / "artifacts"),
                "fleet_signing_key": str(tmp_path / "keys" / "fleet-signing.key"), "fleet_chunk_size": 16384}})
    path = write_config(cfg, tmp_path / "hub.yaml")
    engine = make_engine(cfg.hub.database_url)
    migrate(engine)
    worker = IngestWorker(cfg.hub.database_url, cfg.mqtt, client_id="hub-fleet-test", settings=cfg.hub)
    worker.start()
    try:
        yield cfg, path, engine
    finally:
        worker.stop()
        engine.dispose()


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env = {k: v for k, v in env.items() if not k.startswith("TILLSIGHT__")}
    return subprocess.run([sys.executable, "-m", "tillsight_cli.main", *args], cwd=REPO, env=env,
                          capture_output=True, check=False, text=True, timeout=timeout)


def report_as_device(broker: MosquittoBroker, engine: Engine, devices: list[str], manifest: dict,
                     result: str = "succeeded") -> None:
    """Each device publishes its retained reported state; wait until the ingest has stored it."""
    for name in devices:
        s, d = name.split("/")
        publish_retained_reported(broker, reported_doc(s, d, "north", results=[outcome(manifest, result)],
                                                       trusted={"model": manifest["version"]}))
    for name in devices:
        s, d = name.split("/")
        wait_for(lambda s=s, d=d: ((device(engine, s, d) or {}).get("reported") or {}).get("results", [{}])[0]
                 .get("deployment_id") == manifest["deployment_id"], 20, f"ingest to store {name}'s report")


def status_json(path: Path, deployment: str, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["hub", "fleet", "status", deployment, "--json", "--config-file", str(path)]) == 0
    return json.loads(capsys.readouterr().out)


def test_operator_session_keygen_publish_watch_status_rollback(
        hub: tuple[TillsightConfig, Path, Engine], broker: MosquittoBroker, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _, path, engine = hub
    conf = ["--config-file", str(path)]

    assert main(["hub", "fleet", "keygen", "--out", str(tmp_path / "keys")]) == 0
    out = capsys.readouterr().out
    assert "fleet-signing.key (mode 0600" in out and "key id:" in out
    assert main(["hub", "fleet", "keygen", "--out", str(tmp_path / "keys")]) == 2
    assert "already exists" in capsys.readouterr().err

    register(engine, "north", fleet_of(3))
    bundle = make_bundle(tmp_path / "bundle-v1", "v1", seed=1)
    run = cli("hub", "fleet", "publish", "--model", str(bundle), "--group", "north", "--waves", "0.3,1",
              "--health-window", "60", *conf)
    assert run.returncode == 0, run.stderr
    first_line = run.stdout.splitlines()[0].split()
    assert first_line[0] == "deployment" and first_line[2:] == ["version", "1"]
    dep_id = first_line[1]
    assert "wave 1/2 released to 1 device(s)" in run.stdout

    st = status_json(path, dep_id[:8], capsys)
    assert (st["state"], st["wave"], st["released"], st["waiting"]) == ("active", 1, 1, 2)
    canary = [t["device"] for t in st["targets"] if t["wave"] == 1]
    manifest = desired_topics(broker).json(f"{PREFIX}/{canary[0]}/desired")["model"]
    assert manifest["deployment_id"] == dep_id and manifest["health"]["window_s"] == 60

    # the canary reports success over MQTT; one controller pass releases the rest
    report_as_device(broker, engine, canary, manifest)
    assert main(["hub", "fleet", "watch", dep_id, "--once", "--json", *conf]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["wave"], line["released"], line["succeeded"]) == (2, 3, 1)
    assert [e["what"] for e in line["events"]] == ["wave_released"]
    assert len(desired_topics(broker).device_topics()) == 3

    # the watcher runs until the deployment completes, then exits 0
    rest = [t["device"] for t in st["targets"] if t["wave"] == 2]
    report_as_device(broker, engine, rest, manifest)
    run = cli("hub", "fleet", "watch", dep_id, "--interval", "0.2", *conf, timeout=90)
    assert run.returncode == 0, run.stderr
    assert "completed: 3 of 3 devices succeeded" in run.stdout
    st = status_json(path, dep_id, capsys)
    assert st["state"] == "completed" and {t["state"] for t in st["targets"]} == {"succeeded"}

    # a second model for the whole group, then a rollback to the first as version 3
    assert main(["hub", "fleet", "publish", "--model", str(make_bundle(tmp_path / "bundle-v2", "v2", seed=2)),
                 "--group", "north", "--json", *conf]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["version"] == 2 and len(second["released"]) == 3
    run = cli("hub", "fleet", "rollback", second["deployment_id"][:8], *conf)
    assert run.returncode == 0, run.stderr
    assert "version 3" in run.stdout.splitlines()[0]
    back = desired_topics(broker).json(f"{PREFIX}/fleet/north/desired")["model"]
    assert back["version"] == 3 and back["artifact"]["sha256"] == manifest["artifact"]["sha256"]

    assert main(["hub", "fleet", "status", *conf]) == 0
    table = capsys.readouterr().out
    assert "rolled_back" in table and "completed" in table and "rollback to yolo11n v1" in table

    # the stopped and finished states are what `watch` exits on
    assert main(["hub", "fleet", "watch", second["deployment_id"], "--interval", "0.1", *conf]) == 1
    capsys.readouterr()


def test_bad_input_is_refused_with_the_reason(hub: tuple[TillsightConfig, Path, Engine], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    _, path, engine = hub
    conf = ["--config-file", str(path)]
    register(engine, "north", fleet_of(1))
    bad = tmp_path / "bad.yaml"
    bad.write_text("detector:\n  confidence: 0.5\nmqtt:\n  host: evil.example\n")
    # no key yet
    assert main(["hub", "fleet", "publish", "--config", str(bad), "--device", "s-001/till-1", *conf]) == 2
    assert "tillsight hub fleet keygen" in capsys.readouterr().err
    assert main(["hub", "fleet", "keygen", "--out", str(tmp_path / "keys")]) == 0
    capsys.readouterr()
    run = cli("hub", "fleet", "publish", "--config", str(bad), "--device", "s-001/till-1", *conf)
    assert run.returncode == 2 and "mqtt.host: not fleet-managed" in run.stderr
    bad.write_text("detector:\n  confidence: 7\n")
    assert main(["hub", "fleet", "publish", "--config", str(bad), "--device", "s-001/till-1", *conf]) == 2
    assert "detector.confidence: " in capsys.readouterr().err
    assert main(["hub", "fleet", "publish", "--model", str(make_bundle(tmp_path / "b")), "--group", "north",
                 "--waves", "0.5,0.2,1", *conf]) == 2
    assert "cumulative" in capsys.readouterr().err
    assert main(["hub", "fleet", "rollback", "nope1234", *conf]) == 2
    assert "no deployment matches" in capsys.readouterr().err
    assert main(["hub", "fleet", "status", *conf]) == 0
    assert "no deployments yet" in capsys.readouterr().out
