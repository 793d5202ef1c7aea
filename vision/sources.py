"""Camera sources by URI: one small contract for the synthetic camera, files, folders and cameras.

Every source returns :class:`Frame` objects whose image is BGR ``uint8`` with 3 channels, whatever
the camera or file delivered (grey, BGRA, 16-bit, float), and keeps a :class:`SourceState` that the
store dashboard shows.  :func:`open_source` picks the implementation from a URI:

==========================  ==============================================================
``synthetic:[?opts]``       :class:`SyntheticSource`: a live tray rendered from the catalogue
``0``, ``1`` ...            :class:`CaptureSource`: a V4L2 camera by index
``/dev/video0``             :class:`CaptureSource`: a V4L2 camera by device path
``rtsp://`` ``rtsps://``    :class:`CaptureSource`: an IP camera stream
a folder or an image file   :class:`ImageFolderSource`: still images sorted by name
a video file                :class:`VideoFileSource`: a recording, looping by default
==========================  ==============================================================

Live cameras never raise on a lost connection: they go ``reconnecting`` and retry with
exponential back-off, and :meth:`FrameSource.read` returns ``None`` meanwhile without blocking the
caller's loop for long.  See ``docs/camera.md``.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

from vision.backgrounds import make_background
from vision.catalogue import Product, demo_catalogue
from vision.cutouts import CutoutLibrary
from vision.frames import normalise_frame
from vision.scene import PlacedItem, SceneStyle, place_items, render_tray

log = logging.getLogger(__name__)

StateName = Literal["connecting", "live", "reconnecting", "ended", "failed"]

IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp")
NETWORK_SCHEMES: tuple[str, ...] = ("rtsp", "rtsps")
_FPS_SMOOTHING = 0.2  # weight of the newest frame interval in the smoothed fps


@dataclass
class Frame:
    """One camera frame: ``image`` is always BGR uint8 with 3 channels."""

    image: np.ndarray
    index: int  # 0-based count of frames this source has delivered (across loops and reconnects)
    timestamp: float  # time.time() when the frame was delivered
    source: str  # the source's URI, password masked


@dataclass
class SourceState:
    """What the dashboard shows about a camera."""

    uri: str  # password masked
    state: StateName = "connecting"
    frames: int = 0
    reconnects: int = 0  # attempts to reopen the camera after a failure
    last_error: str | None = None
    last_frame_at: float | None = None  # time.time() of the latest frame
    fps: float = 0.0  # measured delivery rate, smoothed; 0 when not live
    skipped: int = 0  # inputs that could not be decoded and were skipped (image folders)


class VideoCaptureLike(Protocol):
    """The part of ``cv2.VideoCapture`` the sources use (so tests can inject a fake camera)."""

    def isOpened(self) -> bool: ...

    def read(self) -> tuple[bool, np.ndarray | None]: ...

    def set(self, prop_id: int, value: float) -> bool: ...

    def get(self, prop_id: int) -> float: ...

    def release(self) -> None: ...


CaptureFactory = Callable[[int | str], VideoCaptureLike]


def mask_uri(uri: str) -> str:
    """``uri`` with any password replaced by ``****`` (for state, frames and logs)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return uri
    if parts.password is None:
        return uri
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{parts.username or ''}:****@{host}").geturl()


# --------------------------------------------------------------------------------------------
# the contract


