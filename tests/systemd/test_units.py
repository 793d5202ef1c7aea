"""The unit files: ``systemd-analyze verify`` passes for every one of them (skipped where systemd is
not installed), and they say what the deployment issue asks of them: notify + watchdog, a budget
of restarts, a dedicated user, a read-only system but for the data folder, memory limits."""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.systemd.units import (
    DEVICE_UNITS,
    SYSTEMD_DIR,
    complaints,
    one,
    parse_unit,
    stage_for_verify,
    systemd_analyze,
    unit_files,
    verify,
)

needs_systemd = pytest.mark.skipif(systemd_analyze() is None, reason="systemd-analyze is not installed")


@pytest.fixture
def stand_in_root(tmp_path: Path) -> Path:
    """A root with an executable where the units expect the tillsight command."""
    exe = tmp_path / "root/opt/tillsight/venv/bin/tillsight"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    return tmp_path / "root"


@needs_systemd
def test_every_unit_passes_systemd_analyze_verify(tmp_path: Path, stand_in_root: Path) -> None:
    copies = stage_for_verify(unit_files(), tmp_path / "units", stand_in_root)
    result = verify(copies)
    assert result.returncode == 0 and complaints(result) == [], result.stdout + result.stderr


@needs_systemd
def test_verify_would_catch_a_broken_unit(tmp_path: Path, stand_in_root: Path) -> None:
    # the control for the test above: a missing program and a misspelt key are both reported
    copies = stage_for_verify(unit_files(), tmp_path / "units", tmp_path / "nowhere")
    appliance = next(c for c in copies if c.name == "tillsight-appliance.service")
    result = verify([appliance])
    assert result.returncode != 0
    assert any("is not executable" in line for line in complaints(result))
    good = stage_for_verify(unit_files(), tmp_path / "good", stand_in_root)
    timer = next(c for c in good if c.name == "tillsight-jobs.timer")
    timer.write_text(timer.read_text().replace("Persistent=true", "Persistant=true"))
    assert any("Persistant" in line for line in complaints(verify([timer])))


@needs_systemd
@pytest.mark.parametrize("name", [*DEVICE_UNITS, "tillsight-hub-web.service", "tillsight-ingest@.service",
                                  "tillsight-jobs.service"])
def test_services_are_well_sandboxed(name: str, tmp_path: Path, stand_in_root: Path) -> None:
    """systemd's own exposure score (0 = locked down, 10 = unprotected; 'OK' is below 4)."""
    unit = next(u for u in unit_files() if u.name == name)
    copy = stage_for_verify([unit], tmp_path / "units", stand_in_root)[0]
    if "@." in copy.name:
        copy = copy.rename(copy.with_name(copy.name.replace("@.", "@1.")))
    result = subprocess.run([systemd_analyze(), "security", "--offline=true", "--no-pager", str(copy)],
                            capture_output=True, check=False, text=True, timeout=120)
    m = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout + result.stderr)
    if m is None and "offline" in result.stderr.lower():
        pytest.skip(f"this systemd-analyze cannot score offline: {result.stderr.strip()[:200]}")
    assert m is not None, result.stdout + result.stderr
    assert float(m.group(1)) <= 2.5, result.stdout


@pytest.mark.parametrize("name", DEVICE_UNITS)
def test_device_services(name: str) -> None:
    unit = parse_unit(SYSTEMD_DIR / "device" / name)
    service, head = unit["Service"], unit["Unit"]
    assert one(unit, "Service", "Type") == "notify"
    assert one(unit, "Service", "NotifyAccess") == "main"
    assert one(unit, "Service", "WatchdogSec") in ("30s", "2min")
    assert one(unit, "Service", "Restart") == "on-failure"
    assert one(unit, "Service", "RestartPreventExitStatus") == "2"  # bad config: a restart cannot help
    assert int(one(unit, "Unit", "StartLimitBurst")) <= 10 and one(unit, "Unit", "StartLimitIntervalSec")
    assert "network-online.target" in head["After"][0] and "network-online.target" in head["Wants"][0]
    assert one(unit, "Service", "User") == "tillsight"
    assert one(unit, "Service", "ProtectSystem") == "strict"
    assert service["ReadWritePaths"] == ["/var/lib/tillsight"]  # the data folder, nothing else
    assert one(unit, "Service", "StateDirectory") == "tillsight"
    for key in ("NoNewPrivileges", "PrivateTmp", "ProtectHome"):
        assert one(unit, "Service", key) == "yes"
    assert one(unit, "Service", "CapabilityBoundingSet") == ""
    assert one(unit, "Service", "LimitCORE") == "0"
    assert one(unit, "Service", "EnvironmentFile") == "-/etc/tillsight/tillsight.env"
    assert "PYTHONFAULTHANDLER=1" in one(unit, "Service", "Environment")
    exec_start = one(unit, "Service", "ExecStart").split()
    assert exec_start[0] == "/opt/tillsight/venv/bin/tillsight"
    # the unit, not the config file, decides where the data goes: the one writable folder
    assert exec_start[-4:] == ["--config", "/etc/tillsight/config.yaml", "--data-dir", "/var/lib/tillsight"]
    assert one(unit, "Install", "WantedBy") == "multi-user.target"


