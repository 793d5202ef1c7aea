"""Fleet updates on a running device: a real broker, the real appliance (synthetic camera, demo
model) in this process, and the real sync agent with its fleet agent.  The test plays the fleet
operator (and the attacker) with tests/support/fleet.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.appliance import Appliance, build_appliance
from edge.fleet.state import FleetState
from edge.store import Store
from edge.sync.agent import SyncAgent
from firmware_config import TillsightConfig, load_config
from tests.support.fleet import PREFIX, Operator, Publisher, pack_bundle, variant_bundle
from tests.support.mosquitto import MosquittoBroker
from tests.support.wait import wait_for

pytestmark = pytest.mark.slow

DEVICE_DESIRED = f"{PREFIX}/s-001/till-1/desired"
GROUP_DESIRED = f"{PREFIX}/fleet/default/desired"
CHUNK = 256 * 1024


class Reported:
    """Follows the device's retained ``reported`` topic, as the hub does."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.latest: dict[str, Any] | None = None
        self.steps: list[str] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="hub-watch", protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.subscribe(f"{PREFIX}/s-001/till-1/reported", qos=1)
        self.client.loop_start()

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        doc = json.loads(msg.payload)
        with self._lock:
            self.latest = doc
            if doc["update"] and (not self.steps or self.steps[-1] != doc["update"]["step"]):
                self.steps.append(doc["update"]["step"])

    def result_for(self, deployment_id: str) -> dict[str, Any] | None:
        with self._lock:
            for result in (self.latest or {}).get("results", []):
                if result["deployment_id"] == deployment_id:
                    return result
        return None

    def wait_result(self, manifest: dict[str, Any], timeout_s: float = 60.0) -> dict[str, Any]:
        wait_for(lambda: self.result_for(manifest["deployment_id"]) is not None, timeout_s,
                 f"an outcome for {manifest['name']} on reported")
        result = self.result_for(manifest["deployment_id"])
        assert result is not None
        return result

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@dataclass
class Device:
    cfg: TillsightConfig
    appliance: Appliance
    agent: SyncAgent
    store: Store
    operator: Operator
    publisher: Publisher
    reported: Reported

    @property
    def running_version(self) -> str:
        return self.appliance.vision.pipeline.detector.manifest.version

    def restart_agent(self) -> None:
        self.agent.stop()
        self.agent = SyncAgent(self.store, self.cfg)
        self.agent.start()
        wait_for(self.agent.connected.is_set, 15, "the restarted agent connects")


def device_config(broker: MosquittoBroker, tmp_path: Path, operator: Operator, bundle: Path) -> TillsightConfig:
    return load_config(None, env={}, overrides={
        "mqtt": {"host": broker.host, "port": broker.port, "keepalive_s": 5, "reconnect_min_s": 0.1,
                 "reconnect_max_s": 1.0, "telemetry_interval_s": 1.0},
        "camera": {"uri": "synthetic:?seed=3&period=1.0&fps=10"},
        "detector": {"bundle": str(bundle)},
        "fleet": {"enabled": True, "public_keys": [str(operator.public_pem)], "switch_timeout_s": 30},
        "data_dir": str(tmp_path / "device")})


@pytest.fixture
def device(tmp_path: Path, broker: MosquittoBroker, demo_bundle: Path) -> Iterator[Device]:
    operator = Operator.create(tmp_path / "keys")
    cfg = device_config(broker, tmp_path, operator, demo_bundle)
    appliance = build_appliance(cfg, seed_demo=True, history_days=0)
    assert appliance.switcher is not None
    appliance.switcher.period_s = 0.2
    appliance.vision.loop.start()
    appliance.switcher.start()
    store = Store(Path(cfg.data_dir) / "store.db")
    agent = SyncAgent(store, cfg)
    agent.start()
    reported = Reported(broker)
    publisher = Publisher(broker.host, broker.port)
    dev = Device(cfg, appliance, agent, store, operator, publisher, reported)
    try:
        wait_for(agent.connected.is_set, 15, "the sync agent connects")
        yield dev
    finally:
        dev.agent.stop()
        publisher.close()
        reported.close()
        appliance.switcher.stop()
        appliance.vision.loop.stop()
        appliance.vision.source.close()
        store.close()
        appliance.store.close()


