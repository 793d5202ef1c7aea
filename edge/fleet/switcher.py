"""The appliance's side of fleet updates: a small thread that, between sales only, loads the model
the fleet agent pointed ``models/current`` at (and must pass its self-test here too), swaps it
into the running vision pipeline and live view, applies the fleet config overlay to the running
detector, gate, stabiliser, barcode reader and the recogniser's thresholds — no restart — and writes the
heartbeat the agent watches (model and config in use, sale open, inference time, errors)."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge.fleet.files import resolve_link
from edge.fleet.heartbeat import ApplianceBeat, write_beat
from edge.fleet.install import load_checked
from edge.fleet.paths import FleetPaths
from firmware_config import ConfigError, TillsightConfig
from vision.detector import Detector
from vision.recogniser import RecogniserSettings

log = logging.getLogger(__name__)


def recogniser_settings(cfg: TillsightConfig) -> RecogniserSettings:
    """The running recogniser's tunable settings from the configuration (applied live by fleet updates)."""
    rec = cfg.recognition
    return RecogniserSettings(reuse_iou=rec.reuse_iou, head_votes=rec.head_votes, head_min=rec.head_min,
                              reload_interval_s=cfg.gallery.reload_interval_s,
                              finder_confidence=rec.finder_confidence)


def fleet_bundle(cfg: TillsightConfig) -> Path:
    """The bundle the appliance should start with: the fleet-installed one when there is one."""
    target = resolve_link(FleetPaths(Path(cfg.data_dir)).current_model)
    if target is not None and (target / "manifest.json").is_file():
        return target
    return Path(cfg.detector.bundle)


def _overlay_sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


class ModelSwitcher:
    """``stack`` is the appliance's VisionStack; ``sale_open`` says whether a sale is in progress;
    ``reload_config`` rebuilds the configuration from its sources (file, fleet overlay, env,
    command line); ``on_model`` lets the web layer follow a new model (names, version)."""

    def __init__(self, cfg: TillsightConfig, stack: Any, sale_open: Callable[[], bool],
                 reload_config: Callable[[], TillsightConfig],
                 on_model: Callable[[Detector], None] | None = None, period_s: float = 1.0) -> None:
        self.cfg = cfg
        self.paths = FleetPaths(Path(cfg.data_dir))
        self.stack = stack
        self.sale_open = sale_open
        self.reload_config = reload_config
        self.on_model = on_model
        self.period_s = period_s
        self.model_dir: Path | None = Path(stack.detector.manifest.path).resolve()
        self.model_error: str | None = None
        self.model_loaded_at: float | None = time.time()
        self._failed_dir: Path | None = None
        self.config_sha: str | None = _overlay_sha(self.paths.config_overlay)
        self.config_error: str | None = None
        self._failed_config_sha: str | None = None
        self._errors_at_switch = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.beat()
        self._thread = threading.Thread(target=self._run, name="model-switcher", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            try:
                self.tick()
            except Exception:  # never take the till down; the agent sees a stale beat
                log.exception("model switcher tick failed")

    # -- one pass ------------------------------------------------------------------------------
    def tick(self) -> None:
        if not self.sale_open():
            self._maybe_switch_model()
            self._maybe_apply_config()
        self.beat()

    def _maybe_switch_model(self) -> None:
        # No pointer (or a removed one, after a rollback to the set-up bundle): the configured bundle.
        target = resolve_link(self.paths.current_model) or Path(self.cfg.detector.bundle).resolve()
        if target == self.model_dir or target == self._failed_dir:
            return
        log.info("fleet: switching the model to %s", target)
        try:
            detector = load_checked(target, self.cfg)
        except Exception as exc:  # noqa: BLE001 - onnxruntime has its own exception types
            self._failed_dir = target
            self.model_error = f"{type(exc).__name__}: {exc}"
            log.error("fleet: the new model did not load; keeping %s: %s", self.model_dir, self.model_error)
            return
        pipeline = self.stack.pipeline
        pipeline.sku_by_barcode = {code: sku for sku, code in detector.manifest.barcodes.items()}
        pipeline.detector = detector  # one attribute store: the vision thread sees old or new, never half
        self.stack.detector = detector
        if pipeline.gate is not None:
            pipeline.gate.reset()
        if self.on_model is not None:
            self.on_model(detector)
        self.model_dir = target
        self.model_error = None
        self._failed_dir = None
        self.model_loaded_at = time.time()
        log.info("fleet: now running model %s", detector.manifest.version)

    def _maybe_apply_config(self) -> None:
        sha = _overlay_sha(self.paths.config_overlay)
        if sha == self.config_sha or sha == self._failed_config_sha:
            return
        try:
            cfg = self.reload_config()
        except ConfigError as exc:
            self._failed_config_sha = sha
            self.config_error = str(exc)
            log.error("fleet: config overlay not applied: %s", exc)
            return
        self._apply(cfg)
        self.cfg = cfg
        self.config_sha = sha
        self.config_error = None
        log.info("fleet: configuration applied (overlay %s)", sha[:12] if sha else "removed")

    def _apply(self, cfg: TillsightConfig) -> None:
        pipeline = self.stack.pipeline
        detector = pipeline.detector
        detector.use_thresholds(cfg.detector.confidence, cfg.detector.iou)
        stab = pipeline.stabiliser
        stab.settle_frames = cfg.stabiliser.settle_frames
        stab.min_confidence = cfg.stabiliser.min_confidence
        stab.iou_match = cfg.stabiliser.iou_match
        if pipeline.gate is not None:
            gate = pipeline.gate
            gate.threshold = cfg.gate.threshold
            gate.downscale = cfg.gate.downscale
            gate.min_interval_s = cfg.gate.min_interval_s
            gate.max_interval_s = cfg.gate.max_interval_s
            gate.settle_frames = cfg.stabiliser.settle_frames + 1
            gate.reset()
        pipeline.barcode_interval_s = cfg.barcode.interval_s
        recogniser = getattr(self.stack, "recogniser", None)
        if recogniser is not None:
            recogniser.use_settings(recogniser_settings(cfg))

    def beat(self) -> None:
        stats = self.stack.pipeline.stats
        write_beat(self.paths.appliance, ApplianceBeat(
            at=time.time(), pid=os.getpid(), model_dir=str(self.model_dir) if self.model_dir else None,
            model_version=self.stack.detector.manifest.version, model_error=self.model_error,
            model_loaded_at=self.model_loaded_at, config_sha256=self.config_sha, config_error=self.config_error,
            sale_open=bool(self.sale_open()), inference_ms=float(stats.inference_ms), vision_errors=int(stats.errors),
            frames=int(stats.frames)))
