"""Cashiers' corrections become candidate gallery examples, off the sale's path.

The checkout session reports a :class:`~edge.checkout.session.Correction` (what the item is, how the
cashier said so, its box) the moment the cashier makes it; :class:`CorrectionKeeper` takes it with the
camera frame that box was seen in and, on its own thread, cuts the crop and writes it to the
:class:`~vision.gallery.candidates.CandidateStore`.  Its queue is bounded and ``keep`` never waits: when
the queue is full or anything fails, the correction is dropped with a log line, and the sale goes on.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

import numpy as np

from edge.checkout.session import Correction
from vision.gallery.candidates import CandidateStore
from vision.identifier import crop_box

log = logging.getLogger(__name__)

DEFAULT_PENDING = 16


@dataclass(frozen=True)
class _Job:
    correction: Correction
    frame: np.ndarray


class CorrectionKeeper:
    """Keeps corrections' crops as gallery candidates on a background thread."""

    def __init__(self, candidates: CandidateStore, max_pending: int = DEFAULT_PENDING) -> None:
        self.candidates = candidates
        self._queue: queue.Queue[_Job | None] = queue.Queue(maxsize=max_pending)
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.kept = 0
        self.dropped = 0

    def keep(self, correction: Correction, frame: np.ndarray | None) -> bool:
        """Queue ``correction`` with the frame its box belongs to; False (dropped) without a frame or
        when the queue is full.  Never blocks."""
        if frame is None:
            self.dropped += 1
            log.info("correction to %s not kept: no camera frame", correction.sku)
            return False
        self._ensure_started()
        try:
            self._idle.clear()
            self._queue.put_nowait(_Job(correction, frame))
        except queue.Full:
            self.dropped += 1
            log.warning("correction to %s not kept: %d corrections already waiting", correction.sku,
                        self._queue.maxsize)
            if self._queue.unfinished_tasks == 0:
                self._idle.set()
            return False
        return True

    def wait_idle(self, timeout: float) -> bool:
        """Block until every queued correction is written (or ``timeout`` seconds pass)."""
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _ensure_started(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="corrections", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                self._write(job)
            finally:
                self._queue.task_done()
                if self._queue.unfinished_tasks == 0:
                    self._idle.set()

    def _write(self, job: _Job) -> None:
        c = job.correction
        try:
            crop = crop_box(job.frame, c.box)
            self.candidates.add(c.sku, np.ascontiguousarray(crop), c.how, c.camera_said, c.tx_id)
            self.kept += 1
        except Exception:  # a candidate is a bonus: never let it take the till down
            self.dropped += 1
            log.exception("correction to %s not kept", c.sku)
