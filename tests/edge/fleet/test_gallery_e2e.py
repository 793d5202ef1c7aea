"""Acceptance: a catalogue gallery goes from ``tillsight hub fleet publish --gallery`` through the real
processes (Mosquitto, the hub ingest, ``hub fleet watch``, the device's sync/fleet agent) into the
till's own gallery, keeping what the shop enrolled, and the merged gallery comes back to the hub
through the gallery sync.  A model that ``train compare`` found worse is refused at publish."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from analytics.db import make_engine, migrate
from analytics.gallery.query import list_versions
from tests.edge.fleet.test_fleet_e2e import cli
from tests.support.hubdb import register_devices
from tests.support.mosquitto import MosquittoBroker
from tests.support.procs import agent_process, ingest_process
from tests.support.wait import wait_for
from tests.vision.test_gallery import ThumbEmbedder, write_photos
from vision.gallery.enrol import enrol_folder
from vision.gallery.manifest import read_manifest

pytestmark = pytest.mark.slow


def test_a_catalogue_published_from_the_hub_joins_the_tills_gallery_and_syncs_back(
        tmp_path: Path, broker: MosquittoBroker, demo_bundle: Path) -> None:
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
                                       "fleet": {"enabled": True, "public_keys": [str(keys / "fleet-signing.pub")]}}))
    emb = ThumbEmbedder()
    enrol_folder(write_photos(tmp_path / "own", {"RICE-5LB": 1, "BEAN-RED": 2}, per_sku=2), data / "gallery", emb)
    own = {ex.sha256 for _, ex in read_manifest(data / "gallery").rows()}
    catalogue = tmp_path / "catalogue"
    enrol_folder(write_photos(tmp_path / "cat", {"MILK-1L": 3, "SODA-600": 4}, per_sku=2), catalogue, emb)

    hub = make_engine(hub_db)
    migrate(hub)
    register_devices(hub)
    ingest = ingest_process(hub_cfg, "hub-gallery-e2e", tmp_path / "ingest.log")
    agent = agent_process(dev_cfg, tmp_path / "agent.log")

    def at_hub(version: int | None = None, skus: int | None = None) -> bool:
        with hub.connect() as conn:
            return any(g.complete and version in (None, g.version) and skus in (None, g.skus)
                       for g in list_versions(conn, "s-001"))

    try:
        wait_for(at_hub, 60, "the till's own gallery at the hub")
        published = cli("hub", "fleet", "publish", "--gallery", str(catalogue), "--device", "s-001/till-1",
                        "--config-file", str(hub_cfg))
        assert published.returncode == 0, published.stderr + published.stdout
        assert "gallery" in published.stdout
        deployment = re.search(r"deployment (\S+) version (\d+)", published.stdout)
        assert deployment, published.stdout
        watched = cli("hub", "fleet", "watch", deployment.group(1), "--interval", "0.5", "--config-file",
                      str(hub_cfg), timeout_s=240)
        assert watched.returncode == 0, watched.stdout + watched.stderr + agent.log()[-3000:]

        merged = read_manifest(data / "gallery")
        assert own <= {ex.sha256 for _, ex in merged.rows()}
        assert set(merged.skus) == {"RICE-5LB", "BEAN-RED", "MILK-1L", "SODA-600"}

        wait_for(lambda: at_hub(merged.version, 4), 60, "the merged gallery synced back to the hub")
    finally:
        agent.terminate()
        ingest.terminate()
        hub.dispose()

    # A model the store's photos found worse is refused unless forced (before anything is published).
    worse = tmp_path / "worse"
    worse.mkdir()
    for path in demo_bundle.iterdir():
        if path.is_file():
            (worse / path.name).write_bytes(path.read_bytes())
    manifest = json.loads((worse / "manifest.json").read_text())
    manifest["gallery_check"] = {"passed": False, "summary": "new top-1 0.400, running top-1 0.900"}
    (worse / "manifest.json").write_text(json.dumps(manifest))
    refused = cli("hub", "fleet", "publish", "--model", str(worse), "--device", "s-001/till-1",
                  "--config-file", str(hub_cfg))
    assert refused.returncode == 2 and "0.400" in refused.stderr and "--force" in refused.stderr