def ship_model(dev: Device, bundle: Path, version: int, topic: str = GROUP_DESIRED, **kw: Any) -> dict[str, Any]:
    data = pack_bundle(bundle)
    manifest = dev.operator.manifest("model", version, data, fmt="tar.gz", chunk_size=CHUNK,
                                     bundle_version=json.loads((bundle / "manifest.json").read_text())["version"], **kw)
    dev.publisher.artifact(data, CHUNK)
    dev.publisher.desired(topic, model=manifest)
    return manifest


def test_a_model_update_reaches_the_running_checkout_without_a_restart(device: Device, demo_bundle: Path,
                                                                      tmp_path: Path) -> None:
    before = device.running_version
    inferences_before = device.appliance.vision.pipeline.stats.inferences
    new = variant_bundle(demo_bundle, tmp_path / "v2", "20261121.120000")
    manifest = ship_model(device, new, version=1)
    result = device.reported.wait_result(manifest)
    assert result["outcome"] == "succeeded", result
    assert device.running_version == "20261121.120000" != before
    # every step was reported, in order
    steps = device.reported.steps
    for step in ("accepted", "downloading", "verifying", "installing", "self_test", "switching", "health_window"):
        assert step in steps, steps
    assert steps.index("downloading") < steps.index("self_test") < steps.index("health_window")
    latest = device.reported.latest
    assert latest["model"]["version"] == 1 and latest["model"]["bundle_version"] == "20261121.120000"
    assert latest["trusted"]["model"] == 1 and latest["update"] is None
    # the vision loop carries on with the new model: the live view shows it, frames are inferred
    wait_for(lambda: device.appliance.vision.pipeline.stats.inferences > inferences_before + 3, 20,
             "inference goes on after the switch")
    assert device.appliance.health()["model_version"] == "20261121.120000"
    # the new bundle lives beside the configured one; the previous (set-up) bundle is untouched
    assert (demo_bundle / "model.onnx").exists()


def test_the_switch_waits_for_the_open_sale_to_end(device: Device, demo_bundle: Path, tmp_path: Path) -> None:
    store = device.appliance.store
    cashier = store.users.get("ana")
    store.shifts.open(cashier.id, 100000)
    device.appliance.checkout.start(cashier)
    assert device.appliance.checkout.sale_open()
    before = device.running_version
    manifest = ship_model(device, variant_bundle(demo_bundle, tmp_path / "v2", "20261121.130000"), version=1)
    wait_for(lambda: "awaiting_idle" in device.reported.steps, 60, "the device waits for the sale to end")
    assert device.running_version == before  # never mid-sale
    device.appliance.checkout.void(store.users.get("maria"), "test: end the sale")  # a supervisor
    assert not device.appliance.checkout.sale_open()
    assert device.reported.wait_result(manifest)["outcome"] == "succeeded"
    assert device.running_version == "20261121.130000"


def test_a_tampered_artifact_is_refused_and_the_running_model_keeps_running(device: Device, demo_bundle: Path,
                                                                           tmp_path: Path) -> None:
    before = device.running_version
    bundle = variant_bundle(demo_bundle, tmp_path / "v2", "20261121.140000")
    data = pack_bundle(bundle)
    manifest = device.operator.manifest("model", 1, data, fmt="tar.gz", chunk_size=CHUNK)
    device.publisher.artifact(data, CHUNK, corrupt_chunk=2)  # a broker that altered one chunk
    device.publisher.desired(GROUP_DESIRED, model=manifest)
    result = device.reported.wait_result(manifest)
    assert result["outcome"] == "refused" and "sha256" in result["reason"]
    assert device.running_version == before
    assert not (Path(device.cfg.data_dir) / "fleet" / "models" / "current").exists()


