"""Candidate gallery examples from cashiers' corrections, waiting for the owner's yes or no.

When a cashier tells the till what a camera-found item really is (picks an alternative, or rings up an
unknown or wrong line by barcode or search), the item's crop is kept here as a *candidate* example of
that SKU.  Nothing reaches the gallery until the owner approves it: :meth:`CandidateStore.approve` embeds
the crop and adds it to a :class:`~vision.gallery.store.Gallery` (which drops near-duplicates and keeps a
bounded, diverse set per SKU); :meth:`CandidateStore.reject` deletes it.

Layout (beside the gallery, not inside it, so the gallery folder stays exactly what is synced)::

    CANDIDATES/<id>.jpg    the crop
    CANDIDATES/<id>.json   sku, how (alternative | barcode | search), camera_said, at, tx_id, seq

The folder is bounded: at most ``per_sku`` candidates of one SKU and ``limit`` in all; past either,
the oldest go.  Files are written atomically (the JSON last), so a half-written candidate is never
listed.  Pure file I/O, numpy and OpenCV: the device's web app and tests use it alike.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from vision.gallery.manifest import write_atomic
from vision.gallery.quality import check_image
from vision.gallery.store import AddResult, EmbedderLike, Gallery, check_sku, utc_now

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 200
DEFAULT_PER_SKU = 12
JPEG_QUALITY = 92
HOWS = ("alternative", "barcode", "search")
_ID_RE = re.compile(r"^[0-9a-f]{16}$")


class CandidateError(Exception):
    """A candidate that cannot be used (gone, unreadable, refused by the photo checks); the message says why."""


@dataclass(frozen=True)
class Candidate:
    id: str
    sku: str
    how: str  # alternative | barcode | search
    camera_said: str | None  # what the camera said it was (None: an unknown item)
    at: str  # UTC, when the cashier made the correction
    tx_id: str  # the sale it came from
    seq: int  # order of arrival (ties in ``at`` broken by it)

    @property
    def photo(self) -> str:
        return f"{self.id}.jpg"


class CandidateStore:
    """The candidates folder.  Thread-safe within one process."""

    def __init__(self, folder: str | Path, limit: int = DEFAULT_LIMIT, per_sku: int = DEFAULT_PER_SKU) -> None:
        if limit < 1 or per_sku < 1:
            raise ValueError("limit and per_sku must be at least 1")
        self.folder = Path(folder)
        self.limit = limit
        self.per_sku = per_sku
        self._lock = threading.Lock()

    # -- reading ---------------------------------------------------------------------------------
    def pending(self, sku: str | None = None) -> list[Candidate]:
        """Every candidate (of ``sku``), newest first; an unreadable record is skipped with a warning."""
        out: list[Candidate] = []
        if not self.folder.is_dir():
            return out
        for path in self.folder.glob("*.json"):
            cand = self._read(path)
            if cand is not None and (sku is None or cand.sku == sku):
                out.append(cand)
        out.sort(key=lambda c: (c.at, c.seq), reverse=True)
        return out

    def get(self, candidate_id: str) -> Candidate:
        if not _ID_RE.match(candidate_id or ""):
            raise CandidateError(f"no candidate {candidate_id!r}")
        cand = self._read(self.folder / f"{candidate_id}.json")
        if cand is None:
            raise CandidateError(f"no candidate {candidate_id!r} (approved, rejected or dropped already)")
        return cand

    def photo_path(self, candidate_id: str) -> Path:
        return self.folder / self.get(candidate_id).photo

    def _read(self, path: Path) -> Candidate | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            cand = Candidate(id=str(data["id"]), sku=str(data["sku"]), how=str(data["how"]),
                             camera_said=data.get("camera_said"), at=str(data["at"]), tx_id=str(data.get("tx_id", "")),
                             seq=int(data.get("seq", 0)))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("candidate %s unreadable, skipped: %s", path, exc)
            return None
        if cand.id != path.stem or not (self.folder / cand.photo).is_file():
            return None
        return cand

    # -- changing --------------------------------------------------------------------------------
    def add(self, sku: str, crop: np.ndarray, how: str, camera_said: str | None, tx_id: str = "",
            at: str | None = None) -> Candidate:
        """Keep ``crop`` (BGR) as a candidate example of ``sku``; the oldest go past the bounds."""
        check_sku(sku)
        if how not in HOWS:
            raise ValueError(f"how must be one of {', '.join(HOWS)}")
        if crop is None or crop.ndim not in (2, 3) or crop.size == 0:
            raise CandidateError("empty crop")
        ok, jpg = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise CandidateError("the crop could not be encoded as JPEG")
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            existing = self.pending()
            seq = max((c.seq for c in existing), default=0) + 1
            cand = Candidate(uuid.uuid4().hex[:16], sku, how, camera_said, at or utc_now(), tx_id, seq)
            write_atomic(self.folder / cand.photo, jpg.tobytes())
            write_atomic(self.folder / f"{cand.id}.json", json.dumps(asdict(cand), sort_keys=True).encode())
            self._trim([cand, *existing])
        log.info("candidate %s: %s by %s (camera said %s)", cand.id, sku, how, camera_said or "unknown")
        return cand

    def _trim(self, newest_first: list[Candidate]) -> None:
        kept: list[Candidate] = []
        per: dict[str, int] = {}
        for cand in newest_first:
            per[cand.sku] = per.get(cand.sku, 0) + 1
            if per[cand.sku] > self.per_sku or len(kept) >= self.limit:
                self._delete(cand.id)
            else:
                kept.append(cand)

    def _delete(self, candidate_id: str) -> None:
        (self.folder / f"{candidate_id}.json").unlink(missing_ok=True)  # the record first: never listed half
        (self.folder / f"{candidate_id}.jpg").unlink(missing_ok=True)

    def reject(self, candidate_id: str) -> Candidate:
        """Drop a candidate (the crop was wrong, blurred, a hand...)."""
        with self._lock:
            cand = self.get(candidate_id)
            self._delete(cand.id)
        log.info("candidate %s (%s) rejected", cand.id, cand.sku)
        return cand

    def approve(self, candidate_id: str, gallery: Gallery, embedder: EmbedderLike) -> AddResult:
        """Embed the candidate's crop and add it to ``gallery`` as an example of its SKU (the caller
        saves the gallery); the candidate leaves the folder either way, unless its photo is refused
        by the photo checks (too small, blurred), which raises :class:`CandidateError` with the reason."""
        with self._lock:
            cand = self.get(candidate_id)
            path = self.folder / cand.photo
            data = path.read_bytes()
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
            check = check_image(path, image)
            if not check.ok or check.image is None:
                raise CandidateError(f"{cand.sku}: this crop cannot be an example: {check.reason}; reject it")
            vector = embedder.embed([check.image])[0]
            result = gallery.add_photo(cand.sku, data, ".jpg", vector, source="correction")
            self._delete(cand.id)
        log.info("candidate %s approved as %s: %s", cand.id, cand.sku, "kept" if result.kept else result.reason)
        return result
