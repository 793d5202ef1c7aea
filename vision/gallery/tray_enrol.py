"""Teaching a product on the till's own tray: keep each settled view of one product and cut it out
against the empty tray.

The owner puts the product alone on the empty tray and turns it over a few times.  Frames go to a
:class:`ViewCollector` (one per teaching session, started from the empty-tray frame seen before the
product was put down), which:

1. waits for the tray to be still (``still_frames`` consecutive frames in which next to no pixel
   changed: a hand is not turning the product, and a product just put down is seen as a change);
2. compares that settled frame with the empty tray (:func:`cut_out`): the pixels that differ are
   the product; one blob is kept as a :class:`TrayView`, and anything else is refused with the
   reason the screen shows (no product, two products, partly outside the picture, too small,
   blurred; see :func:`cut_out`);
   (two products touching each other make one blob: the recogniser's count of products on the
   tray, when the caller has it, refuses those);
3. keeps the view when it differs from every view already kept (the product was turned over, not
   just touched), up to ``max_views``.  A settled tray with no product on it becomes the new
   empty-tray reference, so a slow change of light between views does not read as a product.

A view's ``crop`` is the product's box grown by the same margin the live recogniser cuts with
(``vision.identifier.crop_box``), tray pixels included, so it is embedded as the recogniser will
see the product at a sale; its ``mask`` is the background removal (the product's own pixels), kept
as the alpha channel of the PNG the gallery stores (:meth:`TrayView.png`), so a cut-out can be
composed on other surfaces (training) while re-embedding the photo reads the same crop.

Pure functions and one small state machine over numpy images: no camera, threads, clock or files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from vision.frames import normalise_frame
from vision.gallery.quality import MIN_SHARPNESS, MIN_SIDE, sharpness

Box = tuple[int, int, int, int]  # x1, y1, x2, y2 in frame pixels (x2, y2 exclusive)

NO_PRODUCT = "no product on the tray"


@dataclass(frozen=True)
class TrayEnrolConfig:
    """The thresholds of teaching on the tray; the defaults suit a 640x480 camera over a counter tray."""

    still_frames: int = 3  # consecutive still frames before a view is judged
    still_pixel: float = 12.0  # a downscaled pixel whose grey level changed more than this has moved ...
    still_share: float = 0.002  # ... and the tray is still while fewer than this share of them moved
    diff_threshold: float = 28.0  # colour difference from the empty tray (after removing a global light shift)
    min_area: float = 0.003  # a blob below this share of the frame is noise (crumbs, a shadow's rim)
    second_product: float = 0.15  # another blob at least this share of the largest one is a second product
    max_area: float = 0.6  # a blob over this share of the frame: the light or the camera changed
    new_view_diff: float = 18.0  # mean colour difference from every kept view that makes a view new
    margin: float = 0.04  # the box grows by this share of its size each side (as crop_box does)
    min_side: int = MIN_SIDE
    min_sharpness: float = MIN_SHARPNESS
    min_views: int = 5
    max_views: int = 12
    small_side: int = 160  # frames are compared for stillness at this width


DEFAULT_CONFIG = TrayEnrolConfig()


@dataclass(frozen=True)
class TrayView:
    """One settled view of the product: its crop (BGR, tray pixels around it), the product's mask over
    the crop (uint8, 255 = product) and its box in the frame."""

    crop: np.ndarray
    mask: np.ndarray
    box: Box
    sharpness: float

    def cutout(self) -> np.ndarray:
        """The crop as BGRA with the background removed (alpha 0 where the tray showed)."""
        return np.dstack([self.crop, self.mask])

    def png(self) -> bytes:
        """The view as the gallery stores it: a PNG of the crop with the background removal as alpha."""
        ok, buf = cv2.imencode(".png", self.cutout())
        if not ok:  # pragma: no cover - OpenCV encodes any BGRA uint8 image
            raise ValueError("could not encode the view as PNG")
        return buf.tobytes()

    def thumbnail(self, side: int = 160, quality: int = 85) -> bytes:
        """A JPEG for the approval screen: the product as seen, the removed background dimmed."""
        dim = (self.crop.astype(np.float32) * 0.35 + 255 * 0.65).astype(np.uint8)
        keep = self.mask[..., None] > 0
        shown = np.where(keep, self.crop, dim)
        h, w = shown.shape[:2]
        scale = side / max(h, w)
        if scale < 1:
            shown = cv2.resize(shown, (max(1, round(w * scale)), max(1, round(h * scale))),
                               interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", shown, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:  # pragma: no cover
            raise ValueError("could not encode the thumbnail")
        return buf.tobytes()


@dataclass(frozen=True)
class Refusal:
    """Why a settled frame gave no view; ``reason`` is shown to the person teaching."""

    reason: str

    @property
    def empty(self) -> bool:
        return self.reason == NO_PRODUCT


def difference(empty: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """Per-pixel colour difference (float32, 0..255) of ``frame`` from the ``empty`` tray, after a light
    blur (sensor noise) and with a global light shift removed (each channel's median difference, which
    is the tray's when the product covers less than half of the frame)."""
    a = cv2.GaussianBlur(normalise_frame(empty), (5, 5), 0).astype(np.float32)
    b = cv2.GaussianBlur(normalise_frame(frame), (5, 5), 0).astype(np.float32)
    if a.shape != b.shape:
        raise ValueError(f"the empty tray is {a.shape[1]}x{a.shape[0]} but the frame {b.shape[1]}x{b.shape[0]}")
    diff = b - a
    diff -= np.median(diff.reshape(-1, 3), axis=0)
    return np.abs(diff).max(axis=2)


def foreground_mask(empty: np.ndarray, frame: np.ndarray, config: TrayEnrolConfig = DEFAULT_CONFIG) -> np.ndarray:
    """uint8 mask (255 = differs from the empty tray), cleaned of speckle and with holes closed."""
    raw = np.where(difference(empty, frame) > config.diff_threshold, 255, 0).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    opened = cv2.morphologyEx(raw, cv2.MORPH_OPEN, kernel)
    return cv2.morphologyEx(opened, cv2.MORPH_CLOSE, kernel, iterations=2)


@dataclass(frozen=True)
class Blob:
    box: Box
    area: int
    mask: np.ndarray  # full-frame uint8 mask of this blob, holes filled


def product_blobs(mask: np.ndarray, config: TrayEnrolConfig = DEFAULT_CONFIG) -> list[Blob]:
    """The blobs of a foreground mask big enough to be a product, largest first."""
    h, w = mask.shape[:2]
    floor = config.min_area * h * w
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    blobs = []
    for contour in contours:
        filled = np.zeros((h, w), np.uint8)
        cv2.drawContours(filled, [contour], -1, 255, thickness=cv2.FILLED)
        area = int(np.count_nonzero(filled))
        if area < floor:
            continue
        x, y, bw, bh = cv2.boundingRect(contour)
        blobs.append(Blob((x, y, x + bw, y + bh), area, filled))
    return sorted(blobs, key=lambda b: -b.area)


def grow(box: Box, margin: float, width: int, height: int, min_side: int = 0) -> Box:
    """``box`` grown by ``margin`` of its size each side (as crop_box cuts), a side shorter than
    ``min_side`` widened about its centre to it (a thin product keeps some tray around it), clipped
    to the frame."""
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * margin, (y2 - y1) * margin
    mx, my = max(mx, (min_side - (x2 - x1)) / 2), max(my, (min_side - (y2 - y1)) / 2)
    return (max(0, round(x1 - mx)), max(0, round(y1 - my)), min(width, round(x2 + mx)), min(height, round(y2 + my)))


def cut_out(empty: np.ndarray, frame: np.ndarray, config: TrayEnrolConfig = DEFAULT_CONFIG) -> TrayView | Refusal:
    """The product on a settled ``frame``, cut out against the ``empty`` tray, or why there is none.

    Refused: no product; more than one product (or a product and something else of its size);
    the light or the camera changed (most of the frame differs); the product touching the frame's
    edge (partly outside the picture, or a hand still in it); a view too small or too blurred to
    enrol (the same rules as photos, ``vision.gallery.quality``)."""
    frame = normalise_frame(frame)
    h, w = frame.shape[:2]
    blobs = product_blobs(foreground_mask(empty, frame, config), config)
    if not blobs:
        return Refusal(NO_PRODUCT)
    largest = blobs[0]
    if largest.area > config.max_area * h * w:
        return Refusal("most of the tray looks different from the empty tray (the light or the camera moved): "
                       "clear the tray and start again")
    others = [b for b in blobs[1:] if b.area >= config.second_product * largest.area]
    if others:
        return Refusal(f"{len(others) + 1} things on the tray: put the product alone on the empty tray")
    x1, y1, x2, y2 = largest.box
    if x1 <= 0 or y1 <= 0 or x2 >= w or y2 >= h:
        return Refusal("the product touches the edge of the picture (or a hand is still in it): "
                       "put it in the middle of the tray and let go")
    if max(x2 - x1, y2 - y1) < config.min_side:
        return Refusal(f"the product is too small in the picture ({x2 - x1}x{y2 - y1} pixels, its long side "
                       f"at least {config.min_side}): enrol it from close-up photos on the catalogue page")
    gx1, gy1, gx2, gy2 = grow(largest.box, config.margin, w, h, config.min_side)
    crop = np.ascontiguousarray(frame[gy1:gy2, gx1:gx2])
    mask = np.ascontiguousarray(largest.mask[gy1:gy2, gx1:gx2])
    sharp = sharpness(crop)
    if sharp < config.min_sharpness:
        return Refusal(f"blurred: sharpness {sharp:.1f} is below {config.min_sharpness:g} "
                       "(keep the product still; is the camera in focus?)")
    return TrayView(crop, mask, (gx1, gy1, gx2, gy2), sharp)


def view_difference(a: TrayView, frame_a: np.ndarray, frame_b: np.ndarray, b: TrayView) -> float:
    """How different two views look: the mean colour difference of their two frames over the union of
    their boxes (0 when the product lies exactly as before)."""
    x1, y1 = min(a.box[0], b.box[0]), min(a.box[1], b.box[1])
    x2, y2 = max(a.box[2], b.box[2]), max(a.box[3], b.box[3])
    pa = frame_a[y1:y2, x1:x2].astype(np.float32)
    pb = frame_b[y1:y2, x1:x2].astype(np.float32)
    return float(np.abs(pa - pb).mean())


@dataclass(frozen=True)
class CollectorEvent:
    """What one settled frame did: ``kept`` a new view (its index), or was ``refused`` with a reason, or
    showed the same view again (``same_as``), or the empty tray (``empty``: the reference was renewed)."""

    kind: str  # kept | refused | same | empty
    index: int | None = None
    reason: str | None = None


class Stillness:
    """Counts how many frames in a row the tray has been still (a hand is not moving anything)."""

    def __init__(self, config: TrayEnrolConfig = DEFAULT_CONFIG) -> None:
        self.config = config
        self.count = 0
        self._previous: np.ndarray | None = None

    def _small(self, frame: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(normalise_frame(frame), cv2.COLOR_BGR2GRAY)
        h, w = grey.shape
        side = self.config.small_side
        return cv2.resize(grey, (side, max(1, round(h * side / w))), interpolation=cv2.INTER_AREA).astype(np.float32)

    def feed(self, frame: np.ndarray) -> int:
        """Take the next frame; returns the number of still frames in a row, this one included."""
        small = self._small(frame)
        previous, self._previous = self._previous, small
        if previous is None or previous.shape != small.shape:
            self.count = 1
            return self.count
        change = small - previous
        change -= float(np.median(change))  # the camera's exposure or the room's light, not a hand
        moved = float(np.mean(np.abs(change) > self.config.still_pixel))
        self.count = self.count + 1 if moved < self.config.still_share else 1
        return self.count

    def reset(self) -> None:
        self.count, self._previous = 0, None

    @property
    def settled(self) -> bool:
        return self.count >= self.config.still_frames


@dataclass
class ViewCollector:
    """Feeds on frames of one teaching session; keeps each distinct settled view of the product."""

    empty: np.ndarray
    config: TrayEnrolConfig = DEFAULT_CONFIG
    views: list[TrayView] = field(default_factory=list)
    last: CollectorEvent | None = None
    _frames: list[np.ndarray] = field(default_factory=list)  # the settled frame of each kept view
    _stillness: Stillness | None = None
    _judged: bool = False  # this still period was judged already

    def __post_init__(self) -> None:
        self.empty = normalise_frame(self.empty).copy()
        if self.config.still_frames < 1 or self.config.min_views < 1 or self.config.max_views < self.config.min_views:
            raise ValueError("still_frames and min_views must be >= 1 and max_views >= min_views")
        self._stillness = Stillness(self.config)

    @property
    def full(self) -> bool:
        return len(self.views) >= self.config.max_views

    @property
    def enough(self) -> bool:
        return len(self.views) >= self.config.min_views

    def feed(self, frame: np.ndarray, products_seen: int | None = None) -> CollectorEvent | None:
        """Take the next camera frame; returns what happened when it completed a still period.

        ``products_seen``: how many products the recogniser's finder sees on this frame, when known;
        more than one refuses the view (two products touching each other make one blob here)."""
        frame = normalise_frame(frame)
        assert self._stillness is not None
        if self._stillness.feed(frame) == 1:
            self._judged = False  # it moved: the next still period is judged anew
        if self._judged or not self._stillness.settled:
            return None
        self._judged = True
        self.last = self._judge(frame, products_seen)
        return self.last

    def _judge(self, frame: np.ndarray, products_seen: int | None) -> CollectorEvent:
        result = cut_out(self.empty, frame, self.config)
        if isinstance(result, Refusal):
            if result.empty:
                self.empty = frame.copy()  # the tray is empty again: the freshest reference
                return CollectorEvent("empty")
            return CollectorEvent("refused", reason=result.reason)
        if products_seen is not None and products_seen > 1:
            return CollectorEvent("refused", reason=f"the camera sees {products_seen} products on the tray: "
                                                    "put the product alone on the empty tray")
        if self.full:
            return CollectorEvent("refused", reason=f"{self.config.max_views} views are enough: approve them")
        for k, (view, seen) in enumerate(zip(self.views, self._frames, strict=True)):
            if view_difference(view, seen, frame, result) < self.config.new_view_diff:
                return CollectorEvent("same", index=k,
                                      reason=f"looks the same as view {k + 1}: turn the product over")
        self.views.append(result)
        self._frames.append(frame.copy())
        return CollectorEvent("kept", index=len(self.views) - 1)

    def drop(self, index: int) -> None:
        """Drop a kept view (a bad one the person teaching rejected)."""
        if not 0 <= index < len(self.views):
            raise IndexError(f"no view {index + 1} (there are {len(self.views)})")
        del self.views[index]
        del self._frames[index]