def test_a_forged_or_foreign_manifest_is_refused_before_anything_is_downloaded(device: Device, demo_bundle: Path,
                                                                              tmp_path: Path) -> None:
    data = pack_bundle(variant_bundle(demo_bundle, tmp_path / "v2", "20261121.150000"))
    forged = device.operator.manifest("model", 5, data, fmt="tar.gz", chunk_size=CHUNK)
    forged["health"]["window_s"] = 0  # changed after signing
    device.publisher.desired(GROUP_DESIRED, model=forged)
    assert "bad signature" in device.reported.wait_result(forged)["reason"]
    stranger = Operator.create(tmp_path / "stranger")
    foreign = stranger.manifest("model", 6, data, fmt="tar.gz", chunk_size=CHUNK)
    device.publisher.desired(GROUP_DESIRED, model=foreign)
    assert "unknown key" in device.reported.wait_result(foreign)["reason"]
    expired = device.operator.manifest("model", 7, data, fmt="tar.gz", chunk_size=CHUNK, expires_in_s=-60)
    device.publisher.desired(DEVICE_DESIRED, model=expired)
    assert "expired" in device.reported.wait_result(expired)["reason"]
    elsewhere = device.operator.manifest("model", 8, data, fmt="tar.gz", chunk_size=CHUNK,
                                         target={"devices": ["s-002/till-1"]})
    device.publisher.desired(DEVICE_DESIRED, model=elsewhere)
    assert "not addressed" in device.reported.wait_result(elsewhere)["reason"]
    # none of them was trusted: a refused manifest does not raise the version floor
    assert device.reported.latest["trusted"].get("model", 0) == 0
    assert not (Path(device.cfg.data_dir) / "fleet" / "downloads").exists() or \
        not any((Path(device.cfg.data_dir) / "fleet" / "downloads").iterdir())


def test_a_bundle_failing_its_self_test_is_rejected_with_the_reason(device: Device, demo_bundle: Path,
                                                                   tmp_path: Path) -> None:
    before = device.running_version
    manifest_doc = json.loads((demo_bundle / "manifest.json").read_text())
    expected = dict(manifest_doc["selftest"]["expected"])
    expected["TP-4PK"] = expected.get("TP-4PK", 0) + 2  # the model will not find these
    bad = variant_bundle(demo_bundle, tmp_path / "bad", "20261121.160000",
                         selftest={**manifest_doc["selftest"], "expected": expected})
    manifest = ship_model(device, bad, version=1)
    result = device.reported.wait_result(manifest)
    assert result["outcome"] == "failed" and "self-test" in result["reason"] and "TP-4PK" in result["reason"]
    assert device.running_version == before
    assert "switching" not in device.reported.steps


def test_a_model_failing_its_health_window_is_rolled_back(device: Device, demo_bundle: Path, tmp_path: Path) -> None:
    good = ship_model(device, variant_bundle(demo_bundle, tmp_path / "v2", "20261121.170000"), version=1)
    assert device.reported.wait_result(good)["outcome"] == "succeeded"
    slow = ship_model(device, variant_bundle(demo_bundle, tmp_path / "v3", "20261121.180000"), version=2,
                      window_s=3.0, max_inference_ms=0.01)  # no real model is that fast
    result = device.reported.wait_result(slow)
    assert result["outcome"] == "rolled_back" and "inference takes" in result["reason"]
    wait_for(lambda: device.running_version == "20261121.170000", 20, "the previous model runs again")
    assert device.reported.latest["model"]["version"] == 1
    assert device.reported.latest["trusted"]["model"] == 2  # and v2 is not tried again


def test_downgrades_and_replays_are_refused_across_a_restart(device: Device, demo_bundle: Path,
                                                            tmp_path: Path) -> None:
    old = ship_model(device, variant_bundle(demo_bundle, tmp_path / "v2", "20261121.190000"), version=3)
    assert device.reported.wait_result(old)["outcome"] == "succeeded"
    newer = ship_model(device, variant_bundle(demo_bundle, tmp_path / "v3", "20261121.200000"), version=4,
                       topic=DEVICE_DESIRED)
    assert device.reported.wait_result(newer)["outcome"] == "succeeded"
    device.restart_agent()
    # anyone replays the older, validly signed manifest, on both topics
    device.publisher.desired(GROUP_DESIRED, model=old)
    device.publisher.desired(DEVICE_DESIRED, model=old)
    downgrade = ship_model(device, variant_bundle(demo_bundle, tmp_path / "v1", "20261121.100000"), version=2)
    wait_for(lambda: device.reported.latest and device.reported.latest["at"] > newer["issued_at"], 10, "reported")
    threading.Event().wait(3.0)
    assert device.running_version == "20261121.200000"
    assert device.reported.result_for(downgrade["deployment_id"]) is None  # never acted on
    state = FleetState.load(Path(device.cfg.data_dir) / "fleet" / "state.json")
    assert state.trusted["model"] == 4 and state.running["model"].version == 4


