"""Where the fleet agent and the appliance keep their shared files under ``{data_dir}/fleet/``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from firmware_config.fleet import overlay_path


@dataclass(frozen=True)
class FleetPaths:
    data_dir: Path

    @property
    def root(self) -> Path:
        return self.data_dir / "fleet"

    @property
    def state(self) -> Path:
        """The agent's persistent state: trusted versions, what runs, the latest outcomes."""
        return self.root / "state.json"

    @property
    def appliance(self) -> Path:
        """The appliance's heartbeat: the model and config it runs, inference time, errors."""
        return self.root / "appliance.json"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def current_model(self) -> Path:
        """A symlink to the installed model bundle folder the appliance should run."""
        return self.models / "current"

    @property
    def downloads(self) -> Path:
        return self.root / "downloads"

    @property
    def config_overlay(self) -> Path:
        return overlay_path(self.data_dir)

    @property
    def previous_config_overlay(self) -> Path:
        return self.root / "config.previous.yaml"

    @property
    def galleries(self) -> Path:
        """The catalogue galleries the fleet installed (each merged into the store gallery)."""
        return self.root / "galleries"

    @property
    def gallery_backup(self) -> Path:
        """The store gallery's manifest from before a catalogue merge, until the merge succeeded."""
        return self.root / "gallery.previous.json"

    def gallery_dir(self, version: int, sha256: str) -> Path:
        return self.galleries / f"v{version}-{sha256[:12]}"

    def download_dir(self, sha256: str) -> Path:
        return self.downloads / sha256

    def model_dir(self, version: int, sha256: str) -> Path:
        return self.models / f"v{version}-{sha256[:12]}"
