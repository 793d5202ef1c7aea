"""``GallerySync``: sends the store's gallery to the hub over the sync agent's MQTT connection.

The gallery (``{data_dir}/gallery``, ``vision/gallery/``) changes whenever a product is taught or a
correction approved, and its manifest's version grows each time.  When the version on disk is above
the last one the hub has, this sends, QoS 1 (``contracts.gallery``):

1. every photo of that version the hub has not had yet, one ``tillsight.gallery_photo/1`` each,
   a few at a time and only while no sale is in flight (sales always go first);
2. then one ``tillsight.gallery/1`` announcement listing every example by SHA-256.

A message counts as delivered on the broker's PUBACK, as outbox rows do (a PUBACK saying "no
matching subscribers" is not delivery: it is tried again).  What was delivered is kept in
``{data_dir}/sync/gallery.json`` (the last announced version and the photos delivered), so a restart
or a lost connection resumes where it stopped and a photo is never sent twice once delivered.  The
hub stores both idempotently (photos by SHA-256, versions by number), so a resend is harmless.

A photo over ``contracts.gallery.MAX_PHOTO_BYTES``, missing, or no longer matching its SHA-256 is
left out of the announcement with a warning; a corrupt gallery is logged (by file name) and retried
at the next change, never raised into the sync agent.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from contracts import ContractError
from contracts.gallery import MAX_ANNOUNCEMENT_BYTES, MAX_PHOTO_BYTES, GalleryAnnouncement, GalleryExample, GalleryPhoto
from contracts.timestamps import utc_now_text
from contracts.topics import DeviceTopics
from edge.fleet.files import write_json_atomic
from vision.gallery.manifest import GalleryError, GalleryManifest, read_manifest

log = logging.getLogger(__name__)

NO_MATCHING_SUBSCRIBERS = 0x10
CHECK_EVERY_S = 2.0
RETRY_AFTER_S = 2.0
WINDOW = 4  # photos in flight at once


class Publisher(Protocol):
    """What the sync agent's paho client gives (``publish`` returning an info with ``rc`` and ``mid``)."""

    def publish(self, topic: str, payload: bytes, qos: int = ..., retain: bool = ...) -> Any: ...


@dataclass
class SyncState:
    """What the hub has: the last gallery version announced, and the photos delivered (by SHA-256)."""

    announced: int = 0
    photos: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path) -> SyncState:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return cls(int(doc.get("announced", 0)), {str(s) for s in doc.get("photos", [])})
        except FileNotFoundError:
            return cls()
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("%s: unreadable gallery sync state (%s); sending the gallery again", path, exc)
            return cls()

    def save(self, path: Path) -> None:
        write_json_atomic(path, {"announced": self.announced, "photos": sorted(self.photos)})


