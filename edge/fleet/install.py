"""Installing an artifact beside the running version, and checking it before anything switches:
a model bundle is unpacked into its own folder and must load and pass its own self-test; a config
overlay must name only fleet-managed keys and give a valid configuration when merged."""

from __future__ import annotations

import logging
import shutil
import tarfile
from pathlib import Path
from typing import Any

from firmware_config import ConfigError, TillsightConfig, apply_overlay
from firmware_config.fleet import FleetConfigError, parse_fleet_config
from vision.bundle import BundleError
from vision.detector import Detector
from vision.selftest import run_self_test

log = logging.getLogger(__name__)

MAX_UNPACKED_BYTES = 512 * 2**20


class InstallError(ValueError):
    """The artifact cannot be installed or fails its check; the message says why."""


def unpack_bundle(archive: Path, dest: Path) -> Path:
    """Unpack a model bundle tarball into ``dest`` (a new folder).  Only regular files and folders
    inside ``dest`` are accepted: no links, devices, absolute paths or ``..``."""
    if dest.exists():
        shutil.rmtree(dest)
    tmp = dest.with_name(dest.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            total = 0
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()):
                    raise InstallError(f"bundle archive holds {member.name!r}, which is not a plain file")
                total += member.size
                if total > MAX_UNPACKED_BYTES:
                    raise InstallError("bundle archive unpacks to more than 512 MiB")
            tar.extractall(tmp, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise InstallError(f"bundle archive cannot be unpacked: {exc}") from None
    except InstallError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not (tmp / "manifest.json").is_file():
        shutil.rmtree(tmp, ignore_errors=True)
        raise InstallError("bundle archive has no manifest.json at its top level")
    tmp.rename(dest)
    return dest


def load_checked(bundle: Path, cfg: TillsightConfig) -> Detector:
    """Load a bundle with the configured runtime settings and require its self-test to pass
    (raises ``BundleError`` saying why not)."""
    detector = Detector(bundle, config=cfg.detector, alternatives=cfg.stabiliser.alternatives)
    result = run_self_test(detector)
    if not result.passed:
        raise BundleError(f"{bundle}: {result.message}")
    return detector


def self_test_bundle(folder: Path, cfg: TillsightConfig) -> None:
    """Check a freshly unpacked bundle as the appliance will load it; ``InstallError`` if it fails."""
    try:
        load_checked(folder, cfg)
    except BundleError as exc:
        raise InstallError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise InstallError(f"model does not load: {type(exc).__name__}: {exc}") from None


def check_config_overlay(text: bytes, cfg: TillsightConfig) -> dict[str, Any]:
    """Parse a fleet config and validate the configuration it would give; returns the overlay."""
    try:
        overlay = parse_fleet_config(text)
    except FleetConfigError as exc:
        raise InstallError(f"config refused: {exc}") from None
    try:
        apply_overlay(cfg, overlay)
    except ConfigError as exc:
        raise InstallError(f"config refused: {'; '.join(exc.problems)}") from None
    return overlay

