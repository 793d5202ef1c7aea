"""Helpers for the systemd tests: read unit files, stage them for ``systemd-analyze verify``."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.conftest import REPO

SYSTEMD_DIR = REPO / "systemd"
DEVICE_UNITS = ("tillsight-appliance.service", "tillsight-sync.service")
HUB_UNITS = ("tillsight-hub.target", "tillsight-hub-web.service", "tillsight-ingest@.service",
             "tillsight-jobs.service", "tillsight-jobs.timer", "tillsight-broker-reload.path",
             "tillsight-broker-reload.service", "tillsight-fleet.service")
PREFIX = "/opt/tillsight"


def unit_files() -> list[Path]:
    return [SYSTEMD_DIR / "device" / u for u in DEVICE_UNITS] + [SYSTEMD_DIR / "hub" / u for u in HUB_UNITS]


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """section -> key -> every value given (a key may repeat: DeviceAllow=, PathChanged=)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        m = re.fullmatch(r"\[(\w+)\]", line)
        if m:
            current = sections.setdefault(m.group(1), {})
            continue
        assert current is not None, f"{path.name}: {line!r} outside a section"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(unit: dict[str, dict[str, list[str]]], section: str, key: str) -> str:
    values = unit.get(section, {}).get(key, [])
    assert len(values) == 1, f"[{section}] {key}= given {len(values)} times: {values}"
    return values[0]


def systemd_analyze() -> str | None:
    return shutil.which("systemd-analyze")


def stage_for_verify(units: list[Path], out: Path, root: Path) -> list[Path]:
    """Copies of ``units`` in ``out`` whose /opt/tillsight paths point into the staged ``root``
    (verify checks that ExecStart names an executable file)."""
    out.mkdir(parents=True, exist_ok=True)
    copies = []
    for unit in units:
        copy = out / unit.name
        copy.write_text(unit.read_text().replace(PREFIX + "/", f"{root}{PREFIX}/"))
        copies.append(copy)
    return copies


def verify(units: list[Path]) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze verify`` (templates as instance 1, as systemd would run them)."""
    names = [str(u.parent / u.name.replace("@.", "@1.")) for u in units]
    return subprocess.run([systemd_analyze() or "systemd-analyze", "verify", "--man=no", "--generators=no",
                           *names], capture_output=True, check=False, text=True, timeout=120)


def complaints(result: subprocess.CompletedProcess[str]) -> list[str]:
    """Lines of verify's output about our units (unknown keys are only warnings: count them too)."""
    return [line for line in (result.stdout + result.stderr).splitlines() if "tillsight" in line]
