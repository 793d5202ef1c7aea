"""``make install-device``, ``make install-hub``, ``make uninstall`` and ``make rollback`` into a
``DESTDIR`` staging root: the tree they produce, that running them again changes nothing an
operator set, and (slow) a real virtual environment built from a wheel of this checkout, whose
units then pass ``systemd-analyze verify`` against the staged tree."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from firmware_config import load_config
from tests.conftest import REPO
from tests.systemd.units import (
    DEVICE_UNITS,
    HUB_UNITS,
    complaints,
    stage_for_verify,
    systemd_analyze,
    verify,
)

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
pytestmark = needs_make

DEVICE_TREE = {
    "etc/systemd/system/tillsight-appliance.service",
    "etc/systemd/system/tillsight-sync.service",
    "etc/systemd/system/tillsight-appliance.service.d/camera.conf",
    "etc/sysusers.d/tillsight.conf",
    "etc/udev/rules.d/70-tillsight-camera.rules",
    "etc/tillsight/config.yaml",
    "etc/tillsight/tillsight.env",
    "opt/tillsight/bin/tillsight-admin",
    "opt/tillsight/releases/",
    "opt/tillsight/share/doc/operations.md",
    "opt/tillsight/share/examples/dev.yaml",
    "opt/tillsight/share/examples/pi4.yaml",
    "opt/tillsight/share/examples/pi5.yaml",
    "opt/tillsight/share/examples/jetson.yaml",
    "opt/tillsight/share/examples/hub.yaml",
    "opt/tillsight/share/models/demo/manifest.json",
    "opt/tillsight/share/models/demo/model.onnx",
    "usr/local/sbin/tillsight-admin",
    "var/lib/tillsight/models/current/manifest.json",
    "var/lib/tillsight/models/current/model.onnx",
}
HUB_TREE = {
    *(f"etc/systemd/system/{u}" for u in HUB_UNITS),
    "etc/sysusers.d/tillsight-hub.conf",
    "etc/tillsight/hub.yaml",
    "etc/tillsight/hub.env",
    "opt/tillsight/bin/tillsight-admin",
    "opt/tillsight/releases/",
    "opt/tillsight/share/doc/operations.md",
    "opt/tillsight/share/examples/hub.yaml",
    *(f"opt/tillsight/share/examples/{p}.yaml" for p in ("dev", "pi4", "pi5", "jetson")),
    "usr/local/sbin/tillsight-admin",
    "var/lib/tillsight-hub/broker/",
}


def make(target: str, root: Path, check: bool = True, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in (
        "PROFILE", "CAMERA_DEVICE", "SKIP_VENV", "PACKAGE", "PIP_ARGS", "VENV_ARGS", "ENABLE", "PYTHONPATH")}
    args = ["make", "-s", "--no-print-directory", "-C", str(REPO), target, f"DESTDIR={root}"]
    args += [f"{k}={v}" for k, v in settings.items()]
    result = subprocess.run(args, env=env, capture_output=True, check=False, text=True, timeout=600)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def tree(root: Path) -> dict[str, str]:
    """Every path under root -> what it is (file digest and mode, link target, or 'dir')."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_dir():
            out[rel + "/"] = f"dir {stat.S_IMODE(path.stat().st_mode):o}"
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            out[rel] = f"{stat.S_IMODE(path.stat().st_mode):o} {digest}"
    return out


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def files(root: Path) -> set[str]:
    """Every file and link under root, and every empty folder (with a trailing /)."""
    return {str(p.relative_to(root)) + ("/" if p.is_dir() and not p.is_symlink() else "")
            for p in root.rglob("*") if not p.is_dir() or p.is_symlink() or not any(p.iterdir())}


def test_install_device_stages_the_expected_tree(tmp_path: Path) -> None:
    root = tmp_path / "root"
    out = make("install-device", root, SKIP_VENV="1", PROFILE="pi4").stdout
    paths = files(root)
    models = {p for p in paths if "/models/" in p}  # two copies of the demo bundle
    assert paths - models == {p for p in DEVICE_TREE if "/models/" not in p}
    assert {p for p in DEVICE_TREE if "/models/" in p} <= models
    assert mode(root / "etc/tillsight/tillsight.env") == 0o600  # secrets: root only
    assert mode(root / "etc/tillsight/config.yaml") == 0o640
    assert mode(root / "opt/tillsight/bin/tillsight-admin") == 0o755
    assert mode(root / "var/lib/tillsight") == 0o750
    assert os.readlink(root / "usr/local/sbin/tillsight-admin") == "/opt/tillsight/bin/tillsight-admin"
    for unit in DEVICE_UNITS:
        assert (root / "etc/systemd/system" / unit).read_text() == (REPO / "systemd/device" / unit).read_text()
    camera = (root / "etc/systemd/system/tillsight-appliance.service.d/camera.conf").read_text()
    assert "Wants=dev-video0.device" in camera and "After=dev-video0.device" in camera
    # a config that loads, for the profile asked for, with the model and data where the units expect them
    cfg = load_config(root / "etc/tillsight/config.yaml", env={})
    assert cfg.profile == "pi4" and cfg.detector.threads == 4 and cfg.camera.uri == "/dev/video0"
    assert str(cfg.detector.bundle) == "/var/lib/tillsight/models/current" and str(cfg.data_dir) == "/var/lib/tillsight"
    assert "skipped   the virtual environment" in out and "tillsight-admin config check" in out