def _bytes(value: str) -> int:
    m = re.fullmatch(r"(\d+)([KMG]?)", value)
    assert m, value
    return int(m.group(1)) * {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}[m.group(2)]


def test_device_memory_fits_a_pi_4_with_4_gb() -> None:
    appliance = parse_unit(SYSTEMD_DIR / "device/tillsight-appliance.service")
    sync = parse_unit(SYSTEMD_DIR / "device/tillsight-sync.service")
    total = sum(_bytes(one(u, "Service", "MemoryMax")) for u in (appliance, sync))
    assert total <= 2 * 2**30  # leaves half of a 4 GB Pi to the OS, the page cache and a browser kiosk
    for u in (appliance, sync):
        assert _bytes(one(u, "Service", "MemoryHigh")) < _bytes(one(u, "Service", "MemoryMax"))


def test_only_the_appliance_sees_cameras() -> None:
    appliance = parse_unit(SYSTEMD_DIR / "device/tillsight-appliance.service")
    assert one(appliance, "Service", "SupplementaryGroups") == "video"
    assert one(appliance, "Service", "DevicePolicy") == "closed"
    assert "char-video4linux rw" in appliance["Service"]["DeviceAllow"]
    sync = parse_unit(SYSTEMD_DIR / "device/tillsight-sync.service")
    assert one(sync, "Service", "PrivateDevices") == "yes" and "SupplementaryGroups" not in sync["Service"]


def test_hub_units() -> None:
    hub = SYSTEMD_DIR / "hub"
    ingest = parse_unit(hub / "tillsight-ingest@.service")
    assert "--client-id hub-ingest-%l-%i" in one(ingest, "Service", "ExecStart")  # stable per instance
    assert one(ingest, "Install", "WantedBy") == "tillsight-hub.target"
    assert one(ingest, "Unit", "PartOf") == "tillsight-hub.target"
    for name in ("tillsight-hub-web.service", "tillsight-ingest@.service", "tillsight-jobs.service"):
        unit = parse_unit(hub / name)
        assert one(unit, "Service", "User") == "tillsight-hub"
        assert unit["Service"]["ReadWritePaths"] == ["/var/lib/tillsight-hub"]
        assert one(unit, "Service", "ProtectSystem") == "strict"
        assert one(unit, "Service", "EnvironmentFile") == "-/etc/tillsight/hub.env"
        assert one(unit, "Service", "ExecStart").startswith("/opt/tillsight/venv/bin/tillsight hub ")
    jobs = parse_unit(hub / "tillsight-jobs.service")
    assert one(jobs, "Service", "Type") == "oneshot" and "Install" not in jobs  # started by the timer only
    timer = parse_unit(hub / "tillsight-jobs.timer")
    assert one(timer, "Timer", "Unit") == "tillsight-jobs.service"
    assert one(timer, "Timer", "Persistent") == "true"
    assert re.fullmatch(r"\*-\*-\* \d\d:\d\d:\d\d", one(timer, "Timer", "OnCalendar"))  # nightly
    path = parse_unit(hub / "tillsight-broker-reload.path")
    assert set(path["Path"]["PathChanged"]) == {"/var/lib/tillsight-hub/broker/passwords",
                                                "/var/lib/tillsight-hub/broker/acl"}


