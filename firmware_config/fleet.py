"""Fleet-managed configuration: the part of a device's configuration the hub may change over the
air (``tillsight hub fleet publish --config``), and the overlay file a device keeps it in.

Only tuning keys that a running device can apply without a restart and that cannot cut it off
from the hub are fleet-managed: detection thresholds, the change gate, the basket stabiliser, the
barcode interval, the recogniser's thresholds (not the networks or folders it loads) and sync
telemetry/alert thresholds.  Identity, broker address, credentials, TLS,
paths and the camera stay in the device's own file, so a bad overlay cannot strand a device.

The overlay lives at ``{data_dir}/fleet/config.yaml``; ``load_config`` merges it above the YAML
file and below environment variables and command-line overrides.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

OVERLAY_RELATIVE_PATH = Path("fleet") / "config.yaml"

# section -> keys the fleet may set
FLEET_MANAGED: Mapping[str, frozenset[str]] = {
    "detector": frozenset({"confidence", "iou"}),
    "gate": frozenset({"threshold", "min_interval_s", "max_interval_s", "downscale"}),
    "stabiliser": frozenset({"settle_frames", "min_confidence", "iou_match"}),
    "barcode": frozenset({"interval_s"}),
    "recognition": frozenset({"finder_confidence", "head_votes", "head_min", "reuse_iou"}),
    "gallery": frozenset({"reload_interval_s"}),
    "mqtt": frozenset({"telemetry_interval_s", "backlog_alert_count", "backlog_alert_age_s"}),
}


class FleetConfigError(ValueError):
    """A fleet config document that names keys the fleet may not set, or is not a mapping."""


def overlay_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / OVERLAY_RELATIVE_PATH


def check_fleet_keys(doc: Any) -> dict[str, dict[str, Any]]:
    """Return ``doc`` if every key is fleet-managed, else raise naming each offending key.
    (Value checks are the schema's job: validate the merged configuration with ``load_config``.)"""
    if not isinstance(doc, Mapping):
        raise FleetConfigError("a fleet config must be a mapping of sections")
    problems: list[str] = []
    for section, values in doc.items():
        allowed = FLEET_MANAGED.get(str(section))
        if allowed is None:
            names = [f"{section}.{key}" for key in values] if isinstance(values, Mapping) and values else [section]
            problems += [f"{name}: not fleet-managed (fleet-managed sections: {', '.join(sorted(FLEET_MANAGED))})"
                         for name in names]
            continue
        if not isinstance(values, Mapping):
            problems.append(f"{section}: must be a mapping")
            continue
        for key in values:
            if key not in allowed:
                problems.append(f"{section}.{key}: not fleet-managed (allowed: {', '.join(sorted(allowed))})")
    if problems:
        raise FleetConfigError("; ".join(problems))
    return {str(s): dict(v) for s, v in doc.items()}


def parse_fleet_config(text: str | bytes) -> dict[str, dict[str, Any]]:
    """Parse and key-check a fleet config YAML document."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FleetConfigError(f"not valid YAML: {exc}") from None
    return check_fleet_keys(doc or {})


def read_overlay(data_dir: str | Path) -> dict[str, dict[str, Any]]:
    """The installed overlay, or ``{}`` when the device has none."""
    path = overlay_path(data_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        return parse_fleet_config(text)
    except FleetConfigError as exc:
        raise FleetConfigError(f"{path}: {exc}") from None
