"""The live recogniser: find products class-blind, identify each newly arrived one ONCE against the gallery.

``Recogniser.detect(frame) -> list[Detection]`` is what the vision pipeline calls on an inferred frame
(the same contract as ``Detector.detect``, so the tracker, stabiliser and barcode fallback are
unchanged):

1. the finder (``models/finder`` when it exists, else the model bundle read class-blind:
   ``vision.finders.bundle_finder``) gives every product's box;
2. a box that overlaps (IoU >= ``reuse_iou``) a box identified on a recent inferred frame keeps that
   identification: a product lying on the tray is embedded once when it arrives, not on every
   frame.  Boxes of newly arrived products are cut out (4 % margin, as enrolment crops are) and
   embedded in one batch, then matched against the store's gallery
   (``vision.gallery.matching.Matcher``, with the gallery's calibrated unknown-item thresholds and the
   best SKU verified geometrically against its photos: ``vision.gallery.verify``);
3. the trained class head may vote where it knows the SKU (a bundle finder reads it on every box; with a
   finder network the bundle runs once on a frame where something arrived), when it is sure
   (probability >= ``head_min``): if its SKU is enrolled and the gallery scores it within
   ``head_window`` of its best, that SKU is chosen (it tells look-alikes, e.g. two sizes of one
   brand, apart better than appearance alone).  A SKU the store never enrolled is never named by the
   head, however sure: a closed-set head names a product it never saw as the nearest class it
   knows (measured: an unenrolled product called JUICE-GUAVA-1L with probability >= 0.5), and on a
   shop that runs the demo bundle those classes are not even its products.  A weak best match is an
   *unknown item* (``Detection.sku`` None, ``known`` False, the closest SKUs as alternatives).

The gallery lives in a folder (``DATA_DIR/gallery`` on the device).  :meth:`Recogniser.poll` stats its
manifest at most every ``reload_interval_s``; when the manifest's version changes the gallery is
loaded again and every product on the tray is identified again, so a product taught at the till is
recognised at once.  A corrupt gallery or one made by another embedder is logged and reported by
name (:meth:`Recogniser.status`) and never stops the till: the last good gallery stays in use, or,
with none, the model bundle's trained classes name the products (``Detector.detect``, exactly as a
pipeline without a recogniser; with no bundle at hand, every found product is an unknown item).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from vision.detector import Detection, Detector
from vision.finder import Finder, FoundBox
from vision.finders.bundle_finder import DEFAULT_CONFIDENCE, BundleFinder
from vision.frames import normalise_frame
from vision.gallery.manifest import MANIFEST, GalleryError, read_manifest
from vision.gallery.matching import Matcher
from vision.gallery.store import EmbedderLike, Gallery
from vision.identifier import crop_box

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]
CROP_MARGIN = 0.04  # as the enrolment exemplars are cut (vision.identifier.crop_box)


def crop_item(image: np.ndarray, box: Sequence[float]) -> np.ndarray:
    """The crop of one found product (a basket item's ``box``) out of the frame it was found in:
    the box grown by 4 % each side, clipped to the frame, as the recogniser embeds it."""
    return crop_box(image, box, CROP_MARGIN)


@runtime_checkable
class ClassifyingFinder(Protocol):
    """A finder that also reads each box with a trained class head (``BundleFinder``)."""

    def find_with_classes(self, image: np.ndarray) -> list[tuple[FoundBox, Detection]]: ...


@dataclass(frozen=True)
class RecogniserSettings:
    reuse_iou: float = 0.6  # a found box this close to an identified one is the same product: not embedded again
    forget_after: int = 5  # inferred frames an identified box may go unseen before it is forgotten
    head_votes: bool = True
    head_min: float = 0.5
    head_window: float = 0.03
    reload_interval_s: float = 1.0
    finder_confidence: float = DEFAULT_CONFIDENCE  # for the bundle read class-blind


@dataclass
class _Seen:
    box: Box
    detection: Detection
    missed: int = 0


@dataclass
class RecogniserStats:
    identified: int = 0  # crops embedded and matched (one per newly arrived product)
    reused: int = 0  # found boxes that kept an earlier identification
    reloads: int = 0  # galleries loaded
    identify_ms: float = 0.0  # the latest batch's embedding + matching time


@dataclass
class _Loaded:
    gallery: Gallery
    matcher: Matcher
    stamp: tuple[int, int]  # the manifest file's (mtime_ns, size) when loaded
    skus: frozenset[str] = field(default_factory=frozenset)


def _iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class Recogniser:
    """Finder + gallery identification for the live pipeline (see the module docstring).

    ``finder`` None means: read the pipeline's model bundle class-blind (the detector handed to
    :meth:`detect`).  ``embedder`` is the network the gallery was embedded with
    (``vision.identifier.Embedder``); teaching and corrections must embed with the same one."""

    def __init__(self, embedder: EmbedderLike, gallery_dir: str | Path, finder: Finder | None = None,
                 settings: RecogniserSettings | None = None, clock: Callable[[], float] = time.monotonic):
        self.embedder = embedder
        self.gallery_dir = Path(gallery_dir)
        self.finder = finder
        self.settings = settings or RecogniserSettings()
        self.stats = RecogniserStats()
        self._clock = clock
        self._lock = threading.Lock()  # poll() from the vision thread, reload_now()/status() from the web
        self._loaded: _Loaded | None = None
        self._error: str | None = None
        self._failed_stamp: tuple[int, int] | None = None
        self._next_poll = -1e18
        self._seen: list[_Seen] = []
        self._bundle_finder: BundleFinder | None = None
        self.poll(force=True)

    # -- the gallery -----------------------------------------------------------------------------
    @property
    def gallery_version(self) -> int | None:
        loaded = self._loaded
        return loaded.gallery.version if loaded is not None else None

    def status(self) -> dict[str, Any]:
        """What the dashboard and health show: the gallery in use and the latest problem, by name."""
        loaded = self._loaded
        finder = "bundle (class-blind)" if self.finder is None else \
            str(getattr(self.finder, "identity", {}).get("name", type(self.finder).__name__))
        return {"gallery_dir": str(self.gallery_dir),
                "gallery_version": loaded.gallery.version if loaded else None,
                "gallery_skus": len(loaded.gallery.skus) if loaded else 0,
                "gallery_examples": len(loaded.gallery.embeddings) if loaded else 0,
                "gallery_error": self._error, "finder": finder,
                "identified": self.stats.identified, "reused": self.stats.reused}

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = (self.gallery_dir / MANIFEST).stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def poll(self, force: bool = False) -> bool:
        """Load the gallery again if its manifest's version changed; True when a new one was loaded.

        Cheap: at most every ``reload_interval_s`` a stat of the manifest, and a read of it only when
        the file changed."""
        now = self._clock()
        if not force and now < self._next_poll:
            return False
        self._next_poll = now + self.settings.reload_interval_s
        stamp = self._stamp()
        with self._lock:
            loaded = self._loaded
            if stamp is None:
                if loaded is None and self._error is None:
                    return False
                if (self.gallery_dir / MANIFEST).exists():
                    return False  # unreadable for a moment: keep what we have
                if loaded is not None or self._error is not None:
                    log.warning("gallery %s is gone; identifying with the bundle's classes", self.gallery_dir)
                self._loaded, self._error, self._failed_stamp = None, None, None
                self._seen.clear()
                return True
            if loaded is not None and loaded.stamp == stamp:
                return False
            if stamp == self._failed_stamp:
                return False
            try:
                version = read_manifest(self.gallery_dir).version
                if loaded is not None and version == loaded.gallery.version:
                    self._loaded = _Loaded(loaded.gallery, loaded.matcher, stamp, loaded.skus)
                    return False
                gallery = Gallery.load(self.gallery_dir, self.embedder)
            except GalleryError as exc:
                self._error = str(exc)
                self._failed_stamp = stamp
                keep = f"keeping gallery version {loaded.gallery.version}" if loaded else \
                    "identifying with the bundle's classes"
                log.error("gallery not loaded (%s); %s", exc, keep)
                return False
            self._loaded = _Loaded(gallery, gallery.matcher(), stamp, frozenset(gallery.skus))
            self._error = None
            self._failed_stamp = None
            self._seen.clear()  # the gallery changed: identify everything on the tray again
            self.stats.reloads += 1
            log.info("gallery %s version %d loaded: %d SKUs, %d examples", self.gallery_dir, gallery.version,
                     len(gallery.skus), len(gallery.embeddings))
            return True

    def forget(self) -> None:
        """Forget every identified box (the next frame is a new scene: still photos, not a camera)."""
        with self._lock:
            self._seen.clear()

    def reload_now(self) -> bool:
        """Check the gallery folder at once (after saving it in this process)."""
        return self.poll(force=True)

    def use_settings(self, settings: RecogniserSettings) -> None:
        """Run with ``settings`` from the next frame on (a fleet configuration update, no restart); a bundle read
        class-blind is re-read at the new ``finder_confidence``, and the gallery is checked at the new interval."""
        with self._lock:
            if settings.finder_confidence != self.settings.finder_confidence:
                self._bundle_finder = None
            self.settings = settings
            self._next_poll = -1e18

    # -- recognising -----------------------------------------------------------------------------
    def _finder_for(self, detector: Detector | None) -> Finder:
        if self.finder is not None:
            return self.finder
        if detector is None:
            raise ValueError("a recogniser without a finder needs the pipeline's detector (its bundle)")
        bf = self._bundle_finder
        if bf is None or bf.detector is not detector:  # the fleet switched the model
            bf = self._bundle_finder = BundleFinder(detector, self.settings.finder_confidence)
        return bf

    def detect(self, image: np.ndarray, detector: Detector | None = None) -> list[Detection]:
        """Every product on ``image`` with its SKU (or unknown), best first: the pipeline's per-frame call."""
        frame = normalise_frame(image)
        loaded = self._loaded
        if (loaded is None or not loaded.skus) and detector is not None:
            with self._lock:
                self._seen.clear()
            return detector.detect(frame)  # no gallery: the bundle's trained classes, exactly as without us
        finder = self._finder_for(detector)
        heads: list[Detection | None]
        if isinstance(finder, ClassifyingFinder):
            pairs = finder.find_with_classes(frame)
            found = [f for f, _ in pairs]
            heads = [h for _, h in pairs]
        else:
            found = finder.find(frame)
            heads = [None] * len(found)
        with self._lock:
            loaded = self._loaded
            if loaded is None or not loaded.skus:
                return self._without_gallery(found, heads, detector)
            return self._identify(frame, found, heads, loaded, detector)

    def _without_gallery(self, found: list[FoundBox], heads: list[Detection | None],
                         detector: Detector | None) -> list[Detection]:
        """No usable gallery and no detector: the finder's class head (its classes), else unknown items."""
        self._seen.clear()
        out = []
        for f, head in zip(found, heads, strict=True):
            if head is not None:
                out.append(head)
            else:
                out.append(Detection(None, -1, f.score, f.box, (), "vision", False))
        return out

    def _identify(self, frame: np.ndarray, found: list[FoundBox], heads: list[Detection | None],
                  loaded: _Loaded, detector: Detector | None = None) -> list[Detection]:
        results: list[Detection | None] = [None] * len(found)
        used: set[int] = set()
        for i, f in enumerate(found):  # found boxes come best first
            best_j, best_iou = -1, self.settings.reuse_iou
            for j, seen in enumerate(self._seen):
                if j in used:
                    continue
                v = _iou(f.box, seen.box)
                if v >= best_iou:
                    best_j, best_iou = j, v
            if best_j >= 0:
                used.add(best_j)
                seen = self._seen[best_j]
                seen.missed = 0
                seen.box = f.box
                d = seen.detection
                results[i] = Detection(d.sku, d.class_id, d.confidence, f.box, d.alternatives, d.source, d.known)
                self.stats.reused += 1
        for j, seen in enumerate(self._seen):
            if j not in used:
                seen.missed += 1
        self._seen = [s for s in self._seen if s.missed <= self.settings.forget_after]
        new = [i for i, r in enumerate(results) if r is None]
        if new:
            t0 = time.perf_counter()
            if self.settings.head_votes and detector is not None and all(heads[i] is None for i in new):
                heads = self._bundle_heads(frame, found, heads, new, detector)
            crops = [crop_item(frame, found[i].box) for i in new]
            queries = self.embedder.embed(crops)
            for i, det in zip(new, self._match(queries, [heads[i] for i in new], [found[i] for i in new], loaded,
                                               crops), strict=True):
                results[i] = det
                self._seen.append(_Seen(det.box, det))
            self.stats.identified += len(new)
            self.stats.identify_ms = (time.perf_counter() - t0) * 1000
        return [r for r in results if r is not None]

    @staticmethod
    def _bundle_heads(frame: np.ndarray, found: list[FoundBox], heads: list[Detection | None], new: list[int],
                      detector: Detector) -> list[Detection | None]:
        """A finder network gives no classes: read the bundle's class head for the newly arrived boxes
        (one ``detect()``, only on frames where something arrived), each box taking the detection
        that overlaps it best (IoU >= 0.5)."""
        dets = detector.detect(frame)
        out = list(heads)
        for i in new:
            best = max(dets, key=lambda d: _iou(d.box, found[i].box), default=None)
            if best is not None and _iou(best.box, found[i].box) >= 0.5:
                out[i] = best
        return out

    def _match(self, queries: np.ndarray, heads: list[Detection | None], found: list[FoundBox],
               loaded: _Loaded, crops: list[np.ndarray] | None = None) -> list[Detection]:
        matcher = loaded.matcher
        scores = matcher.scores(queries)
        idents = matcher.identify(queries, crops)  # with crops: geometric verification (vision/gallery/verify.py)
        index = {sku: k for k, sku in enumerate(matcher.skus)}
        s = self.settings
        out = []
        for row, ident, head, f in zip(scores, idents, heads, found, strict=True):
            pick, known = ident.best, ident.known
            if s.head_votes and head is not None and head.sku in index and head.confidence >= s.head_min and \
                    float(row[index[head.sku]]) >= ident.confidence - s.head_window:
                pick, known = head.sku, True
            order = np.argsort(-row, kind="stable")
            ranked = [(matcher.skus[k], round(float(row[k]), 4)) for k in order[:matcher.alternatives + 2]
                      if row[k] > -1]
            if pick is None:  # an empty gallery: nothing to match
                out.append(Detection(None, -1, 0.0, f.box, (), "vision", False))
                continue
            if known:
                alts = tuple((sku, v) for sku, v in ranked if sku != pick)[:matcher.alternatives]
                out.append(Detection(pick, -1, float(row[index[pick]]), f.box, alts, "vision", True))
            else:
                out.append(Detection(None, -1, float(ident.confidence), f.box,
                                     tuple(ranked[:matcher.alternatives]), "vision", False))
        return out


FINDER_DIR = Path(__file__).resolve().parents[1] / "models" / "finder"


def choose_finder(finder_dir: str | Path | None, variant: str = "fp32", synthetic_camera: bool = False
                  ) -> Finder | None:
    """The trained finder network in ``finder_dir`` (or ``models/finder`` when that exists); None means
    the model bundle read class-blind.  A finder folder that is named but broken raises (the finder
    back end's ``FinderError``, naming the file).

    With no folder named and the synthetic camera, the bundle is the finder: the synthetic camera draws
    the demo renderer's products, which the demo bundle was trained on (it finds all of them), while
    the finder network was trained for real products on real counters and finds about two in three of
    the renderer's (README, "Figures")."""
    folder = Path(finder_dir) if finder_dir is not None else FINDER_DIR
    if finder_dir is None and (synthetic_camera or not (folder / "manifest.json").exists()):
        return None
    from vision.finders.onnx_finder import OnnxFinder  # only when there is a finder network to run

    return OnnxFinder(folder, variant=variant)
