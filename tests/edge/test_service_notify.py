"""systemd's notify protocol and the progress-based watchdog, against a stand-in ``NOTIFY_SOCKET``
(a unix datagram socket bound here, as systemd binds /run/systemd/notify).

The slow tests run the REAL processes as their ``Type=notify`` units do: ``tillsight run`` (the
appliance, on the synthetic camera and the demo model) must say READY=1 and keep pinging while its
vision loop turns, and stop pinging -- while still alive and serving -- once a camera read hangs
(the synthetic camera's ``stall_after`` fault injection);
``tillsight sync run`` must say READY=1 and keep pinging through a broker outage (being offline
is not a reason for systemd to restart it)."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from runtime.notify import (
    LoopCounter,
    ProgressProbe,
    ProgressWatchdog,
    ServiceNotifier,
    ServiceSupervisor,
    parse_notify_socket,
    parse_watchdog,
)
from firmware_config import ConfigError, load_config
from tests.conftest import REPO
from tests.support.fixtures import broker, make_config, write_config  # noqa: F401 - pytest fixture
from vision.sources import open_source


class NotifyListener:
    """A stand-in for systemd's notify socket: records every datagram with its arrival time."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def env_value(self) -> str:
        return "@" + self.address[1:] if self.address.startswith("\0") else self.address

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            with self._lock:
                self.messages.append((time.monotonic(), fields))

    def snapshot(self) -> list[tuple[float, dict[str, str]]]:
        with self._lock:
            return list(self.messages)

    def times(self, key: str, value: str = "1", after: float = 0.0) -> list[float]:
        return [t for t, f in self.snapshot() if f.get(key) == value and t >= after]

    def statuses(self) -> list[str]:
        return [f["STATUS"] for _, f in self.snapshot() if "STATUS" in f]

    def wait_for(self, what: Callable[[], bool], timeout_s: float, why: str,
                 proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if what():
                return
            if proc is not None and proc.poll() is not None:
                break
            time.sleep(0.05)
        tail = log.read_text(errors="replace")[-4000:] if log is not None and log.exists() else ""
        pytest.fail(f"{why} (messages: {self.snapshot()[-10:]})\n{tail}")

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(2)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # AF_UNIX paths are limited to 108 bytes; pytest's tmp_path can be longer.
    path = Path(tempfile.mkdtemp(prefix="ts-notify-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def listener(short_dir: Path) -> Iterator[NotifyListener]:
    lst = NotifyListener(str(short_dir / "notify.sock"))
    yield lst
    lst.close()


# --- the protocol ---------------------------------------------------------------------------


def test_socket_addresses() -> None:
    assert parse_notify_socket("/run/systemd/notify") == "/run/systemd/notify"
    assert parse_notify_socket("@/org/freedesktop/systemd1/notify/42") == "\0/org/freedesktop/systemd1/notify/42"
    for bad in ("relative/path", "@", "vsock:2:1234"):
        with pytest.raises(ValueError, match="NOTIFY_SOCKET"):
            parse_notify_socket(bad)


def test_watchdog_timeout_from_the_environment(caplog: pytest.LogCaptureFixture) -> None:
    assert parse_watchdog({}) is None
    assert parse_watchdog({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert parse_watchdog({"WATCHDOG_USEC": "2500000", "WATCHDOG_PID": str(os.getpid())}) == 2.5
    # set by systemd for another process (a parent that exec'd a helper): not ours to ping
    assert parse_watchdog({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid() + 1)}) is None
    with caplog.at_level(logging.WARNING):
        assert parse_watchdog({"WATCHDOG_USEC": "soon"}) is None
        assert parse_watchdog({"WATCHDOG_USEC": "0"}) is None
    assert "WATCHDOG_USEC" in caplog.text


def test_ready_status_stopping_and_pings_reach_the_socket(listener: NotifyListener) -> None:
    notifier = ServiceNotifier.from_env({"NOTIFY_SOCKET": listener.env_value, "WATCHDOG_USEC": "4000000"})
    assert notifier.enabled and notifier.watchdog_s == 4.0
    assert notifier.ready("serving on\nhttp://x:8080")
    assert notifier.watchdog()
    assert notifier.status("camera reconnecting")
    assert notifier.stopping()
    listener.wait_for(lambda: len(listener.snapshot()) == 4, 5, "four datagrams")
    fields = [f for _, f in listener.snapshot()]
    # a newline in a status would start a new assignment: it is folded into one line
    assert fields[0] == {"READY": "1", "STATUS": "serving on http://x:8080"}
    assert fields[1] == {"WATCHDOG": "1"}
    assert fields[2] == {"STATUS": "camera reconnecting"}
    assert fields[3] == {"STOPPING": "1", "STATUS": "stopping"}
    notifier.close()


def test_abstract_socket(short_dir: Path) -> None:
    lst = NotifyListener(f"\0tillsight-test-{os.getpid()}-{short_dir.name}")
    try:
        notifier = ServiceNotifier.from_env({"NOTIFY_SOCKET": lst.env_value})
        assert lst.env_value.startswith("@")
        assert notifier.ready("up")
        lst.wait_for(lambda: lst.times("READY") != [], 5, "READY on an abstract socket")
        assert notifier.watchdog_s is None
    finally:
        lst.close()


def test_outside_systemd_everything_is_a_no_op() -> None:
    notifier = ServiceNotifier.from_env({})
    assert not notifier.enabled
    assert not notifier.ready("x") and not notifier.watchdog() and not notifier.stopping()
    supervisor = ServiceSupervisor([ProgressProbe("loop", lambda: 0)], notifier=notifier)
    supervisor.ready("serving")
    assert supervisor.watchdog._thread is None  # no thread started for nobody
    supervisor.close()


def test_a_vanished_socket_is_logged_once_and_never_raises(short_dir: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    notifier = ServiceNotifier(str(short_dir / "gone.sock"), watchdog_s=10)
    with caplog.at_level(logging.WARNING, logger="runtime.notify"):
        assert notifier.ready("x") is False
        assert notifier.watchdog() is False
    assert caplog.text.count("cannot notify systemd") == 1


# --- the watchdog ---------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_pings_only_while_the_loop_makes_progress(listener: NotifyListener,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    notifier = ServiceNotifier(listener.address, watchdog_s=6.0)
    turns = LoopCounter()
    clock = FakeClock()
    wd = ProgressWatchdog(notifier, [ProgressProbe("vision loop", turns)], clock=clock,
                          status=lambda: f"{turns.value} turns")
    assert (wd.interval_s, wd.stale_after_s) == (2.0, 3.0)  # T/3 and T/2
    wd.check()  # baseline
    for _ in range(3):  # turning: a ping each time
        turns.tick()
        clock.now += 2
        assert wd.beat() is True
    clock.now += 2  # no turn for 2 s: still within T/2
    assert wd.beat() is True
    with caplog.at_level(logging.WARNING, logger="runtime.notify"):
        clock.now += 2  # 4 s without a turn: stalled
        assert wd.beat() is False
        clock.now += 2
        assert wd.beat() is False
        assert wd.stalled == {"vision loop"}
        turns.tick()  # it recovered (e.g. a slow camera reopen): pings resume
        clock.now += 2
        assert wd.beat() is True
    assert wd.pings == 5
    assert caplog.text.count("vision loop has made no progress for 4 s") == 1
    assert "making progress again" in caplog.text
    listener.wait_for(lambda: listener.statuses()[-1:] == ["4 turns"], 5, "the status after recovery")
    assert len(listener.times("WATCHDOG")) == 5
    assert listener.statuses() == ["1 turns", "2 turns", "3 turns", "STALLED: no progress from vision loop",
                                   "4 turns"]  # sent when it changes, not with every ping


def test_a_stall_logs_where_the_loop_is_stuck(listener: NotifyListener,
                                              caplog: pytest.LogCaptureFixture) -> None:
    release = threading.Event()

    def stuck_camera_read() -> None:
        release.wait(10)

    worker = threading.Thread(target=stuck_camera_read, name="stuck-worker", daemon=True)
    worker.start()
    clock = FakeClock()
    wd = ProgressWatchdog(ServiceNotifier(listener.address, watchdog_s=2.0),
                          [ProgressProbe("worker", lambda: 7, thread_name="stuck-worker")], clock=clock)
    wd.check()
    clock.now += 5
    with caplog.at_level(logging.ERROR, logger="runtime.notify"):
        assert wd.beat() is False
    release.set()
    assert "worker is stuck here" in caplog.text and "stuck_camera_read" in caplog.text
    assert listener.times("WATCHDOG") == []


def test_the_watchdog_thread_pings_on_its_own(listener: NotifyListener) -> None:
    turns = LoopCounter()
    notifier = ServiceNotifier(listener.address, watchdog_s=0.6)
    supervisor = ServiceSupervisor([ProgressProbe("loop", turns)], notifier=notifier)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(0.02):
            turns.tick()

    threading.Thread(target=loop, daemon=True).start()
    supervisor.ready("serving")
    try:
        listener.wait_for(lambda: len(listener.times("WATCHDOG")) >= 4, 10, "pings from the watchdog thread")
        stop.set()  # the loop stops turning: the pings stop
        listener.wait_for(lambda: supervisor.watchdog.stalled == {"loop"}, 10, "the stall was not noticed")
        time.sleep(0.2)  # a ping sent just before may still be on its way
        count = len(listener.times("WATCHDOG"))
        time.sleep(1.2)  # twice the watchdog timeout
        assert len(listener.times("WATCHDOG")) == count
    finally:
        supervisor.stopping()
        supervisor.close()
    assert listener.times("READY")
    listener.wait_for(lambda: listener.times("STOPPING") != [], 5, "no STOPPING=1")


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
    with pytest.raises(ConfigError, match="camera.uri"):
        load_config(env={}, overrides={"camera": {"uri": "synthetic:?stall_after=0"}})


# --- the real processes ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(listener: NotifyListener, watchdog_usec: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TILLSIGHT__")}
    env.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1", NOTIFY_SOCKET=listener.env_value,
               WATCHDOG_USEC=str(watchdog_usec))
    return env


def _hub_stand_in(broker):  # noqa: ANN001, ANN202 - MosquittoBroker -> paho client
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="hub-stand-in", protocol=mqtt.MQTTv5)
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.on_connect = lambda c, *args: c.subscribe("tillsight/v1/#", qos=1)
    client.connect(broker.host, broker.port)
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
            cwd=REPO, env=_env(listener, int(watchdog_s * 1e6)), stdout=out, stderr=subprocess.STDOUT)
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
    from tests.support.device import record_sales, seeded_store

    from edge.store import DeviceIdentity, Store

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
                                cwd=REPO, env=_env(listener, 3_000_000), stdout=out, stderr=subprocess.STDOUT)
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
