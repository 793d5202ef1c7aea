"""Tracker and basket stabiliser: from per-frame detections to a settled basket with add/remove events.

Each detection is tied to a track by box overlap.  A track becomes a basket item once it has been
seen in ``settle_frames`` consecutive inferred frames, and leaves the basket after it has been
missing for ``settle_frames`` frames; each costs one event (``add`` / ``remove``) with the SKU's
confidence and the top alternatives.  The SKU of a track is a recency-weighted vote over its
frames, so one misread frame does not change a line; a lasting change of mind is a remove plus an
add.  The basket is *settled* when every track on the tray is confirmed and none is missing.

An *unknown item* (a found product the gallery does not know: ``Detection.known`` False) is a track
like any other: it votes for "unknown", settles, and is an item with ``sku`` None, ``known`` False
and the closest SKUs as its alternatives, so the checkout can ask for a barcode instead of silently
charging a wrong SKU or dropping it.  It is kept whatever its match score (the finder found it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from vision.detector import Box, Detection

UNKNOWN = "\x00unknown"  # the vote of an unknown item (never a SKU: SKUs are printable)


@dataclass(frozen=True)
class BasketItem:
    track_id: int
    sku: str | None  # None: an unknown item
    confidence: float
    box: Box
    alternatives: tuple[tuple[str, float], ...]
    source: str
    known: bool = True


@dataclass(frozen=True)
class BasketEvent:
    kind: str  # add | remove
    track_id: int
    sku: str | None  # None: an unknown item
    confidence: float
    alternatives: tuple[tuple[str, float], ...]
    at: float  # the frame timestamp
    known: bool = True


@dataclass(frozen=True)
class BasketSnapshot:
    items: tuple[BasketItem, ...]
    settled: bool
    events: tuple[BasketEvent, ...]  # produced by this update
    frame_index: int

    @property
    def counts(self) -> dict[str, int]:
        """SKU -> count of the known items."""
        return dict(Counter(i.sku for i in self.items if i.sku is not None))

    @property
    def unknown(self) -> tuple[BasketItem, ...]:
        """The unknown items (found, but matching nothing in the gallery well)."""
        return tuple(i for i in self.items if not i.known)


@dataclass
class _Track:
    track_id: int
    box: Box
    source: str
    votes: dict[str, float] = field(default_factory=dict)
    last_conf: dict[str, float] = field(default_factory=dict)
    alternatives: tuple[tuple[str, float], ...] = ()
    hits: int = 0
    misses: int = 0
    confirmed: bool = False
    reported_sku: str | None = None

    def vote(self, det: Detection, decay: float) -> None:
        for k in self.votes:
            self.votes[k] *= decay
        key = vote_key(det)
        # an unknown item's vote counts at least a little, whatever its (weak) best match scored
        self.votes[key] = self.votes.get(key, 0.0) + (det.confidence if det.known else max(det.confidence, 0.5))
        self.last_conf[key] = det.confidence
        if det.known:
            for sku, score in det.alternatives:
                self.votes[sku] = self.votes.get(sku, 0.0) + 0.25 * score
        else:
            self.alternatives = det.alternatives  # the closest SKUs, for the cashier to pick from
        self.box = det.box
        self.source = det.source

    @property
    def sku(self) -> str:
        return max(self.votes.items(), key=lambda kv: kv[1])[0]

    def confidence(self) -> float:
        return self.last_conf.get(self.sku, 0.0)

    def ranked_alternatives(self, n: int) -> tuple[tuple[str, float], ...]:
        if self.sku == UNKNOWN:
            return tuple((k, round(v, 3)) for k, v in self.alternatives[:n])
        total = sum(self.votes.values()) or 1.0
        ranked = sorted(((k, v / total) for k, v in self.votes.items() if k not in (self.sku, UNKNOWN)),
                        key=lambda kv: -kv[1])
        return tuple((k, round(v, 3)) for k, v in ranked[:n])


def vote_key(det: Detection) -> str:
    """What a detection votes for: its SKU, or :data:`UNKNOWN`."""
    return det.sku if det.known and det.sku is not None else UNKNOWN


def _sku(key: str | None) -> str | None:
    return None if key == UNKNOWN else key


def _iou(a: Box, b: Box) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class BasketStabiliser:
    def __init__(self, settle_frames: int = 3, min_confidence: float = 0.35, iou_match: float = 0.3,
                 alternatives: int = 3, vote_decay: float = 0.7):
        if settle_frames < 1:
            raise ValueError("settle_frames must be at least 1")
        self.settle_frames = settle_frames
        self.min_confidence = min_confidence
        self.iou_match = iou_match
        self.n_alternatives = alternatives
        self.vote_decay = vote_decay
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._frame_index = 0

    def reset(self) -> None:
        self._tracks.clear()

    def _match(self, dets: list[Detection]) -> tuple[list[tuple[int, int]], list[int], list[int]]:
        if not self._tracks or not dets:
            return [], list(range(len(self._tracks))), list(range(len(dets)))
        scores = np.array([[_iou(t.box, d.box) + (0.05 if t.sku == vote_key(d) else 0.0) for d in dets]
                           for t in self._tracks])
        pairs = []
        used_t, used_d = set(), set()
        for flat in np.argsort(-scores, axis=None):
            ti, di = divmod(int(flat), len(dets))
            if scores[ti, di] < self.iou_match:
                break
            if ti in used_t or di in used_d:
                continue
            pairs.append((ti, di))
            used_t.add(ti)
            used_d.add(di)
        return (pairs, [i for i in range(len(self._tracks)) if i not in used_t],
                [j for j in range(len(dets)) if j not in used_d])

    def update(self, detections: list[Detection], at: float) -> BasketSnapshot:
        """Feed one inferred frame's detections; returns the basket and the events this frame caused."""
        self._frame_index += 1
        dets = [d for d in detections if d.confidence >= self.min_confidence or not d.known]
        pairs, lost, new = self._match(dets)
        events: list[BasketEvent] = []
        for ti, di in pairs:
            t = self._tracks[ti]
            t.vote(dets[di], self.vote_decay)
            t.hits += 1
            t.misses = 0
        for di in new:
            t = _Track(self._next_id, dets[di].box, dets[di].source)
            self._next_id += 1
            t.vote(dets[di], self.vote_decay)
            t.hits = 1
            self._tracks.append(t)
        survivors = []
        for idx, t in enumerate(self._tracks):
            if idx in lost:
                t.misses += 1
                t.hits = 0
                if not t.confirmed:
                    continue  # a flicker never reached the basket
                if t.misses >= self.settle_frames:
                    key = t.reported_sku or t.sku
                    events.append(BasketEvent("remove", t.track_id, _sku(key), t.confidence(), (), at,
                                              key != UNKNOWN))
                    continue
            survivors.append(t)
        self._tracks = survivors
        for t in self._tracks:
            if not t.confirmed and t.hits >= self.settle_frames:
                t.confirmed = True
                t.reported_sku = t.sku
                events.append(BasketEvent("add", t.track_id, _sku(t.sku), t.confidence(),
                                          t.ranked_alternatives(self.n_alternatives), at, t.sku != UNKNOWN))
            elif t.confirmed and t.misses == 0 and t.sku != t.reported_sku:
                old = t.reported_sku or ""
                events.append(BasketEvent("remove", t.track_id, _sku(old), 0.0, (), at, old != UNKNOWN))
                t.reported_sku = t.sku
                events.append(BasketEvent("add", t.track_id, _sku(t.sku), t.confidence(),
                                          t.ranked_alternatives(self.n_alternatives), at, t.sku != UNKNOWN))
        return self.snapshot(tuple(events))

    def snapshot(self, events: tuple[BasketEvent, ...] = ()) -> BasketSnapshot:
        items = tuple(
            BasketItem(t.track_id, _sku(t.reported_sku or t.sku), round(t.confidence(), 4), t.box,
                       t.ranked_alternatives(self.n_alternatives), t.source, (t.reported_sku or t.sku) != UNKNOWN)
            for t in self._tracks if t.confirmed)
        settled = all(t.confirmed and t.misses == 0 for t in self._tracks)
        return BasketSnapshot(items, settled, events, self._frame_index)
