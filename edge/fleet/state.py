"""The fleet agent's persistent state (``{data_dir}/fleet/state.json``): the highest manifest
version accepted per kind — so a downgrade or a replayed old manifest is refused even after a
restart — what runs now, what ran before (for rollback), and the latest outcomes."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edge.fleet.files import read_json, write_json_atomic

log = logging.getLogger(__name__)

MAX_RESULTS = 20
KINDS = ("model", "config", "gallery", "prices")


@dataclass
class Installed:
    """One installed artifact: what the fleet shipped and where it lives on the device."""

    version: int
    name: str
    sha256: str | None
    bundle_version: str | None
    installed_at: str | None
    deployment_id: str | None = None
    path: str | None = None  # model folder, the saved overlay text for a config, the catalogue gallery's folder

    def reported(self) -> dict[str, Any]:
        return {"version": self.version, "name": self.name, "sha256": self.sha256,
                "bundle_version": self.bundle_version, "installed_at": self.installed_at}


@dataclass
class FleetState:
    trusted: dict[str, int] = field(default_factory=dict)
    running: dict[str, Installed] = field(default_factory=dict)
    previous: dict[str, list[Installed]] = field(default_factory=dict)  # newest first
    results: list[dict[str, Any]] = field(default_factory=list)  # newest first
    update: dict[str, Any] | None = None

    # -- persistence -------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> FleetState:
        try:
            doc = read_json(path)
        except ValueError as exc:
            # The file is written atomically, so this is damage from outside; refuse to forget the
            # trusted versions silently.
            raise ValueError(f"{path}: unreadable fleet state ({exc}); restore it from a backup") from None
        if doc is None:
            return cls()
        state = cls(trusted={k: int(v) for k, v in doc.get("trusted", {}).items()},
                    results=list(doc.get("results", [])), update=doc.get("update"))
        for kind, item in (doc.get("running") or {}).items():
            state.running[kind] = Installed(**item)
        for kind, items in (doc.get("previous") or {}).items():
            state.previous[kind] = [Installed(**i) for i in items]
        return state

    def save(self, path: Path) -> None:
        write_json_atomic(path, {
            "trusted": self.trusted,
            "running": {k: asdict(v) for k, v in self.running.items()},
            "previous": {k: [asdict(i) for i in v] for k, v in self.previous.items()},
            "results": self.results[:MAX_RESULTS],
            "update": self.update,
        })

    # -- changes -----------------------------------------------------------------------------
    def trust(self, kind: str, version: int) -> None:
        self.trusted[kind] = max(version, self.trusted.get(kind, 0))

    def record(self, kind: str, version: int, deployment_id: str, outcome: str, reason: str, at: str) -> None:
        self.results.insert(0, {"kind": kind, "version": version, "deployment_id": deployment_id,
                                "outcome": outcome, "reason": reason[:500], "at": at})
        del self.results[MAX_RESULTS:]

    def promote(self, kind: str, installed: Installed, keep_previous: int) -> list[Installed]:
        """Make ``installed`` the running one; returns the entries dropped from history."""
        before = self.running.get(kind)
        history = self.previous.setdefault(kind, [])
        if before is not None:
            history.insert(0, before)
        dropped = history[keep_previous:]
        del history[keep_previous:]
        self.running[kind] = installed
        return dropped