def test_dev_profile_config_points_at_the_installed_model(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make("install-device", root, SKIP_VENV="1", PROFILE="dev")
    cfg = load_config(root / "etc/tillsight/config.yaml", env={})
    assert cfg.profile == "dev" and cfg.camera.uri.startswith("synthetic:")
    assert str(cfg.detector.bundle) == "/var/lib/tillsight/models/current"  # not the checkout's models/demo


def test_install_device_again_changes_nothing_and_keeps_what_the_operator_set(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make("install-device", root, SKIP_VENV="1", PROFILE="pi4")
    config, secrets = root / "etc/tillsight/config.yaml", root / "etc/tillsight/tillsight.env"
    config.write_text(config.read_text().replace("store_id: s-001", "store_id: s-777"))
    secrets.write_text("TILLSIGHT__MQTT__PASSWORD=hunter2-but-longer\n")
    model = root / "var/lib/tillsight/models/current/manifest.json"
    model.write_text(model.read_text())  # as if the shop's own bundle had been put there
    before = tree(root)
    out = make("install-device", root, SKIP_VENV="1", PROFILE="jetson").stdout  # even with another profile
    after = tree(root)
    added = set(after) - set(before)
    assert added == {"etc/systemd/system/tillsight-appliance.service.d/jetson.conf"}
    assert {k: v for k, v in after.items() if k not in added} == before
    assert "store_id: s-777" in config.read_text() and "hunter2" in secrets.read_text()
    assert "kept      /etc/tillsight/config.yaml" in out and "kept      /etc/tillsight/tillsight.env" in out
    make("install-device", root, SKIP_VENV="1", PROFILE="pi4")
    assert tree(root) == before  # the Jetson drop-in goes again with another profile


def test_camera_device_setting(tmp_path: Path) -> None:
    root = tmp_path / "root"
    dropin = root / "etc/systemd/system/tillsight-appliance.service.d/camera.conf"
    make("install-device", root, SKIP_VENV="1", PROFILE="jetson", CAMERA_DEVICE="none")
    assert "Wants=" not in dropin.read_text() and "After=" not in dropin.read_text()  # RTSP: wait for nothing
    by_id = "/dev/v4l/by-id/usb-046d_C920-video-index0"
    make("install-device", root, SKIP_VENV="1", PROFILE="jetson", CAMERA_DEVICE=by_id)
    text = dropin.read_text()
    assert "Wants=dev-v4l-by\\x2did-usb\\x2d046d_C920\\x2dvideo\\x2dindex0.device" in text
    make("install-device", root, SKIP_VENV="1", PROFILE="jetson")  # not given again: kept
    assert dropin.read_text() == text
    jetson = root / "etc/systemd/system/tillsight-appliance.service.d/jetson.conf"
    assert "DevicePolicy=auto" in jetson.read_text()
    if systemd_analyze():  # the drop-ins are valid systemd syntax, escaped device name included
        exe = root / "opt/tillsight/venv/bin/tillsight"
        exe.parent.mkdir(parents=True)
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
        units = tmp_path / "units"
        copy = stage_for_verify([root / "etc/systemd/system/tillsight-appliance.service"], units, root)[0]
        shutil.copytree(root / "etc/systemd/system/tillsight-appliance.service.d", units / (copy.name + ".d"))
        result = verify([copy])
        assert result.returncode == 0 and complaints(result) == [], result.stdout + result.stderr


def test_bad_settings_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    root = tmp_path / "root"
    result = make("install-device", root, check=False, SKIP_VENV="1", PROFILE="pi3")
    assert result.returncode != 0 and "PROFILE=pi3: use pi4, pi5, jetson or dev" in result.stderr
    assert not root.exists() or tree(root) == {}
    result = make("install-device", root, check=False, SKIP_VENV="1", PROFILE="pi4", CAMERA_DEVICE="video0")
    assert result.returncode != 0 and "CAMERA_DEVICE=video0: give a /dev/... path or none" in result.stderr
    assert not root.exists() or tree(root) == {}


def test_install_hub_stages_the_expected_tree(tmp_path: Path) -> None:
    root = tmp_path / "root"
    out = make("install-hub", root, SKIP_VENV="1").stdout
    assert files(root) == HUB_TREE
    for unit in HUB_UNITS:
        assert (root / "etc/systemd/system" / unit).read_text() == (REPO / "systemd/hub" / unit).read_text()
    assert mode(root / "etc/tillsight/hub.env") == 0o600
    assert mode(root / "var/lib/tillsight-hub") == 0o751  # the broker may pass through to broker/
    cfg = load_config(root / "etc/tillsight/hub.yaml", env={})
    assert str(cfg.hub.broker.dir) == "/var/lib/tillsight-hub/broker"  # what tillsight-broker-reload.path watches
    assert cfg.hub.database_url == "sqlite:////var/lib/tillsight-hub/hub.db"
    assert cfg.mqtt.username == "hub" and cfg.mqtt.host == "127.0.0.1"
    assert "hub broker render" in out
    before = tree(root)
    make("install-hub", root, SKIP_VENV="1")
    assert tree(root) == before


def test_uninstall_keeps_config_and_data(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make("install-device", root, SKIP_VENV="1", PROFILE="pi4")
    make("install-hub", root, SKIP_VENV="1")
    (root / "var/lib/tillsight/store.db").write_bytes(b"the shop's sales")
    (root / "var/lib/tillsight-hub/hub.db").write_bytes(b"the fleet's sales")
    out = make("uninstall", root).stdout
    left = set(tree(root))
    assert not (root / "opt/tillsight").exists()
    assert not any(p.startswith("etc/systemd/system/tillsight") for p in left)
    assert not (root / "etc/udev/rules.d/70-tillsight-camera.rules").exists()
    assert not (root / "usr/local/sbin/tillsight-admin").is_symlink()
    assert (root / "var/lib/tillsight/store.db").read_bytes() == b"the shop's sales"
    assert (root / "var/lib/tillsight-hub/hub.db").read_bytes() == b"the fleet's sales"
    assert (root / "var/lib/tillsight/models/current/model.onnx").is_file()
    for kept in ("config.yaml", "tillsight.env", "hub.yaml", "hub.env"):
        assert (root / "etc/tillsight" / kept).is_file()
    assert "kept" in out and "/var/lib/tillsight" in out
    make("uninstall", root)  # again: nothing left to remove, no error


# --- a real virtual environment ----------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of this checkout (its tracked and new files), built without touching the checkout."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        path = REPO / rel
        if path.is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / rel)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(work / "dist"), str(src)], check=True, timeout=300)
    return next((work / "dist").glob("tillsight-*.whl"))


