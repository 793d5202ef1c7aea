"""``tillsight hub device ...`` and ``tillsight hub broker ...`` as an operator runs them: the
credentials snippet is printed once and is a valid device config, the hub keeps only hashes,
mistakes get a clear message and change nothing, and the rendered broker files run a real
Mosquitto that lets the new device in."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from analytics.broker.passwords import parse_password_file, verify_password
from firmware_config import load_config
from tests.analytics.broker.helpers import BROKER_USER, PREFIX, Probe, broker_state_dir
from tests.conftest import REPO
from tests.support.mosquitto import MosquittoBroker, free_port
from tests.support.wait import wait_for
from tillsight_cli.main import main


def write_hub_config(path: Path, root: Path, **broker: object) -> Path:
    cfg = {"hub": {"database_url": f"sqlite:///{root / 'hub.db'}",
                   "broker": {"dir": str(root / "broker"), "public_host": "mqtt.example.com", "public_port": 8883,
                              **broker}}}
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture
def hub_config(tmp_path: Path) -> Path:
    return write_hub_config(tmp_path / "hub.yaml", tmp_path)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_device_add_prints_a_valid_device_config_once_and_keeps_only_a_hash(
        tmp_path: Path, hub_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = cli(capsys, "hub", "device", "add", "--config", str(hub_config), "--store", "s-001",
                       "--device", "till-1", "--group", "north", "--ca-file", "/etc/tillsight/mqtt-ca.crt")
    assert rc == 0, err
    snippet = yaml.safe_load(out)
    device_cfg = load_config(None, env={}, overrides=snippet)  # the snippet is a valid device configuration
    assert (device_cfg.store.store_id, device_cfg.store.device_id) == ("s-001", "till-1")
    assert (device_cfg.mqtt.host, device_cfg.mqtt.port, device_cfg.mqtt.username) == \
        ("mqtt.example.com", 8883, "s-001.till-1")
    assert device_cfg.mqtt.tls.enabled and str(device_cfg.mqtt.tls.ca_file) == "/etc/tillsight/mqtt-ca.crt"
    assert device_cfg.fleet.group == "north"
    password = device_cfg.mqtt.password.get_secret_value()
    assert len(password) >= 32 and "reload the broker" in err
    hashes = parse_password_file((tmp_path / "broker" / "passwords").read_text())
    assert verify_password(password, hashes["s-001.till-1"])
    for path in [tmp_path / "hub.db", *(tmp_path / "broker").iterdir()]:
        assert password.encode() not in path.read_bytes(), f"plain password found in {path}"
    assert "user s-001.till-1" in (tmp_path / "broker" / "acl").read_text()

    rc, out, err = cli(capsys, "hub", "device", "list", "--config", str(hub_config), "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert rc == 0 and [(r["store_id"], r["device_id"], r["group"], r["username"], r["password_set"])
                        for r in rows] == [("s-001", "till-1", "north", "s-001.till-1", True)]


def test_adding_a_device_twice_is_refused_and_rotate_issues_a_new_password(
        tmp_path: Path, hub_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ("--config", str(hub_config), "--store", "s-001", "--device", "till-1")
    rc, out, _ = cli(capsys, "hub", "device", "add", *base)
    first = yaml.safe_load(out)["mqtt"]["password"]
    passwords = tmp_path / "broker" / "passwords"
    before = passwords.read_text()
    rc, out, err = cli(capsys, "hub", "device", "add", *base)
    assert rc == 2 and out == ""
    assert "device s-001/till-1 is registered already (use `tillsight hub device rotate`" in err
    assert passwords.read_text() == before  # the first password still works
    rc, out, err = cli(capsys, "hub", "device", "rotate", *base)
    second = yaml.safe_load(out)["mqtt"]["password"]
    stored = parse_password_file(passwords.read_text())["s-001.till-1"]
    assert rc == 0 and second != first and verify_password(second, stored) and not verify_password(first, stored)
    rc, out, err = cli(capsys, "hub", "device", "rotate", "--config", str(hub_config), "--store", "s-001",
                       "--device", "till-9")
    assert rc == 2 and "device s-001/till-9 is not registered" in err


@pytest.mark.parametrize("args, message", [
    (("--store", "S 001", "--device", "till-1"), "invalid store id 'S 001'"),
    (("--store", "s-001", "--device", "till_1"), "invalid device id 'till_1'"),
    (("--store", "fleet", "--device", "till-1"), "store id 'fleet' is reserved"),
    (("--store", "s-001", "--device", "till-1", "--group", "a+b"), "invalid group 'a+b'"),
    (("--store", "s-001", "--device", "till-1", "--timezone", "Mars/Olympus"), "unknown time zone 'Mars/Olympus'"),
])
def test_invalid_ids_get_a_clear_error_and_change_nothing(tmp_path: Path, hub_config: Path,
                                                          capsys: pytest.CaptureFixture[str], args, message) -> None:
    rc, out, err = cli(capsys, "hub", "device", "add", "--config", str(hub_config), *args)
    assert rc == 2 and out == ""
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "broker" / "passwords").exists()
    rc, out, _ = cli(capsys, "hub", "device", "list", "--config", str(hub_config), "--json")
    assert out == ""


def test_an_invalid_config_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write_hub_config(tmp_path / "bad.yaml", tmp_path, hub_users=["hub.ingest"])
    rc, _, err = cli(capsys, "hub", "device", "add", "--config", str(bad), "--store", "s-001", "--device", "t-1")
    assert rc == 2 and "hub.broker.hub_users" in err and "no '.'" in err


def test_remove_revokes_the_password_and_the_acl_entry(tmp_path: Path, hub_config: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    for dev in ("till-1", "till-2"):
        assert cli(capsys, "hub", "device", "add", "--config", str(hub_config), "--store", "s-001",
                   "--device", dev)[0] == 0
    rc, out, _ = cli(capsys, "hub", "device", "remove", "--config", str(hub_config), "--store", "s-001",
                     "--device", "till-1")
    assert rc == 0 and json.loads(out) == {"removed": "s-001/till-1", "username": "s-001.till-1"}
    assert list(parse_password_file((tmp_path / "broker" / "passwords").read_text())) == ["s-001.till-2"]
    acl = (tmp_path / "broker" / "acl").read_text()
    assert "s-001.till-1" not in acl and "user s-001.till-2" in acl


def test_hub_password_is_only_for_configured_hub_users(tmp_path: Path, hub_config: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = cli(capsys, "hub", "broker", "passwd", "--config", str(hub_config), "--user", "intruder")
    assert rc == 2 and "'intruder' is not a hub user" in err
    rc, out, err = cli(capsys, "hub", "broker", "passwd", "--config", str(hub_config), "--user", "hub")
    secret = out.strip().splitlines()[-1]
    passwords = parse_password_file((tmp_path / "broker" / "passwords").read_text())
    assert rc == 0 and verify_password(secret, passwords["hub"])


def test_render_refuses_half_a_tls_setup(tmp_path: Path, hub_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = cli(capsys, "hub", "broker", "render", "--config", str(hub_config), "--tls-port", "8883")
    assert rc == 2 and "a TLS listener needs --ca, --cert and --key" in err
    rc, out, err = cli(capsys, "hub", "broker", "ca", "--out", str(tmp_path / "ca"))
    assert rc == 0
    rc, out, err = cli(capsys, "hub", "broker", "ca", "--out", str(tmp_path / "ca"))
    assert rc == 2 and "refusing to replace the CA" in err
    rc, out, err = cli(capsys, "hub", "broker", "cert", "--ca-dir", str(tmp_path / "ca"), "--name", "broker",
                       "--out", str(tmp_path / "tls"), "--server", "--host", "mqtt.example.com")
    assert rc == 0 and json.loads(out)["kind"] == "server"
    rc, out, err = cli(capsys, "hub", "broker", "render", "--config", str(hub_config), "--tls-port", "8883",
                       "--ca", str(tmp_path / "ca" / "ca.crt"), "--cert", str(tmp_path / "tls" / "broker.crt"),
                       "--key", str(tmp_path / "ca" / "ca.key"))
    assert rc == 2 and "is not the private key of" in err
    rc, out, err = cli(capsys, "hub", "broker", "render", "--config", str(hub_config), "--plain-port", "0")
    assert rc == 2 and "no listener" in err
    assert not (tmp_path / "broker" / "mosquitto.conf").exists()


def test_rendered_files_run_a_real_broker_that_admits_the_new_device(
        tmp_path: Path, shared_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = shared_dir / "hub"
    root.mkdir()
    config = write_hub_config(tmp_path / "hub.yaml", root, file_group=BROKER_USER)
    rc, out, err = cli(capsys, "hub", "device", "add", "--config", str(config), "--store", "s-001",
                       "--device", "till-1")
    device_password = yaml.safe_load(out)["mqtt"]["password"]
    rc, out, err = cli(capsys, "hub", "broker", "passwd", "--config", str(config), "--user", "hub")
    hub_password = out.strip().splitlines()[-1]
    port = free_port()
    state = broker_state_dir(shared_dir / "state")
    rc, out, err = cli(capsys, "hub", "broker", "render", "--config", str(config), "--plain-port", str(port),
                       "--persistence-dir", str(state), "--log-dest", f"file {state / 'mosquitto.log'}")
    assert rc == 0, err
    conf = Path(json.loads(out)["conf"])
    assert conf.parent == root / "broker" and re.search(rf"^listener {port} 127\.0\.0\.1$", conf.read_text(), re.M)

    class FromFile(MosquittoBroker):
        def config_text(self) -> str:
            return conf.read_text()

    broker = FromFile(state, port=port).start()
    hub = Probe(broker, "hub", hub_password)
    dev = Probe(broker, "s-001.till-1", device_password)
    try:
        assert hub.connect() == 0 and dev.connect() == 0
        hub.subscribe(f"$share/ingest/{PREFIX}/+/+/tx")
        assert dev.publish(f"{PREFIX}/s-001/till-1/tx", b"sale") == 0
        assert dev.publish(f"{PREFIX}/s-002/till-1/tx", b"forged") == 0x87
        anonymous = Probe(broker)
        assert anonymous.refused()
        anonymous.close()
        # the broker handles the device's packets in order: once a later sale is at the hub, the
        # forged one would have been there before it had it been let through
        assert dev.publish(f"{PREFIX}/s-001/till-1/tx", b"later sale") == 0
        wait_for(lambda: len(hub.received()) >= 2, 5, "the device's sales at the hub")
    finally:
        hub.close()
        dev.close()
        broker.kill()
    assert [m[:2] for m in hub.received()] == [(f"{PREFIX}/s-001/till-1/tx", b"sale"),
                                               (f"{PREFIX}/s-001/till-1/tx", b"later sale")]


def test_the_tillsight_command_runs_hub_device_add(tmp_path: Path, hub_config: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "tillsight_cli.main", "hub", "device", "add", "--config",
                        str(hub_config), "--store", "s-003", "--device", "till-1"], cwd=REPO,
                       capture_output=True, check=False, text=True, timeout=60,
                       env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert yaml.safe_load(r.stdout)["mqtt"]["username"] == "s-003.till-1"


def test_moving_a_device_to_another_group_moves_its_desired_state_grant(
        tmp_path: Path, hub_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli(capsys, "hub", "device", "add", "--config", str(hub_config), "--store", "s-001", "--device", "till-1")
    acl = tmp_path / "broker" / "acl"
    assert f"topic read {PREFIX}/fleet/default/desired" in acl.read_text()
    rc, out, _ = cli(capsys, "hub", "device", "group", "--config", str(hub_config), "--store", "s-001",
                     "--device", "till-1", "--group", "pilot")
    assert rc == 0 and json.loads(out) == {"device": "s-001/till-1", "group": "pilot"}
    text = acl.read_text()
    assert f"topic read {PREFIX}/fleet/pilot/desired" in text and "fleet/default/desired" not in text
    (tmp_path / "broker" / "passwords").write_text("")  # e.g. restored from an old backup
    rc, out, _ = cli(capsys, "hub", "device", "list", "--config", str(hub_config))
    assert rc == 0
    assert out.splitlines()[0].split() == ["STORE", "DEVICE", "GROUP", "USERNAME", "PASSWORD", "REGISTERED"]
    assert out.splitlines()[1].split()[:5] == ["s-001", "till-1", "pilot", "s-001.till-1", "MISSING"]
