"""Teaching a product at the till: one teaching session at a time, fed by the live camera, and the
one way the web process writes the store's gallery.

- :class:`GalleryAccess`: the gallery folder and the embedder it is made with; :meth:`GalleryAccess.edit`
  opens (or creates) the gallery under a lock, lets the caller add examples, recalibrates the
  unknown-item thresholds and saves (the version grows, so the recogniser reloads it).
- :class:`Teacher`: the teaching session.  :meth:`Teacher.start` (refused while a sale is open)
  starts a thread that reads the camera's latest frame (a :data:`TrayFeed`), waits for the empty
  tray, then hands frames to a :class:`vision.gallery.tray_enrol.ViewCollector` that keeps each
  settled view of the product; frames seen while a sale is open are never used (teaching pauses
  and goes on when the till is idle).  :meth:`Teacher.approve` embeds the kept views and adds them
  to the gallery; :meth:`Teacher.cancel` drops them.  Nothing here blocks or changes a sale.

The web routes are in ``edge.web.teach``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from i18n import _, current_language, use_language
from vision.gallery.store import EmbedderLike, Gallery
from vision.gallery.tray_enrol import (
    DEFAULT_CONFIG,
    CollectorEvent,
    Stillness,
    TrayEnrolConfig,
    TrayView,
    ViewCollector,
)

log = logging.getLogger(__name__)

TILL_SOURCE = "till"  # the gallery examples' source when taught on the tray


# the refusals of vision.gallery.tray_enrol (which speaks English only: vision imports no languages), re-worded
# for the screen in the teacher's language; a sentence not listed here is shown as it is
_REFUSALS: tuple[tuple[re.Pattern[str], Callable[[dict[str, str]], str]], ...] = tuple(
    (re.compile(pattern), say) for pattern, say in (
        (r"no product on the tray", lambda g: _("no product on the tray")),
        ((r"most of the tray looks different from the empty tray \(the light or the camera moved\): "
         r"clear the tray and start again"),
         lambda g: _("most of the tray looks different from the empty tray (the light or the camera moved): "
                     "clear the tray and start again")),
        (r"(?P<num>\d+) things on the tray: put the product alone on the empty tray",
         lambda g: _("%(num)s things on the tray: put the product alone on the empty tray", num=g["num"])),
        ((r"the product touches the edge of the picture \(or a hand is still in it\): "
         r"put it in the middle of the tray and let go"),
         lambda g: _("the product touches the edge of the picture (or a hand is still in it): "
                     "put it in the middle of the tray and let go")),
        ((r"the product is too small in the picture \((?P<size>\d+x\d+) pixels, its long side at least "
         r"(?P<min>\d+)\): enrol it from close-up photos on the catalogue page"),
         lambda g: _("the product is too small in the picture (%(size)s pixels, its long side at least %(min)s): "
                     "enrol it from close-up photos on the catalogue page", size=g["size"], min=g["min"])),
        ((r"blurred: sharpness (?P<sharp>[\d.]+) is below (?P<min>[\d.e+-]+) "
         r"\(keep the product still; is the camera in focus\?\)"),
         lambda g: _("blurred: sharpness %(sharp)s is below %(min)s (keep the product still; is the camera in focus?)",
                     sharp=g["sharp"], min=g["min"])),
        (r"the camera sees (?P<num>\d+) products on the tray: put the product alone on the empty tray",
         lambda g: _("the camera sees %(num)s products on the tray: put the product alone on the empty tray",
                     num=g["num"])),
        (r"(?P<num>\d+) views are enough: approve them", lambda g: _("%(num)s views are enough: approve them",
                                                                     num=g["num"])),
        (r"looks the same as view (?P<num>\d+): turn the product over",
         lambda g: _("looks the same as view %(num)s: turn the product over", num=g["num"])),
    ))


def tray_refusal(reason: str | None) -> str | None:
    """A refusal of the tray collector in the current language (the English text when it is not a known one)."""
    if reason is None:
        return None
    for pattern, say in _REFUSALS:
        match = pattern.fullmatch(reason)
        if match:
            return say(match.groupdict())
    return reason


class TeachError(Exception):
    """A teaching step that cannot be done now; the message says why and what to do."""


@dataclass
class GalleryAccess:
    """The store's gallery folder and the embedder its examples are made with (the recogniser's)."""

    folder: Path
    embedder: EmbedderLike
    on_saved: Callable[[int], None] = field(default=lambda version: None)  # e.g. ask the recogniser to reload
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @contextmanager
    def edit(self) -> Iterator[Gallery]:
        """Open (or create) the gallery, let the caller change it, then recalibrate and save it.

        Raises ``vision.gallery.GalleryError`` (naming the file) for a corrupt gallery or one made
        by another embedder; nothing is saved when the caller raises."""
        with self._lock:
            gallery = Gallery.open_or_create(self.folder, self.embedder)
            yield gallery
            gallery.recalibrate()
            version = gallery.save()
        try:
            self.on_saved(version)
        except Exception:  # the gallery is saved; the recogniser also finds the new version itself
            log.exception("on_saved failed after saving gallery version %d", version)

    def examples(self, sku: str) -> int:
        """How many examples the gallery holds of ``sku`` now (0 when there is no gallery yet)."""
        if not (self.folder / "manifest.json").exists():
            return 0
        return len(Gallery.load(self.folder).manifest.skus.get(sku, []))


@dataclass(frozen=True)
class TrayLook:
    """What the camera shows now: the latest frame and how many items the live basket sees on the
    tray (None when the basket is not settled or unknown)."""

    image: np.ndarray
    items_on_tray: int | None = None


TrayFeed = Callable[[], TrayLook | None]


@dataclass
class _Kept:
    view_id: int
    view: TrayView


@dataclass
class TeachResult:
    sku: str
    kept: int
    skipped: list[str]
    examples: int
    version: int


class Teacher:
    """One teaching session at a time on this till.

    States: ``idle`` -> ``empty`` (waiting for the empty tray) -> ``capturing`` (keeping views) ->
    ``saved`` (approved) or back to ``idle`` (cancelled)."""

    def __init__(self, feed: TrayFeed, gallery: GalleryAccess | None, sale_open: Callable[[], bool],
                 config: TrayEnrolConfig = DEFAULT_CONFIG, poll_s: float = 0.05, idle_timeout_s: float = 600.0,
                 clock: Callable[[], float] = time.monotonic, has_camera: bool = True) -> None:
        self.feed = feed
        self.has_camera = has_camera
        self.gallery = gallery
        self.sale_open = sale_open
        self.config = config
        self.poll_s = poll_s
        self.idle_timeout_s = idle_timeout_s
        self.clock = clock
        self._lock = threading.RLock()
        self.changed = threading.Condition(self._lock)  # notified on every change of status
        self.seq = 0
        self.state = "idle"
        self.sku: str | None = None
        self.name: str | None = None
        self.started_by: str | None = None
        self.language = current_language()
        self.started_at: str | None = None
        self.paused = False
        self.message = ""
        self.warning: str | None = None
        self.result: TeachResult | None = None
        self.error: str | None = None
        self._collector: ViewCollector | None = None
        self._kept: list[_Kept] = []
        self._next_id = 1
        self._stillness = Stillness(config)
        self._force_empty = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_change = clock()

    # -- what the screen shows -------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "state": self.state, "seq": self.seq, "sku": self.sku, "name": self.name,
                "started_by": self.started_by, "started_at": self.started_at, "paused": self.paused,
                "message": self.message, "warning": self.warning, "error": self.error,
                "views": [{"id": k.view_id, "box": list(k.view.box)} for k in self._kept],
                "min_views": self.config.min_views, "max_views": self.config.max_views,
                "can_approve": self.state in ("empty", "capturing") and len(self._kept) >= self.config.min_views,
                "result": None if self.result is None else {
                    "sku": self.result.sku, "kept": self.result.kept, "skipped": self.result.skipped,
                    "examples": self.result.examples, "version": self.result.version},
            }

    def thumbnail(self, view_id: int) -> bytes:
        with self._lock:
            for k in self._kept:
                if k.view_id == view_id:
                    return k.view.thumbnail()
        raise KeyError(view_id)

    def wait_change(self, after: int, timeout: float) -> dict[str, Any]:
        """The status once its ``seq`` is past ``after`` (or after ``timeout`` seconds)."""
        with self.changed:
            self.changed.wait_for(lambda: self.seq != after, timeout)
            return self.status()

    # -- steps -----------------------------------------------------------------------------------
    def start(self, sku: str, name: str, user: str) -> dict[str, Any]:
        if not self.has_camera:
            raise TeachError(_("this till has no camera running: teach the product from photos on its catalogue page"))
        if self.gallery is None:
            raise TeachError(_("this till has no gallery to teach (recognition is switched off)"))
        if self.sale_open():
            raise TeachError(_("a sale is in progress: finish or void it, then teach the product"))
        with self._lock:
            if self.state in ("empty", "capturing", "saving"):
                raise TeachError(_("%(person)s is teaching %(name)s (%(sku)s) now: approve or cancel that first",
                                   person=self.started_by, name=self.name, sku=self.sku))
            self._reset()
            self.state, self.sku, self.name, self.started_by = "empty", sku, name, user
            self.language = current_language()  # the teaching thread speaks the language of who started it
            self.started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            self._update(message=_("Take everything off the tray and keep your hands away."))
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(self._stop,), name="teach", daemon=True)
            self._thread.start()
            log.info("teaching %s (%s) started by %s", sku, name, user)
            return self.status()

    def tray_is_empty(self) -> dict[str, Any]:
        """The person says the tray is empty (when the camera keeps seeing something on it)."""
        with self._lock:
            if self.state != "empty":
                raise TeachError(_("not waiting for the empty tray"))
            self._force_empty = True
            return self.status()

    def drop(self, view_id: int) -> dict[str, Any]:
        with self._lock:
            if self.state != "capturing" or self._collector is None:
                raise TeachError(_("no views to drop"))
            for k, kept in enumerate(self._kept):
                if kept.view_id == view_id:
                    self._collector.drop(k)
                    del self._kept[k]
                    self._update(message=self._capture_message(), warning=None)
                    return self.status()
        raise TeachError(_("there is no view %(view)s", view=view_id))

    def cancel(self) -> dict[str, Any]:
        with self._lock:
            if self.state == "saving":
                raise TeachError(_("the views are being saved: wait a moment"))
            self._stop_thread()
            if self.state in ("empty", "capturing"):
                log.info("teaching %s cancelled", self.sku)
            self._reset()
            self._update(message="")
            return self.status()

    def approve(self) -> TeachResult:
        """Embed the kept views and add them to the gallery as examples of the product; save it."""
        with self._lock:
            if self.state not in ("empty", "capturing") or self._collector is None:
                raise TeachError(_("nothing to approve: start teaching a product first"))
            n = len(self._kept)
            if n < self.config.min_views:
                raise TeachError(_("keep at least %(min)s views (%(now)s now): turn the product over a few more times",
                                   min=self.config.min_views, now=n))
            self._stop_thread()
            sku, name = str(self.sku), str(self.name)
            views = [k.view for k in self._kept]
            self.state = "saving"
            self._update(message=_("Saving…"))
        assert self.gallery is not None
        try:
            vectors = self.gallery.embedder.embed([v.crop for v in views])
            kept, skipped = 0, []
            with self.gallery.edit() as gallery:
                for view, vec in zip(views, vectors, strict=True):
                    added = gallery.add_photo(sku, view.png(), ".png", vec, source=TILL_SOURCE)
                    if added.kept:
                        kept += 1
                    elif added.duplicate_of:  # the one reason vision gives: worded as the catalogue page words it
                        skipped.append(_("it repeats a photo the gallery already has (%(example)s)",
                                         example=added.duplicate_of))
                    else:
                        skipped.append(str(added.reason))
                gallery.manifest.names[sku] = name
                examples = len(gallery.manifest.skus.get(sku, []))
            version = gallery.version
        except Exception as exc:  # a corrupt or foreign gallery, a full disk: say so, keep the views
            log.exception("saving the taught views of %s failed", sku)
            with self._lock:
                self.state = "capturing"
                self._update(error=_("could not save: %(error)s", error=exc))
                self._start_thread()
            raise TeachError(_("could not save the views: %(error)s", error=exc)) from exc
        result = TeachResult(sku, kept, skipped, examples, version)
        with self._lock:
            self.result = result
            self.state = "saved"
            self._kept = []
            self._collector = None
            self._update(message=_("%(name)s is taught (%(kept)s new views, %(examples)s in all): it is recognised "
                                   "from the next sale.", name=name, kept=kept, examples=examples),
                         warning=None, error=None)
        log.info("taught %s: %d views kept, %d skipped, gallery version %d", sku, kept, len(skipped), version)
        return result

    def close(self) -> None:
        with self._lock:
            self._stop_thread()

    # -- internals (callers hold the lock) ------------------------------------------------------------
    def _reset(self) -> None:
        self.state, self.sku, self.name, self.started_by, self.started_at = "idle", None, None, None, None
        self.paused, self.warning, self.result, self.error = False, None, None, None
        self._collector, self._kept, self._force_empty = None, [], False
        self._stillness.reset()

    def _update(self, **values: Any) -> None:
        for key, value in values.items():
            setattr(self, key, value)
        self.seq += 1
        self._last_change = self.clock()
        self.changed.notify_all()

    def _start_thread(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(self._stop,), name="teach", daemon=True)
        self._thread.start()

    def _stop_thread(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            self._lock.release()
            try:
                thread.join(5)
            finally:
                self._lock.acquire()
        self._thread = None

    def _capture_message(self) -> str:
        n, lo, hi = len(self._kept), self.config.min_views, self.config.max_views
        if n == 0:
            return _("Put %(name)s alone in the middle of the tray and let go.", name=self.name)
        if n < lo:
            return _("View %(num)s kept. Turn it over (another side up) and let go: %(left)s more to go.",
                     num=n, left=lo - n)
        if n < hi:
            return _("%(num)s views kept: approve them, or turn it over for more (up to %(most)s).", num=n, most=hi)
        return _("%(num)s views kept, the most one product takes: approve them.", num=n)

    def _run(self, stop: threading.Event) -> None:
        with use_language(self.language):
            self._loop(stop)

    def _loop(self, stop: threading.Event) -> None:
        last_id = None
        while not stop.is_set():
            if self.clock() - self._last_change > self.idle_timeout_s:
                with self._lock:
                    if not stop.is_set():
                        log.info("teaching %s timed out", self.sku)
                        self._reset()
                        self._update(message=_("Teaching stopped after a long pause; nothing was saved."))
                return
            look = self.feed()
            if look is None or id(look.image) == last_id:
                stop.wait(self.poll_s)
                continue
            last_id = id(look.image)
            try:
                self._step(look, stop)
            except Exception as exc:  # never take the till down; show it on the screen
                log.exception("teaching step failed")
                with self._lock:
                    self._update(error=f"{type(exc).__name__}: {exc}")
                stop.wait(0.5)

    def _step(self, look: TrayLook, stop: threading.Event) -> None:
        sale = self.sale_open()
        with self._lock:
            if stop.is_set():
                return
            if sale != self.paused:
                # after a sale, the tray must be seen empty again before any view is kept: the sale's
                # goods are never taken for the product being taught (the views kept so far stay)
                self.state = "empty"
                self._stillness.reset()
                self._update(paused=sale, message=(
                    _("A sale is in progress: teaching is paused and goes on when the till is idle.")
                    if sale else _("Take everything off the tray and keep your hands away.")))
            if sale:
                return  # frames of a sale are never kept
            if self.state == "empty":
                self._wait_for_empty(look)
            elif self.state == "capturing" and self._collector is not None:
                event = self._collector.feed(look.image, look.items_on_tray)
                if event is not None:
                    self._on_event(event)

    def _wait_for_empty(self, look: TrayLook) -> None:
        if self._stillness.feed(look.image) < self.config.still_frames:
            return
        if look.items_on_tray and not self._force_empty:
            if self.warning is None:
                self._update(warning=_("The camera sees %(num)s item(s) on the tray: take them off "
                                       "(or press \u201cThe tray is empty\u201d).", num=look.items_on_tray))
            return
        if self._collector is None:
            self._collector = ViewCollector(look.image, self.config)
        else:
            self._collector.empty = look.image.copy()
        self.state = "capturing"
        self._update(message=self._capture_message(), warning=None)

    def _on_event(self, event: CollectorEvent) -> None:
        assert self._collector is not None
        if event.kind == "kept":
            view = self._collector.views[-1]
            self._kept.append(_Kept(self._next_id, view))
            self._next_id += 1
            self._update(message=self._capture_message(), warning=None)
        elif event.kind == "empty":
            if self.warning is not None:
                self._update(message=self._capture_message(), warning=None)
        else:
            self._update(warning=tray_refusal(event.reason))