class FrameSource(ABC):
    """A camera: ``read()`` frames, watch ``state``, ``close()`` (or use ``with``)."""

    def __init__(self, uri: str) -> None:
        self.uri = mask_uri(uri)  # what is shown and logged; a password never leaves the source
        self._lock = threading.Lock()
        self._state = SourceState(uri=self.uri)
        self._index = 0
        self._closed = False
        self._last_mono: float | None = None
        self._dt_smooth: float | None = None

    @abstractmethod
    def read(self) -> Frame | None:
        """The next frame; None only when a finite source has ended or a camera is reconnecting."""

    def close(self) -> None:
        """Release the source; later reads return None and the state is ``ended``."""
        self._closed = True
        self._set_state(state="ended", fps=0.0)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def state(self) -> SourceState:
        """A snapshot of the source's state (safe to read from another thread)."""
        with self._lock:
            return replace(self._state)

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.uri!r}, state={self._state.state!r})"

    # helpers for implementations ------------------------------------------------------------

    def _set_state(self, **changes: object) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(self._state, key, value)

    def _emit(self, image: np.ndarray) -> Frame:
        """Normalise ``image``, count it, measure fps and make the Frame."""
        img = normalise_frame(image)
        mono = time.monotonic()
        if self._last_mono is not None:
            dt = max(mono - self._last_mono, 1e-6)
            self._dt_smooth = dt if self._dt_smooth is None else (
                (1 - _FPS_SMOOTHING) * self._dt_smooth + _FPS_SMOOTHING * dt)
        self._last_mono = mono
        now = time.time()
        frame = Frame(image=img, index=self._index, timestamp=now, source=self.uri)
        self._index += 1
        with self._lock:
            self._state.state = "live"
            self._state.frames += 1
            self._state.last_frame_at = now
            self._state.fps = round(1.0 / self._dt_smooth, 2) if self._dt_smooth else 0.0
        return frame

    def _not_live(self, state: StateName, error: str | None = None) -> None:
        self._last_mono = None
        self._dt_smooth = None
        changes: dict[str, object] = {"state": state, "fps": 0.0}
        if error is not None:
            changes["last_error"] = error
        self._set_state(**changes)


class _Pacer:
    """Holds a reader to ``fps`` frames per second of wall time (for demos and replays)."""

    def __init__(self, fps: float, enabled: bool) -> None:
        self.interval = 1.0 / fps if fps > 0 else 0.0
        self.enabled = enabled and self.interval > 0
        self._next: float | None = None

    def wait(self) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self._next is None or now - self._next > self.interval:  # first frame, or fell behind
            self._next = now
        elif self._next > now:
            time.sleep(self._next - now)
        self._next += self.interval


# --------------------------------------------------------------------------------------------
# synthetic camera