HUB_SERVICES = ("tillsight-hub-web.service", "tillsight-ingest@.service", "tillsight-fleet.service")


@pytest.mark.parametrize("name", HUB_SERVICES)
def test_hub_services_are_watched_by_systemd(name: str) -> None:
    """As the device's: systemd waits for READY=1 and restarts a process whose pings stop."""
    unit = parse_unit(SYSTEMD_DIR / "hub" / name)
    assert one(unit, "Service", "Type") == "notify"
    assert one(unit, "Service", "NotifyAccess") == "main"
    assert one(unit, "Service", "WatchdogSec") in ("1min", "2min")
    assert one(unit, "Service", "Restart") == "on-failure"
    assert one(unit, "Service", "RestartPreventExitStatus") == "2"
    assert "PYTHONFAULTHANDLER=1" in one(unit, "Service", "Environment")  # a watchdog abort logs every stack


def _command_line(unit: dict[str, dict[str, list[str]]]) -> tuple[argparse.Namespace, str]:
    """The unit's ExecStart parsed by the real ``tillsight`` parser, and the handler it runs."""
    from tillsight_cli.main import HANDLERS, build_parser

    argv = shlex.split(one(unit, "Service", "ExecStart"))
    assert argv[0] == "/opt/tillsight/venv/bin/tillsight"
    args = build_parser().parse_args([a.replace("%l", "host").replace("%i", "1") for a in argv[1:]])
    key = tuple(v for v in (args.command, getattr(args, "action", None)) if v)
    return args, HANDLERS.get(key) or HANDLERS[(args.command,)]


def test_the_nightly_jobs_publish_the_morning_insights() -> None:
    args, handler = _command_line(parse_unit(SYSTEMD_DIR / "hub/tillsight-jobs.service"))
    assert handler == "tillsight_cli.hub_analytics_commands:hub_jobs"
    assert args.publish is True  # without it the devices never get the insights
    assert args.config == "/etc/tillsight/hub.yaml"


@pytest.mark.parametrize(("name", "handler"), [
    ("tillsight-hub-web.service", "tillsight_cli.hub_web_commands:hub_web"),
    ("tillsight-ingest@.service", "tillsight_cli.commands:hub_ingest"),
    ("tillsight-fleet.service", "tillsight_cli.fleet_commands:fleet"),
])
def test_hub_service_command_lines_parse(name: str, handler: str) -> None:
    args, found = _command_line(parse_unit(SYSTEMD_DIR / "hub" / name))
    assert found == handler
    assert "/etc/tillsight/hub.yaml" in (getattr(args, "config", None), getattr(args, "config_file", None))
    if name == "tillsight-fleet.service":
        assert args.forever and not args.once  # the Type=notify path: READY=1 and watchdog pings


def test_camera_rule_gives_v4l2_devices_a_systemd_unit() -> None:
    rule = (SYSTEMD_DIR / "udev/70-tillsight-camera.rules").read_text()
    assert 'SUBSYSTEM=="video4linux"' in rule and 'TAG+="systemd"' in rule


@pytest.mark.parametrize("conf", ["tillsight.conf", "tillsight-hub.conf"])
def test_sysusers_declare_system_users_without_a_login(conf: str) -> None:
    lines = [ln.split() for ln in (SYSTEMD_DIR / "sysusers.d" / conf).read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    user = next(ln for ln in lines if ln[0] == "u")
    assert user[-1] == "/usr/sbin/nologin" and user[-2].startswith("/var/lib/tillsight")
    if conf == "tillsight.conf":
        assert ["m", "tillsight", "video"] in lines


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_shell_scripts_pass_shellcheck() -> None:
    scripts = [SYSTEMD_DIR / "install.sh", SYSTEMD_DIR / "bin/tillsight-admin"]
    result = subprocess.run(["shellcheck", *map(str, scripts)], capture_output=True, check=False, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_tillsight_admin_explains_itself() -> None:
    result = subprocess.run(["sh", str(SYSTEMD_DIR / "bin/tillsight-admin")], capture_output=True, check=False,
                            text=True, timeout=30)
    assert result.returncode == 2
    assert "as their user, with their" in result.stdout and "tillsight-admin --hub hub device add" in result.stdout
