"""The device's ``Type=notify`` processes against a stand-in ``NOTIFY_SOCKET`` (the protocol and the
watchdog themselves: tests/runtime/test_notify.py).

The slow tests run the REAL processes as their ``Type=notify`` units do: ``tillsight run`` (the
appliance, on the synthetic camera and the demo model) must say READY=1 and keep pinging while its
vision loop turns, and stop pinging -- while still alive and serving -- once a camera read hangs
(the synthetic camera's ``stall_after`` fault injection);
``tillsight sync run`` must say READY=1 and keep pinging through a broker outage (being offline
is not a reason for systemd to restart it)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from firmware_config import ConfigError, load_config
from tests.conftest import REPO
from tests.runtime.notify_listener import NotifyListener, listener_fixture, notify_env, short_dir_fixture  # noqa: F401 - fixtures
from tests.support.fixtures import broker, make_config, write_config  # noqa: F401 - pytest fixture
from tests.support.mosquitto import MosquittoBroker
from vision.sources import open_source

# --- the fault injection the process test uses ----------------------------------------------


def test_synthetic_camera_stall_after_blocks_the_read_until_closed() -> None:
    source = open_source("synthetic:?seed=1&stall_after=3&width=64&height=48")
    assert [source.read().index for _ in range(3)] == [0, 1, 2]
    got: list[object] = []
    reader = threading.Thread(target=lambda: got.append(source.read()), daemon=True)
    reader.start()
    reader.join(0.5)
    assert reader.is_alive() and got == []  # hangs, like a driver stuck in a read
    source.close()
    reader.join(5)
    assert got == [None]


def test_stall_after_is_a_valid_camera_option_in_the_config() -> None:
    cfg = load_config(env={}, overrides={"camera": {"uri": "synthetic:?seed=5&stall_after=150"}})
    assert "stall_after=150" in cfg.camera.uri
    with pytest.raises(ConfigError, match=r"camera\.uri"):
        load_config(env={}, overrides={"camera": {"uri": "synthetic:?stall_after=0"}})


# --- the real processes ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _hub_stand_in(mosquitto: MosquittoBroker) -> mqtt.Client:

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="hub-stand-in", protocol=mqtt.MQTTv5)
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.on_connect = lambda c, *args: c.subscribe("tillsight/v1/#", qos=1)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    assert subscribed.wait(10), "the stand-in hub could not subscribe"
    return client


def _stop(proc: subprocess.Popen, listener: NotifyListener, log: Path) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(40)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the process did not stop on SIGTERM\n" + log.read_text(errors="replace")[-3000:])
    assert rc == 0, log.read_text(errors="replace")[-3000:]
    listener.wait_for(lambda: listener.times("STOPPING") != [], 5, "no STOPPING=1 on SIGTERM")


@pytest.mark.slow
def test_appliance_pings_while_vision_turns_and_stops_when_a_camera_read_hangs(
        demo_bundle: Path, tmp_path: Path, listener: NotifyListener) -> None:
    watchdog_s = 6.0  # pings every 2 s; the vision loop is stalled after 3 s without a turn
    port = _free_port()
    # what tillsight-appliance.service runs: `tillsight run --config FILE --data-dir DIR`, here on the
    # synthetic camera with the fault injected after 150 frames and the demo model
    config = tmp_path / "config.yaml"
    config.write_text(f"camera:\n  uri: 'synthetic:?seed=5&period=1.5&stall_after=150'\n"
                      f"detector:\n  bundle: {demo_bundle}\nweb:\n  port: {port}\n")
    log = tmp_path / "appliance.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tillsight_cli.main", "run", "--config", str(config),
             "--data-dir", str(tmp_path / "data")],
            cwd=REPO, env=notify_env(listener, int(watchdog_s * 1e6)), stdout=out, stderr=subprocess.STDOUT)
    try:
        listener.wait_for(lambda: listener.times("READY") != [], 180, "no READY=1 from the appliance", proc, log)
        ready_at = listener.times("READY")[0]
        assert any(s.startswith(f"serving on http://127.0.0.1:{port}") for s in listener.statuses())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as resp:
            assert resp.status == 200  # READY=1 came once it was serving

        # 150 frames at 15 fps: about 10 s of a turning vision loop, several pings
        listener.wait_for(lambda: len(listener.times("WATCHDOG", after=ready_at)) >= 3, 60,
                          "no repeated WATCHDOG=1 while the vision loop turns", proc, log)
        listener.wait_for(lambda: "vision loop has made no progress" in log.read_text(errors="replace"), 90,
                          "the hung camera read was not noticed", proc, log)
        # the stack is a second log record, written just after the first: wait for it too
        listener.wait_for(lambda: "vision loop is stuck here" in log.read_text(errors="replace"), 10,
                          "no stack of the stuck vision loop", proc, log)
        text = log.read_text(errors="replace")
        assert "fault injection: the read hangs after 150 frames" in text
        assert "in read" in text  # the stack names the stuck call
        listener.wait_for(lambda: any(s.startswith("STALLED") for s in listener.statuses()), 10,
                          "no STALLED status", proc, log)

        pings = len(listener.times("WATCHDOG"))
        time.sleep(watchdog_s * 1.5)  # longer than WatchdogSec: systemd would have killed it by now
        assert proc.poll() is None, "the process must stay alive: restarting it is systemd's job"
        assert len(listener.times("WATCHDOG")) == pings, "pings went on while the vision loop hung"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as resp:
            assert resp.status == 200  # the web side still answers: only the watchdog can tell
    finally:
        if proc.poll() is None:
            _stop(proc, listener, log)


@pytest.mark.slow
def test_sync_agent_is_ready_and_keeps_pinging_through_a_broker_outage(
        broker, tmp_path: Path, listener: NotifyListener) -> None:  # noqa: F811 - fixture
    from edge.store import DeviceIdentity, Store
    from tests.support.device import record_sales, seeded_store

    cfg = make_config(broker, tmp_path)
    store = seeded_store(Path(cfg.data_dir) / "store.db")
    record_sales(store, 5)
    store.close()
    # opened as the agent opens it: the seeded credit customers are queued for the hub as well
    store = Store(Path(cfg.data_dir) / "store.db", identity=DeviceIdentity(cfg.store.store_id, cfg.store.device_id))
    waiting = store.outbox.backlog()
    store.close()
    assert waiting > 5
    config = write_config(cfg, tmp_path / "device.yaml")
    hub = _hub_stand_in(broker)  # a subscriber, so the broker accepts the sales (no "no subscribers")
    log = tmp_path / "agent.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "tillsight_cli.main", "sync", "run", "--config", str(config)],
                                cwd=REPO, env=notify_env(listener, 3_000_000), stdout=out, stderr=subprocess.STDOUT)
    try:
        listener.wait_for(lambda: listener.times("READY") != [], 60, "no READY=1 from the sync agent", proc, log)
        listener.wait_for(lambda: f"connected to {broker.host}:{broker.port}; sent {waiting} since start"
                          in listener.statuses(), 30, f"the status never said the {waiting} messages were sent",
                          proc, log)
        listener.wait_for(lambda: len(listener.times("WATCHDOG")) >= 3, 30, "no repeated pings", proc, log)

        broker.kill()  # the hub is unreachable: the agent retries, and must not be restarted for it
        listener.wait_for(lambda: any(s.startswith("offline, retrying") for s in listener.statuses()), 30,
                          "the status never said offline", proc, log)
        offline_at = time.monotonic()
        listener.wait_for(lambda: len(listener.times("WATCHDOG", after=offline_at)) >= 3, 30,
                          "pings stopped while the broker was down", proc, log)
        assert proc.poll() is None
    finally:
        hub.loop_stop()
        if proc.poll() is None:
            _stop(proc, listener, log)