class SyntheticSource(FrameSource):
    """A live checkout tray rendered from the catalogue: items are put down and taken away.

    The tray starts empty.  Every ``period_s`` seconds of *virtual* time (frame ``i`` happens at
    ``i / fps`` seconds) one item is put down or taken away: the tray fills up to a target of up to
    ``max_items`` items, then empties, and so on.  Between changes the frames differ only by mild
    sensor noise (``noise_sigma``), like a still tray under a real camera.  The same seed gives the
    same frames.  ``realtime=True`` paces ``read()`` to ``fps`` of wall time (the demo).

    ``stall_after`` is fault injection: after that many frames ``read()`` blocks until ``close()``,
    like a camera driver or stream that hangs inside a read (the service watchdog must notice).

    ``manual=True`` (URI option ``manual=1``): the tray starts empty and changes only when told, by
    :meth:`show` (exactly these products on the tray; one SKU: alone on it), :meth:`clear`, and
    :meth:`add_products` (products the catalogue does not have, e.g.
    ``vision.unenrolled.unenrolled_product(1)``, made drawable).  Tests and demos use it to put a
    chosen product, taught or never enrolled, on the tray; these calls are safe from another thread.
    """

    def __init__(self, library: CutoutLibrary | None = None, *, seed: int = 0, fps: float = 15.0,
                 period_s: float = 4.0, width: int = 640, height: int = 480,
                 skus: list[str] | None = None, max_items: int = 6, noise_sigma: float = 1.5,
                 realtime: bool = False, uri: str | None = None,
                 background_families: tuple[str, ...] | None = None,
                 stall_after: int | None = None, manual: bool = False) -> None:
        if fps <= 0 or period_s <= 0:
            raise ValueError(f"synthetic source: fps and period must be > 0 (got {fps}, {period_s})")
        if width < 16 or height < 16:
            raise ValueError(f"synthetic source: frame size {width}x{height} is too small")
        if max_items < 1:
            raise ValueError("synthetic source: max_items must be at least 1")
        if stall_after is not None and stall_after < 1:
            raise ValueError("synthetic source: stall_after must be at least 1 frame")
        super().__init__(uri or f"synthetic:?seed={seed}")
        if library is None:
            products = demo_catalogue()
            if skus:
                known = {p.sku for p in products}
                unknown = [s for s in skus if s not in known]
                if unknown:
                    raise ValueError(f"synthetic source: unknown SKUs {unknown}")
                products = [p for p in products if p.sku in set(skus)]
            library = CutoutLibrary.from_products(products)
        elif skus:
            unknown = [s for s in skus if s not in library.skus]
            if unknown:
                raise ValueError(f"synthetic source: SKUs not in the cut-out library: {unknown}")
        self.library = library
        self.seed = int(seed)
        self.fps = float(fps)
        self.period_s = float(period_s)
        self.noise_sigma = float(noise_sigma)
        self.max_items = int(max_items)
        self._skus = list(skus) if skus else None
        self._style = SceneStyle(frame_size=(int(width), int(height)), effects=False)
        self._px_per_mm = width / self._style.tray_mm[0]
        self._background = make_background(np.random.default_rng([self.seed, 0]), (int(width), int(height)),
                                           background_families)
        self._rng = np.random.default_rng([self.seed, 1])  # arrangement changes, in order
        self._items: list[PlacedItem] = []
        self._changes = 0  # changes applied so far
        self._filling = True
        self._target = self._new_target()
        self._image = self._render(self._items)
        self._pacer = _Pacer(self.fps, realtime)
        self.stall_after = stall_after
        self._released = threading.Event()  # set by close(): ends an injected stall
        self.manual = manual
        self._tray_lock = threading.Lock()  # show()/clear()/add_products() from another thread
        self._dirty = False  # a manual change waits for the next read

    # a tray that changes when told (manual=True) ----------------------------------------------

    def add_products(self, products: list[Product]) -> None:
        """Make ``products`` drawable on this tray (their SKUs may be ones no catalogue has)."""
        extra = CutoutLibrary.from_products(products)
        with self._tray_lock:
            known = {e.sku for e in self.library.entries}
            entries = [e for e in self.library.entries if e.sku not in {x.sku for x in extra.entries}]
            self.library = CutoutLibrary(entries + extra.entries)
            log.debug("synthetic source: %d products added (%d were drawable already)", len(products),
                      len({p.sku for p in products} & known))

    def show(self, skus: list[str], arrangement: int = 0) -> None:
        """Put exactly these products on the tray (replacing what lay there) from the next frame on.

        Another ``arrangement`` number lays them down elsewhere, at another angle and, where the
        product has several faces, maybe on another face (a product turned over)."""
        with self._tray_lock:
            missing = [s for s in skus if s not in self.library.skus]
            if missing:
                raise ValueError(f"synthetic source: SKUs not drawable here: {missing} (add_products first)")
            rng = np.random.default_rng([self.seed, 3, arrangement])
            items: list[PlacedItem] = []
            for sku in skus:
                for _ in range(8):
                    cand = place_items(self.library, rng, self._style, 1, self._px_per_mm, [sku])
                    if cand and self._fits(items + cand):
                        items += cand
                        break
                else:
                    raise ValueError(f"synthetic source: no room on the tray for {sku} beside {len(items)} items")
            self._items = items
            self._dirty = True

    def clear(self) -> None:
        """Take everything off the tray from the next frame on."""
        with self._tray_lock:
            self._items = []
            self._dirty = True

    def _fits(self, items: list[PlacedItem]) -> bool:
        min_visible = 1.0 - self._style.max_occlusion
        scene = render_tray(self.library, items, self._background, self._style, rng=None, px_per_mm=self._px_per_mm)
        return len(scene.labels) == len(items) and all(lb.visible_fraction >= min_visible for lb in scene.labels)

    # what tests and demos look at ----------------------------------------------------------

    @property
    def current_items(self) -> list[PlacedItem]:
        """The items on the tray in the latest frame, bottom first."""
        return list(self._items)

    def truth(self) -> dict[str, int]:
        """SKU -> count of the items on the tray in the latest frame."""
        counts: dict[str, int] = {}
        for it in self._items:
            counts[it.sku] = counts.get(it.sku, 0) + 1
        return counts

    @property
    def virtual_time(self) -> float:
        """Virtual time in seconds of the next frame to be read."""
        return self._index / self.fps

    # FrameSource ---------------------------------------------------------------------------

    def read(self) -> Frame | None:
        if self._closed:
            return None
        if self.stall_after is not None and self._index >= self.stall_after:
            log.warning("synthetic camera %s: fault injection: the read hangs after %d frames (stall_after)",
                        self.uri, self.stall_after)
            self._released.wait()
            return None
        self._pacer.wait()
        if self.manual:
            with self._tray_lock:
                if self._dirty:
                    self._image = self._render(self._items)
                    self._dirty = False
            return self._emit(self._noisy(self._image, self._index))
        due = int(math.floor(self._index / (self.fps * self.period_s) + 1e-9))
        if due > self._changes:
            while self._changes < due:
                self._change()
                self._changes += 1
            self._image = self._render(self._items)
        return self._emit(self._noisy(self._image, self._index))

    # internals -----------------------------------------------------------------------------

    def close(self) -> None:
        super().close()
        self._released.set()

    def _new_target(self) -> int:
        return int(self._rng.integers(max(1, (self.max_items + 1) // 2), self.max_items + 1))

    def _change(self) -> None:
        if self._filling and len(self._items) < self._target and self._put_down():
            if len(self._items) >= self._target:
                self._filling = False
            return
        self._filling = False
        if self._items:
            k = int(self._rng.integers(0, len(self._items)))
            self._items.pop(k)
        if not self._items:
            self._filling = True
            self._target = self._new_target()

    def _put_down(self, attempts: int = 8) -> bool:
        """Add one item on top that hides no item (old or new) more than the style allows."""
        min_visible = 1.0 - self._style.max_occlusion
        for _ in range(attempts):
            cand = place_items(self.library, self._rng, self._style, 1, self._px_per_mm, self._skus)
            if not cand:
                continue
            items = self._items + cand
            scene = render_tray(self.library, items, self._background, self._style, rng=None,
                                px_per_mm=self._px_per_mm)
            if len(scene.labels) == len(items) and all(lb.visible_fraction >= min_visible
                                                       for lb in scene.labels):
                self._items = items
                return True
        log.debug("synthetic source: no room for another item after %d tries", attempts)
        return False

    def _render(self, items: list[PlacedItem]) -> np.ndarray:
        if not items:
            return self._background.copy()
        return render_tray(self.library, items, self._background, self._style, rng=None,
                           px_per_mm=self._px_per_mm).image

    def _noisy(self, image: np.ndarray, index: int) -> np.ndarray:
        if self.noise_sigma <= 0:
            return image.copy()
        rng = np.random.default_rng([self.seed, 2, index])
        noise = rng.standard_normal(image.shape, dtype=np.float32)
        noise *= self.noise_sigma
        return cv2.add(image, noise, dtype=cv2.CV_8U)


# --------------------------------------------------------------------------------------------
# files


class ImageFolderSource(FrameSource):
    """Still images from a folder (``*.jpg *.jpeg *.png *.bmp`` sorted by name) or one image file.

    Unreadable files are skipped with a warning, counted in ``state.skipped`` and named in
    ``state.last_error``.  Without ``loop`` the source ends after the last image.
    """

    def __init__(self, path: str | Path, *, loop: bool = False, fps: float = 15.0,
                 realtime: bool = False, uri: str | None = None) -> None:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"image folder or file not found: {path}")
        super().__init__(uri or str(path))
        if path.is_dir():
            files = sorted((p for p in path.iterdir()
                            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES), key=lambda p: p.name)
        else:
            files = [path]
        if not files:
            raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder {path}")
        self.files: list[Path] = files
        self.loop = loop
        self._pos = 0
        self._bad: set[Path] = set()
        self._pacer = _Pacer(fps, realtime)

    def read(self) -> Frame | None:
        if self._closed or self._state.state in ("ended", "failed"):
            return None
        tried = 0
        while tried < len(self.files):
            if self._pos >= len(self.files):
                if not self.loop:
                    self._not_live("ended")
                    return None
                self._pos = 0
            path = self.files[self._pos]
            self._pos += 1
            tried += 1
            if path in self._bad:
                continue
            img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if img is None or img.size == 0:
                self._skip(path, "not a readable image")
                continue
            try:
                image = normalise_frame(img)
            except ValueError as exc:
                self._skip(path, str(exc))
                continue
            self._pacer.wait()
            return self._emit(image)
        if not self.loop:
            self._not_live("ended")
        else:
            self._not_live("failed", f"no readable images in {self.uri}")
            log.error("image source %s: no readable images left", self.uri)
        return None

    def _skip(self, path: Path, why: str) -> None:
        self._bad.add(path)
        log.warning("image source %s: skipping %s (%s)", self.uri, path.name, why)
        with self._lock:
            self._state.skipped += 1
            self._state.last_error = f"skipped {path.name}: {why}"


def _default_capture(target: int | str) -> VideoCaptureLike:
    """``cv2.VideoCapture`` for a camera index, device path, stream URL or file."""
    if isinstance(target, str) and urlsplit(target).scheme.lower() in NETWORK_SCHEMES:
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 5000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 5000]
        return cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)
    return cv2.VideoCapture(target)


