"""The appliance's heartbeat file (``{data_dir}/fleet/appliance.json``): which model folder and
config overlay it runs, whether a sale is open, inference time and vision errors.  Written by the
appliance every second or two; read by the fleet agent to know when a switch has happened and
whether the new version is healthy."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from edge.fleet.files import write_json_atomic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApplianceBeat:
    at: float  # time.time() of the write
    pid: int
    model_dir: str | None  # the bundle folder it runs (resolved path)
    model_version: str | None  # the bundle's own version string
    model_error: str | None  # why the last switch attempt failed, if it did
    model_loaded_at: float | None
    config_sha256: str | None  # hash of the fleet overlay it applied (None: none)
    config_error: str | None
    sale_open: bool
    inference_ms: float
    vision_errors: int
    frames: int

    def fresh(self, max_age_s: float) -> bool:
        return time.time() - self.at <= max_age_s


def write_beat(path: Path, beat: ApplianceBeat) -> None:
    write_json_atomic(path, asdict(beat))


def read_beat(path: Path) -> ApplianceBeat | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return ApplianceBeat(**doc)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:
        log.warning("unreadable appliance heartbeat %s: %s", path, exc)
        return None
