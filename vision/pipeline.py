"""The vision pipeline: camera frame -> change gate -> recogniser (+ barcode fallback) -> settled basket.

``VisionPipeline.step()`` handles one frame; ``VisionLoop`` runs it in a thread (with a watchdog
heartbeat) and keeps the latest frame, detections and basket for whoever shows them, and the
latest frame of the empty tray (the background that teaching a product cuts views out against).

With a :class:`vision.recogniser.Recogniser` an inferred frame is recognised in two stages (find
class-blind, identify each newly arrived product once against the store's gallery, unknown items
flagged); without one, the model bundle's ``Detector`` alone gives the SKUs (its trained classes).
The recogniser's gallery is polled for a new version on every frame (a stat, at most once a second):
a new gallery makes the next frame inferred, so what lies on the tray is identified again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from vision.barcode import BarcodeReader, apply_barcodes
from vision.basket import BasketSnapshot, BasketStabiliser
from vision.change_gate import ChangeGate
from vision.detector import Detection, Detector
from vision.recogniser import Recogniser
from vision.sources import Frame, FrameSource

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepResult:
    frame: Frame
    detections: tuple[Detection, ...]  # from the last inferred frame
    basket: BasketSnapshot
    inferred: bool
    inference_ms: float
    empty_tray: bool = False  # this frame shows the tray settled and empty


@dataclass
class PipelineStats:
    frames: int = 0
    inferences: int = 0
    camera_fps: float = 0.0
    inference_ms: float = 0.0  # smoothed
    last_frame_at: float | None = None
    errors: int = 0
    last_error: str | None = None


class VisionPipeline:
    def __init__(self, source: FrameSource, detector: Detector, stabiliser: BasketStabiliser,
                 gate: ChangeGate | None = None, barcode_reader: BarcodeReader | None = None,
                 sku_by_barcode: dict[str, str] | None = None, barcode_interval_s: float = 1.0,
                 recogniser: Recogniser | None = None):
        self.source = source
        self.detector = detector
        self.recogniser = recogniser
        self.stabiliser = stabiliser
        self.gate = gate
        self.barcode_reader = barcode_reader
        self.sku_by_barcode = dict(sku_by_barcode or {})
        self.barcode_interval_s = barcode_interval_s
        self.stats = PipelineStats()
        self._last_dets: tuple[Detection, ...] = ()
        self._last_barcode_at = -1e9

    def step(self) -> StepResult | None:
        frame = self.source.read()
        if frame is None:
            return None
        now = frame.timestamp
        self.stats.frames += 1
        if self.stats.last_frame_at is not None and now > self.stats.last_frame_at:
            inst = 1.0 / (now - self.stats.last_frame_at)
            self.stats.camera_fps = inst if self.stats.camera_fps == 0 else 0.9 * self.stats.camera_fps + 0.1 * inst
        self.stats.last_frame_at = now
        recogniser = self.recogniser
        if recogniser is not None and recogniser.poll() and self.gate is not None:
            self.gate.reset()  # a new gallery: look at the tray again
        infer = self.gate.should_infer(frame.image, now) if self.gate is not None else True
        ms = 0.0
        if infer:
            t0 = time.perf_counter()
            if recogniser is not None:
                dets = recogniser.detect(frame.image, self.detector)
            else:
                dets = self.detector.detect(frame.image)
            if self.barcode_reader is not None and self.sku_by_barcode and \
                    now - self._last_barcode_at >= self.barcode_interval_s:
                self._last_barcode_at = now
                dets = apply_barcodes(self.barcode_reader.read(frame.image), dets, self.sku_by_barcode)
            ms = (time.perf_counter() - t0) * 1000
            self.stats.inferences += 1
            self.stats.inference_ms = ms if self.stats.inference_ms == 0 else 0.8 * self.stats.inference_ms + 0.2 * ms
            self._last_dets = tuple(dets)
            basket = self.stabiliser.update(list(dets), now)
        else:
            basket = self.stabiliser.snapshot()
        empty = basket.settled and not basket.items and not self._last_dets
        return StepResult(frame, self._last_dets, basket, infer, ms, empty)


@dataclass
class LiveState:
    """What the loop last saw; read by the web layer.  ``image`` and ``basket`` come from the same
    step; ``empty_tray`` is the latest frame that showed the tray settled and empty (None until one
    did), taken at ``empty_tray_at`` (the frame's timestamp)."""

    image: np.ndarray | None = None
    detections: tuple[Detection, ...] = ()
    basket: BasketSnapshot | None = None
    events: list = field(default_factory=list)
    heartbeat: float = 0.0
    empty_tray: np.ndarray | None = None
    empty_tray_at: float = 0.0


class VisionLoop:
    """Runs a pipeline in a daemon thread; ``on_result`` receives each step's result."""

    def __init__(self, pipeline: VisionPipeline, on_result: Callable[[StepResult], None] | None = None,
                 idle_sleep_s: float = 0.01, max_events: int = 50):
        self.pipeline = pipeline
        self.on_result = on_result
        self.idle_sleep_s = idle_sleep_s
        self.max_events = max_events
        self.state = LiveState()
        # Loop turns completed (a frame handled, a step that failed, or no frame from a reconnecting
        # camera).  It stops growing only when a step hangs (a stuck camera read, a stuck inference)
        # or the thread died: the service watchdog (runtime/notify.py) watches exactly that.
        self.progress = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="vision-loop", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def alive(self, max_silence_s: float = 10.0) -> bool:
        """Watchdog view: the loop is running and has beaten recently."""
        return bool(self._thread and self._thread.is_alive() and time.time() - self.state.heartbeat < max_silence_s)

    def snapshot(self) -> LiveState:
        with self._lock:
            return LiveState(self.state.image, self.state.detections, self.state.basket,
                             list(self.state.events), self.state.heartbeat, self.state.empty_tray,
                             self.state.empty_tray_at)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.state.heartbeat = time.time()
            try:
                result = self.pipeline.step()
            except Exception as exc:  # keep the till running; the error is visible in stats
                self.pipeline.stats.errors += 1
                self.pipeline.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("vision step failed")
                time.sleep(0.5)
                self.progress += 1
                continue
            if result is None:
                time.sleep(self.idle_sleep_s)
                self.progress += 1
                continue
            with self._lock:
                self.state.image = result.frame.image
                self.state.detections = result.detections
                self.state.basket = result.basket
                self.state.events.extend(result.basket.events)
                del self.state.events[:-self.max_events]
                if result.empty_tray:
                    self.state.empty_tray = result.frame.image
                    self.state.empty_tray_at = result.frame.timestamp
            if self.on_result is not None:
                self.on_result(result)
            self.progress += 1