class VideoFileSource(FrameSource):
    """A video file through ``cv2.VideoCapture``, looping by default.

    ``realtime=True`` paces reads to the file's own frame rate (or ``fps`` when it has none).
    """

    def __init__(self, path: str | Path, *, loop: bool = True, fps: float = 15.0, realtime: bool = False,
                 uri: str | None = None, capture_factory: CaptureFactory | None = None) -> None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"video file not found: {path}")
        super().__init__(uri or str(path))
        self.path = path
        self.loop = loop
        self._factory = capture_factory or _default_capture
        self._cap: VideoCaptureLike | None = self._factory(str(path))
        if not self._cap.isOpened():
            self._cap.release()
            raise ValueError(f"cannot open video file {path} (not a video, or no decoder for its codec)")
        file_fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self._pacer = _Pacer(file_fps if 0 < file_fps < 240 else fps, realtime)
        self._frames_this_pass = 0

    def read(self) -> Frame | None:
        if self._closed or self._cap is None:
            return None
        for _ in range(2):  # at most one rewind per read
            ok, img = self._cap.read()
            if ok and img is not None and img.size:
                self._frames_this_pass += 1
                self._pacer.wait()
                return self._emit(img)
            if not self.loop:
                self._release()
                self._not_live("ended")
                return None
            if self._frames_this_pass == 0:
                break
            log.debug("video source %s: end of file, rewinding", self.uri)
            self._release()
            self._cap = self._factory(str(self.path))
            self._frames_this_pass = 0
            if not self._cap.isOpened():
                break
        self._release()
        self._not_live("failed", f"no frames could be decoded from {self.path}")
        log.error("video source %s: no frames could be decoded", self.uri)
        return None

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def close(self) -> None:
        self._release()
        super().close()