class GallerySync:
    def __init__(self, folder: Path, state_path: Path, topics: DeviceTopics, window: int = WINDOW,
                 check_every_s: float = CHECK_EVERY_S) -> None:
        self.folder = folder
        self.state_path = state_path
        self.topics = topics
        self.window = window
        self.check_every_s = check_every_s
        self.state = SyncState.load(state_path)
        self._inflight: dict[int, str] = {}  # mid -> photo sha256, or "" for the announcement
        self._announcing: int | None = None  # the version whose announcement is in flight
        self._left_out: dict[str, str] = {}  # sha256 -> why that photo is not sent (this version)
        self._manifest: GalleryManifest | None = None
        self._next_check = 0.0
        self._hold_until = 0.0
        self._last_error = ""
        self._reconnected = False

    # -- called by the sync agent ---------------------------------------------------------------
    def on_connected(self) -> None:
        """A new connection (paho's thread): whatever was in flight is sent again at the next tick
        (its mids belonged to the old connection)."""
        self._reconnected = True

    def on_ack(self, mid: int, code: int) -> bool:
        """A PUBACK; True if it was one of ours."""
        sha = self._inflight.pop(mid, None)
        if sha is None:
            return False
        if code == NO_MATCHING_SUBSCRIBERS or code >= 0x80:
            self._hold_until = time.monotonic() + RETRY_AFTER_S
            if sha == "":
                self._announcing = None
            return True
        if sha == "":
            if self._announcing is not None:
                self.state.announced = self._announcing
                log.info("gallery version %d announced to the hub (%d photos delivered)", self._announcing,
                         len(self.state.photos))
            self._announcing = None
        else:
            self.state.photos.add(sha)
        self.state.save(self.state_path)
        return True

    def tick(self, client: Publisher, busy: bool = False) -> None:
        """Send what is due; ``busy`` (sales in flight) holds new gallery messages back."""
        if self._reconnected:
            self._reconnected = False
            self._inflight.clear()
            self._announcing = None
            self._next_check = 0.0
        now = time.monotonic()
        if busy or now < self._hold_until:
            return
        if self._manifest is None or now >= self._next_check:
            self._next_check = now + self.check_every_s
            self._manifest = self._read()
        m = self._manifest
        if m is None or m.version <= self.state.announced or self._announcing is not None:
            return
        pending = [(sku, ex) for sku, ex in m.rows()
                   if ex.sha256 not in self.state.photos and ex.sha256 not in self._left_out
                   and ex.sha256 not in self._inflight.values()]
        for sku, ex in pending[:max(0, self.window - len(self._inflight))]:
            self._send_photo(client, sku, ex.photo, ex.sha256)
        if not pending and not self._inflight:
            self._announce(client, m)

    # -- sending --------------------------------------------------------------------------------
    def _read(self) -> GalleryManifest | None:
        if not (self.folder / "manifest.json").exists():
            return None
        try:
            m = read_manifest(self.folder)
        except GalleryError as exc:
            if str(exc) != self._last_error:
                log.warning("gallery not synced: %s", exc)
                self._last_error = str(exc)
            return None
        if self._manifest is None or m.version != self._manifest.version:
            self._left_out = {}
        self._last_error = ""
        return m

    def _send_photo(self, client: Publisher, sku: str, rel: str, sha: str) -> None:
        path = self.folder / rel
        try:
            data = path.read_bytes()
        except OSError as exc:
            self._leave_out(sha, f"{path}: cannot read ({exc.strerror or exc})")
            return
        if len(data) > MAX_PHOTO_BYTES:
            self._leave_out(sha, f"{path}: {len(data)} bytes, over the {MAX_PHOTO_BYTES} a synced photo may have")
            return
        photo = GalleryPhoto(self.topics.store_id, self.topics.device_id, sku, rel, data)
        if photo.sha256 != sha:
            self._leave_out(sha, f"{path}: no longer matches the SHA-256 in the gallery manifest")
            return
        try:
            payload = json.dumps(photo.to_payload(), separators=(",", ":")).encode()
        except ContractError as exc:
            self._leave_out(sha, f"{path}: {exc}")
            return
        info = client.publish(self.topics.gallery_photo, payload, qos=1)
        if info.rc == 0:
            self._inflight[info.mid] = sha

    def _leave_out(self, sha: str, reason: str) -> None:
        log.warning("gallery photo not synced: %s", reason)
        self._left_out[sha] = reason

    def _announce(self, client: Publisher, m: GalleryManifest) -> None:
        examples = tuple(GalleryExample(sku, ex.photo, ex.sha256, ex.added, ex.source) for sku, ex in m.rows()
                         if ex.sha256 not in self._left_out)
        ann = GalleryAnnouncement(self.topics.store_id, self.topics.device_id, utc_now_text(), m.version, m.updated,
                                  dict(m.embedder), m.embedding_dim, examples, dict(m.names))
        try:
            payload = json.dumps(ann.to_payload(), separators=(",", ":")).encode()
            if len(payload) > MAX_ANNOUNCEMENT_BYTES:
                raise ContractError(f"{len(payload)} bytes, over the {MAX_ANNOUNCEMENT_BYTES} an announcement may have")
        except ContractError as exc:
            log.error("gallery version %d cannot be announced: %s", m.version, exc)
            self.state.announced = m.version  # never retried in a loop; the next version tries again
            self.state.save(self.state_path)
            return
        info = client.publish(self.topics.gallery, payload, qos=1)
        if info.rc == 0:
            self._inflight[info.mid] = ""
            self._announcing = m.version
        # the delivered set keeps only what the newest version still lists, so it stays bounded
        self.state.photos &= {ex.sha256 for _, ex in m.rows()}

    # -- for status pages and tests -------------------------------------------------------------
    def left_out(self) -> dict[str, str]:
        return dict(self._left_out)
