"""Change gate: run the detector only when the tray changed (or just settled, or on a heartbeat).

Each frame is shrunk (``cv2.resize`` with ``INTER_AREA``, long side ``downscale`` pixels), turned
grey and blurred, then compared with the same reduction of the *last inferred* frame.  The score
is the mean absolute difference in grey levels over a sliding window of the small image (the long
side divided by ``blocks``: 8×8 small pixels, 80×80 camera pixels at 640×480) and the largest
window wins.  A whole-frame mean would miss a single can put down on an 800 mm tray (it moves the
frame mean by about 1 grey level); the window mean sees it at 10-30 while camera noise stays well
under 1.

Because the reference is the last *inferred* frame, slow drift (daylight, auto-exposure) adds up
until it crosses the threshold, and a change is never lost between two similar frames.
"""

from __future__ import annotations

import cv2
import numpy as np

NO_REFERENCE = 255.0  # the score reported when there is nothing to compare with (largest possible)


class ChangeGate:
    """Decides whether a frame needs inference.

    ``should_infer`` returns True for the first frame; when the frame differs from the last
    inferred one by more than ``threshold`` (grey levels, worst window); for ``settle_frames``
    frames after a change has stopped (so the stabiliser sees the new arrangement settle); and,
    when ``max_interval_s`` > 0, when that long has passed since the last inference.  With
    ``min_interval_s`` > 0 it never says True sooner than that after the last inference (a change
    seen meanwhile is not lost: it is still there when the interval has passed).  ``now`` is any
    clock in seconds (the frame's timestamp).
    """

    def __init__(self, threshold: float = 6.0, downscale: int = 64, max_interval_s: float = 0.0,
                 settle_frames: int = 2, blocks: int = 8, min_interval_s: float = 0.0) -> None:
        if threshold <= 0:
            raise ValueError(f"change gate: threshold must be > 0 (got {threshold})")
        if downscale < 8:
            raise ValueError(f"change gate: downscale must be at least 8 pixels (got {downscale})")
        if max_interval_s < 0 or min_interval_s < 0 or settle_frames < 0:
            raise ValueError("change gate: max_interval_s, min_interval_s and settle_frames must be >= 0")
        if max_interval_s and min_interval_s > max_interval_s:
            raise ValueError("change gate: min_interval_s must not exceed max_interval_s")
        if not 1 <= blocks <= downscale:
            raise ValueError(f"change gate: blocks must be in 1..downscale (got {blocks})")
        self.threshold = float(threshold)
        self.downscale = int(downscale)
        self.max_interval_s = float(max_interval_s)
        self.min_interval_s = float(min_interval_s)
        self.settle_frames = int(settle_frames)
        self.blocks = int(blocks)
        self.frames = 0
        self.inferences = 0
        self.skipped = 0
        self.last_difference = 0.0
        self.last_reason: str | None = None  # first | change | settle | interval | None (skipped)
        self._reference: np.ndarray | None = None
        self._last_inference_at: float | None = None
        self._settle_left = 0

    def reset(self) -> None:
        """Forget the reference: the next frame is inferred (e.g. a new sale, a camera reconnect)."""
        self._reference = None
        self._settle_left = 0

    def difference(self, image: np.ndarray) -> float:
        """The score of ``image`` against the reference (255 when there is none or sizes differ)."""
        diff = self._score(self._reduce(image))
        return NO_REFERENCE if diff is None else diff

    def should_infer(self, image: np.ndarray, now: float) -> bool:
        """True when ``image`` (BGR or grey, any size) needs the detector; ``now`` in seconds."""
        small = self._reduce(image)
        diff = self._score(small)
        self.frames += 1
        self.last_difference = NO_REFERENCE if diff is None else diff
        since = None if self._last_inference_at is None else now - self._last_inference_at
        if diff is None:
            reason: str | None = "first" if self.inferences == 0 else "change"
        elif diff > self.threshold:
            reason = "change"
        elif self._settle_left > 0:
            reason = "settle"
        elif self.max_interval_s > 0 and since is not None and since >= self.max_interval_s:
            reason = "interval"
        else:
            reason = None
        if reason is not None and diff is not None and self.min_interval_s > 0 and since is not None \
                and since < self.min_interval_s:
            reason = None  # too soon: the reference stays, so the change is seen again next frame
        elif reason in ("first", "change"):  # (re)start settling after the latest change
            self._settle_left = self.settle_frames
        elif reason == "settle":
            self._settle_left -= 1
        self.last_reason = reason
        if reason is None:
            self.skipped += 1
            return False
        self.inferences += 1
        self._reference = small
        self._last_inference_at = now
        return True

    def _reduce(self, image: np.ndarray) -> np.ndarray:
        if image is None or not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
            raise ValueError("change gate: expected a non-empty H×W or H×W×C image")
        h, w = image.shape[:2]
        scale = self.downscale / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if scale < 1 else image
        if small.ndim == 3:
            code = {3: cv2.COLOR_BGR2GRAY, 4: cv2.COLOR_BGRA2GRAY}.get(small.shape[2])
            small = cv2.cvtColor(small, code) if code is not None else small[..., 0]
        small = small.astype(np.float32)
        return cv2.GaussianBlur(small, (3, 3), 0)

    def _score(self, small: np.ndarray) -> float | None:
        if self._reference is None or self._reference.shape != small.shape:
            return None
        diff = cv2.absdiff(small, self._reference)
        h, w = diff.shape
        k = max(1, round(max(h, w) / self.blocks))
        k = min(k, h, w)
        means = cv2.blur(diff, (k, k), borderType=cv2.BORDER_REFLECT)
        a = k // 2  # keep only windows that lie wholly inside the frame
        return float(means[a:h - k + a + 1, a:w - k + a + 1].max())