def test_a_download_resumes_after_the_agent_restarts(device: Device, demo_bundle: Path, tmp_path: Path) -> None:
    data = pack_bundle(variant_bundle(demo_bundle, tmp_path / "v2", "20261121.210000"))
    chunk = 64 * 1024
    manifest = device.operator.manifest("model", 1, data, fmt="tar.gz", chunk_size=chunk,
                                        bundle_version="20261121.210000")
    n = manifest["artifact"]["chunks"]
    sha = manifest["artifact"]["sha256"]
    for i in range(n // 2):  # only half the artifact is on the broker yet
        device.publisher.publish(f"{PREFIX}/fleet/artifacts/{sha}/{i}", data[i * chunk:(i + 1) * chunk])
    device.publisher.desired(GROUP_DESIRED, model=manifest)
    downloads = Path(device.cfg.data_dir) / "fleet" / "downloads" / sha
    wait_for(lambda: downloads.exists() and len(list(downloads.glob("*.chunk"))) == n // 2, 30, "half downloaded")
    fleet = device.agent.fleet
    assert fleet is not None
    waiting = fleet.turns
    wait_for(lambda: fleet.turns > waiting + 2, 10, "the waiting download keeps the watchdog's probe moving")
    device.restart_agent()
    for i in range(n // 2, n):
        device.publisher.publish(f"{PREFIX}/fleet/artifacts/{sha}/{i}", data[i * chunk:(i + 1) * chunk])
    assert device.reported.wait_result(manifest)["outcome"] == "succeeded"
    assert device.running_version == "20261121.210000"


def ship_config(dev: Device, text: bytes, version: int, **kw: Any) -> dict[str, Any]:
    manifest = dev.operator.manifest("config", version, text, fmt="yaml", chunk_size=1024, **kw)
    dev.publisher.artifact(text, 1024)
    dev.publisher.desired(GROUP_DESIRED, config=manifest)
    return manifest


def test_config_updates_apply_live_and_bad_ones_are_refused_naming_the_key(device: Device) -> None:
    detector = device.appliance.vision.pipeline.detector
    recogniser = device.appliance.vision.recogniser
    assert recogniser is not None and recogniser.settings.head_min == 0.5
    text = (b"detector:\n  confidence: 0.61\nstabiliser:\n  settle_frames: 4\n"
            b"recognition:\n  head_min: 0.7\n  reuse_iou: 0.5\n  finder_confidence: 0.3\n")
    manifest = ship_config(device, text, 1)
    outcome = device.reported.wait_result(manifest)
    assert outcome["outcome"] == "succeeded", outcome
    assert detector.confidence == pytest.approx(0.61)
    assert device.appliance.vision.pipeline.stabiliser.settle_frames == 4
    # the running recogniser's thresholds too, without a restart (the same object keeps running)
    assert device.appliance.vision.recogniser is recogniser
    assert (recogniser.settings.head_min, recogniser.settings.reuse_iou,
            recogniser.settings.finder_confidence) == (0.7, 0.5, 0.3)
    assert device.reported.latest["config"]["version"] == 1

    for version, bad, key in ((2, b"mqtt:\n  host: evil.example\n", "mqtt.host"),
                              (3, b"detector:\n  confidence: 7\n", "confidence")):
        result = device.reported.wait_result(ship_config(device, bad, version))
        assert result["outcome"] == "failed" and key in result["reason"], result
    assert detector.confidence == pytest.approx(0.61)  # the good config still applies


def test_a_config_failing_its_health_window_is_rolled_back_to_the_running_one(device: Device) -> None:
    detector = device.appliance.vision.pipeline.detector
    stabiliser = device.appliance.vision.pipeline.stabiliser
    good = b"detector:\n  confidence: 0.55\nstabiliser:\n  settle_frames: 5\n"
    assert device.reported.wait_result(ship_config(device, good, 1))["outcome"] == "succeeded"
    assert detector.confidence == pytest.approx(0.55) and stabiliser.settle_frames == 5

    # valid as configuration, so it is installed and applied, but the till cannot meet its health bar
    slow = b"detector:\n  confidence: 0.45\nstabiliser:\n  settle_frames: 2\n"
    # no real model is that fast
    result = device.reported.wait_result(ship_config(device, slow, 2, window_s=3.0, max_inference_ms=0.01))
    assert result["outcome"] == "rolled_back" and "inference takes" in result["reason"], result
    assert "switching" in device.reported.steps and "rolling_back" in device.reported.steps
    # the running configuration is the previous one again: the till's thresholds and the overlay file
    wait_for(lambda: detector.confidence == pytest.approx(0.55), 20, "the previous configuration applies again")
    assert stabiliser.settle_frames == 5
    assert device.agent.fleet.paths.config_overlay.read_bytes() == good
    assert device.reported.latest["config"]["version"] == 1
