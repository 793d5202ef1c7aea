"""Acceptance: a model update reaches a running till through the real processes — Mosquitto, the
hub ingest, ``tillsight hub fleet publish`` and ``watch``, the appliance (``tillsight run``) and
its sync/fleet agent — and the checkout runs the new model without the appliance restarting."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from analytics.db import fleet_tables as ft
from analytics.db import make_engine, migrate
from tests.support.fleet import variant_bundle
from tests.support.hubdb import device as hub_device
from tests.support.hubdb import register_devices
from tests.support.mosquitto import MosquittoBroker, free_port
from tests.support.procs import REPO, Proc, agent_process, ingest_process
from tests.support.wait import wait_for

pytestmark = pytest.mark.slow


def cli(*args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tillsight_cli.main", *args], cwd=REPO, capture_output=True,
                          check=False, text=True, timeout=timeout_s)


def test_a_published_model_reaches_the_running_till(tmp_path: Path, broker: MosquittoBroker,
                                                     demo_bundle: Path) -> None:
    keys = tmp_path / "keys"
    assert cli("hub", "fleet", "keygen", "--out", str(keys)).returncode == 0
    hub_db = f"sqlite:///{tmp_path / 'hub.db'}"
    mqtt = {"host": broker.host, "port": broker.port, "keepalive_s": 5, "reconnect_min_s": 0.1,
            "reconnect_max_s": 1.0, "telemetry_interval_s": 1.0}
    hub_cfg = tmp_path / "hub.yaml"
    hub_cfg.write_text(yaml.safe_dump({"mqtt": mqtt, "hub": {
        "database_url": hub_db, "fleet_signing_key": str(keys / "fleet-signing.key"),
        "fleet_artifact_dir": str(tmp_path / "artifacts")}}))
    data = tmp_path / "device"
    dev_cfg = tmp_path / "device.yaml"
    dev_cfg.write_text(yaml.safe_dump({"mqtt": mqtt, "data_dir": str(data), "detector": {"bundle": str(demo_bundle)},
                                       "fleet": {"enabled": True, "public_keys": [str(keys / "fleet-signing.pub")],
                                                 "switch_timeout_s": 60}}))

    hub = make_engine(hub_db)
    migrate(hub)
    register_devices(hub)  # the hub stores only what registered devices send
    hub.dispose()
    ingest = ingest_process(hub_cfg, "hub-e2e", tmp_path / "ingest.log")
    appliance = Proc(["-m", "tillsight_cli.main", "run", "--config", str(dev_cfg), "--port", str(free_port()),
                      "--camera", "synthetic:?seed=8&period=2"], tmp_path / "appliance.log")
    agent = agent_process(dev_cfg, tmp_path / "agent.log")
    engine = make_engine(hub_db)
    try:
        beat_path = data / "fleet" / "appliance.json"
        wait_for(beat_path.exists, 90, "the appliance writes its heartbeat")
        pid_before = json.loads(beat_path.read_text())["pid"]
        assert pid_before == appliance.proc.pid
        wait_for(lambda: (hub_device(engine, "s-001", "till-1") or {}).get("reported") is not None, 60,
                 "the hub knows the device's reported state")

        new = variant_bundle(demo_bundle, tmp_path / "bundle-v2", "20261121.220000")
        published = cli("hub", "fleet", "publish", "--model", str(new), "--device", "s-001/till-1",
                        "--health-window", "2", "--config-file", str(hub_cfg))
        assert published.returncode == 0, published.stderr + published.stdout
        deployment = re.search(r"deployment (\S+) version (\d+)", published.stdout)
        assert deployment, published.stdout
        watched = cli("hub", "fleet", "watch", deployment.group(1), "--interval", "0.5", "--config-file",
                      str(hub_cfg), timeout_s=240)
        assert watched.returncode == 0, watched.stdout + watched.stderr + agent.log()[-3000:]

        beat = json.loads(beat_path.read_text())
        assert beat["model_version"] == "20261121.220000"
        assert beat["pid"] == pid_before and appliance.proc.poll() is None  # no restart
        with engine.connect() as conn:
            target = conn.execute(select(ft.deployment_targets).where(
                ft.deployment_targets.c.deployment_id == deployment.group(1))).mappings().one()
            state = conn.execute(select(ft.deployments.c.state).where(
                ft.deployments.c.deployment_id == deployment.group(1))).scalar_one()
        assert target["state"] == "succeeded" and state == "completed"
        reported = hub_device(engine, "s-001", "till-1")["reported"]
        assert reported["model"]["bundle_version"] == "20261121.220000"
        assert reported["model"]["version"] == int(deployment.group(2))
        # the vision loop keeps inferring with the new model
        frames = beat["frames"]
        wait_for(lambda: json.loads(beat_path.read_text())["frames"] > frames, 30, "frames inferred by the new model")
    finally:
        for proc in (agent, appliance, ingest):
            proc.terminate()
        engine.dispose()