# --------------------------------------------------------------------------------------------
# live cameras


class CaptureSource(FrameSource):
    """A live camera (V4L2 index or device path, RTSP stream) that reconnects by itself.

    When opening or reading fails the state becomes ``reconnecting`` and the camera is reopened
    after ``backoff_s``, then 2×, 4×, ... up to ``backoff_max_s``, each delay varied by ±``jitter``
    (a share) so a fleet of tills does not hammer a recovering NVR at once.  Meanwhile ``read()``
    returns None, sleeping at most ``poll_s`` (or until the retry is due, if sooner): a caller's
    loop keeps turning without spinning the CPU.  A successful frame resets the back-off.  With
    ``max_retries`` set, the source gives up (``failed``) after that many failures in a row.
    """

    def __init__(self, uri: str, *, width: int | None = 640, height: int | None = 480,
                 fps: float | None = 15.0, backoff_s: float = 1.0, backoff_max_s: float = 30.0,
                 jitter: float = 0.2, poll_s: float = 0.05, max_retries: int | None = None,
                 capture_factory: CaptureFactory | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, seed: int | None = None) -> None:
        if backoff_s <= 0 or backoff_max_s < backoff_s:
            raise ValueError(f"camera {uri}: need 0 < backoff_s <= backoff_max_s "
                             f"(got {backoff_s}, {backoff_max_s})")
        if not 0 <= jitter < 1:
            raise ValueError(f"camera {uri}: jitter must be in [0, 1) (got {jitter})")
        super().__init__(uri)
        self.target: int | str = int(uri) if uri.strip().isdigit() else uri
        self.width, self.height, self.fps = width, height, fps
        self.backoff_s, self.backoff_max_s, self.jitter = backoff_s, backoff_max_s, jitter
        self.poll_s = poll_s
        self.max_retries = max_retries
        self._factory = capture_factory or _default_capture
        self._clock = clock
        self._sleep = sleep
        self._random = random.Random(seed)
        self._cap: VideoCaptureLike | None = None
        self._failures = 0  # failures in a row
        self._opened_once = False
        self._next_try = clock()

    @property
    def is_network(self) -> bool:
        return isinstance(self.target, str) and urlsplit(self.target).scheme.lower() in NETWORK_SCHEMES

    @property
    def next_retry_in(self) -> float:
        """Seconds until the next reconnect attempt (0 when connected or due)."""
        return 0.0 if self._cap is not None else max(0.0, self._next_try - self._clock())

    def read(self) -> Frame | None:
        if self._closed or self._state.state == "failed":
            return None
        if self._cap is None:
            wait = self._next_try - self._clock()
            if wait > 0:
                self._sleep(min(wait, self.poll_s))
                if wait > self.poll_s:
                    return None
            if not self._open():
                return None
        cap = self._cap
        if cap is None:  # closed from another thread meanwhile
            return None
        try:
            ok, img = cap.read()
        except Exception as exc:  # noqa: BLE001 - some backends raise instead of returning False
            ok, img = False, None
            log.debug("camera %s: read raised %s", self.uri, exc)
        if not ok or img is None or getattr(img, "size", 0) == 0:
            self._fail("camera stopped delivering frames")
            return None
        try:
            frame = self._emit(img)
        except ValueError as exc:
            self._fail(f"bad frame: {exc}")
            return None
        if self._failures:
            log.info("camera %s: live again after %d failure(s)", self.uri, self._failures)
        self._failures = 0
        return frame

    def close(self) -> None:
        self._release()
        super().close()

    def _open(self) -> bool:
        if self._opened_once or self._failures:
            with self._lock:
                self._state.reconnects += 1
        try:
            cap = self._factory(self.target)
        except Exception as exc:  # noqa: BLE001 - a factory or backend error must not kill the till's loop
            self._fail(f"cannot open camera: {exc}")
            return False
        if not cap.isOpened():
            self._cap = cap
            self._fail("cannot open camera")  # releases it
            return False
        if not self.is_network:
            for prop, value in ((cv2.CAP_PROP_FRAME_WIDTH, self.width), (cv2.CAP_PROP_FRAME_HEIGHT, self.height),
                                (cv2.CAP_PROP_FPS, self.fps), (cv2.CAP_PROP_BUFFERSIZE, 1)):
                if value:
                    try:
                        cap.set(prop, float(value))
                    except Exception:  # noqa: BLE001 - a backend that cannot set a property keeps its own
                        log.debug("camera %s: cannot set property %d", self.uri, prop)
        self._cap = cap
        self._opened_once = True
        log.info("camera %s: opened", self.uri)
        return True

    def _release(self) -> None:
        if self._cap is not None:
            cap, self._cap = self._cap, None
            try:
                cap.release()
            except Exception as exc:  # noqa: BLE001 - a backend's failed release must not stop the reopen
                log.debug("camera %s: release raised %s", self.uri, exc)

    def _fail(self, why: str) -> None:
        self._release()
        self._failures += 1
        if self.max_retries is not None and self._failures > self.max_retries:
            self._not_live("failed", f"{why}; gave up after {self._failures} failures in a row")
            log.error("camera %s: %s; giving up after %d failures", self.uri, why, self._failures)
            return
        delay = self.backoff_delay(self._failures)
        self._next_try = self._clock() + delay
        level = logging.WARNING if self._failures == 1 else logging.INFO
        log.log(level, "camera %s: %s; retrying in %.1f s", self.uri, why, delay)
        self._not_live("reconnecting", why)

    def backoff_delay(self, failures: int) -> float:
        """Delay before the retry that follows ``failures`` failures in a row (with jitter)."""
        base = min(self.backoff_max_s, self.backoff_s * 2.0 ** max(0, failures - 1))
        if self.jitter:
            base *= 1.0 + self._random.uniform(-self.jitter, self.jitter)
        return max(0.0, base)