@pytest.mark.slow
def test_a_real_release_its_units_verify_and_rollback(tmp_path: Path, wheel: Path) -> None:
    root = tmp_path / "root"
    settings = {"PROFILE": "pi5", "PACKAGE": str(wheel), "PIP_ARGS": "--no-deps --no-index",
                "PYTHON": sys.executable}
    first = make("install-device", root, **settings).stdout
    assert f"pip install {wheel.name};" in first  # the device gets no [hub] or [train] extra
    venv = root / "opt/tillsight/venv"
    release1 = os.readlink(venv)
    assert release1.startswith("releases/")  # relative: right in the staging root and on the device
    # the script runs the release's python by its real path, not the staging one (pip writes a
    # `#!/bin/sh` + exec trampoline instead of a plain shebang when the staging path is long)
    script = (venv / "bin/tillsight").read_text()
    assert f"/opt/tillsight/{release1}/bin/python" in script.splitlines()[0] + script.splitlines()[1]
    assert str(root) not in script
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = "import tillsight_cli; print(tillsight_cli.__file__)"
    ran = subprocess.run([str(venv / "bin/python"), "-c", code], capture_output=True, check=False, text=True,
                         timeout=60, cwd=tmp_path, env=clean)
    assert ran.returncode == 0 and str(venv) in ran.stdout, ran.stderr  # the release's copy, not the checkout
    ran = subprocess.run([str(venv / "bin/python"), "-m", "tillsight_cli.main", "--help"],
                         capture_output=True, check=False, text=True, timeout=60, cwd=tmp_path, env=clean)
    assert ran.returncode == 0 and "sync" in ran.stdout and "run" in ran.stdout

    hub_out = make("install-hub", root, **settings).stdout
    assert f"pip install {wheel.name}[hub];" in hub_out
    release2 = os.readlink(venv)
    assert release2 != release1 and os.readlink(root / "opt/tillsight/venv.previous") == release1

    if systemd_analyze():  # the units against the staged tree: ExecStart is the real, installed command
        units = [root / "etc/systemd/system" / u for u in (*DEVICE_UNITS, *HUB_UNITS)]
        result = verify(stage_for_verify(units, tmp_path / "units", root))
        assert result.returncode == 0 and complaints(result) == [], result.stdout + result.stderr

    out = make("rollback", root).stdout
    assert os.readlink(venv) == release1 and os.readlink(root / "opt/tillsight/venv.previous") == release2
    assert "current" in out
    for _ in range(3):  # more updates: at most three releases are kept, the current one among them
        make("install-device", root, **settings)
    releases = sorted(p.name for p in (root / "opt/tillsight/releases").iterdir())
    assert len(releases) == 3 and os.readlink(venv) == f"releases/{releases[-1]}"