# --------------------------------------------------------------------------------------------
# dispatch


def _parse_synthetic(uri: str, query: str) -> tuple[dict[str, int | float], list[str] | None]:
    """The synthetic camera's query: its numeric options by name, and its SKU list (None: not given or empty)."""
    numeric: dict[str, type[int] | type[float]] = {
        "seed": int, "fps": float, "period": float, "width": int, "height": int, "max_items": int,
        "noise": float, "stall_after": int, "manual": int}
    known = sorted([*numeric, "skus"])
    try:
        raw = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as exc:
        raise ValueError(f"{uri}: malformed query ({exc})") from exc
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ValueError(f"{uri}: unknown option(s) {unknown}; known: {known}")
    opts: dict[str, int | float] = {}
    skus: list[str] | None = None
    for key, values in raw.items():
        value = values[-1]
        if key == "skus":
            skus = [s.strip() for s in value.split(",") if s.strip()] or None
            continue
        try:
            opts[key] = numeric[key](value)
        except ValueError:
            raise ValueError(f"{uri}: option {key}={value!r} is not a valid {numeric[key].__name__}") from None
    return opts, skus


def open_source(uri: str, *, width: int = 640, height: int = 480, fps: float = 15.0, realtime: bool = False,
                library: CutoutLibrary | None = None, backoff_s: float = 1.0, backoff_max_s: float = 30.0,
                loop: bool | None = None, capture_factory: CaptureFactory | None = None) -> FrameSource:
    """Open the source a URI names (see the module docstring and ``docs/camera.md``).

    ``width``/``height``/``fps`` are the synthetic camera's frame size and rate (its query options
    win) and what a local camera is asked for; files keep their own size.  ``realtime`` paces
    synthetic, folder and video sources to wall time.  ``loop`` overrides the default of folders
    (no) and videos (yes).  Raises ValueError for an unknown scheme or bad options and
    FileNotFoundError for a missing file or folder.
    """
    if not isinstance(uri, str) or not uri.strip():
        raise ValueError("camera URI is empty")
    uri = uri.strip()
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme == "synthetic":
        opts, skus = _parse_synthetic(uri, parts.query)
        return SyntheticSource(library, seed=int(opts.get("seed", 0)), fps=float(opts.get("fps", fps)),
                               period_s=float(opts.get("period", 4.0)), width=int(opts.get("width", width)),
                               height=int(opts.get("height", height)), skus=skus,
                               max_items=int(opts.get("max_items", 6)),
                               noise_sigma=float(opts.get("noise", 1.5)), realtime=realtime, uri=uri,
                               stall_after=int(opts["stall_after"]) if "stall_after" in opts else None,
                               manual=bool(opts.get("manual", 0)))
    if uri.isdigit() or uri.startswith("/dev/") or scheme in NETWORK_SCHEMES:
        return CaptureSource(uri, width=width, height=height, fps=fps, backoff_s=backoff_s,
                             backoff_max_s=backoff_max_s, capture_factory=capture_factory)
    if scheme == "file":
        path = Path(parts.path)
    elif scheme and len(scheme) > 1:  # one letter would be a Windows drive
        raise ValueError(f"unsupported camera URI {mask_uri(uri)!r}: scheme {scheme!r} is not one of "
                         f"synthetic:, rtsp://, rtsps://, a camera index, /dev/videoN or a path")
    else:
        path = Path(uri).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"camera source not found: {uri}")
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageFolderSource(path, loop=bool(loop) if loop is not None else False, fps=fps,
                                 realtime=realtime, uri=uri)
    return VideoFileSource(path, loop=True if loop is None else loop, fps=fps, realtime=realtime, uri=uri,
                           capture_factory=capture_factory)
