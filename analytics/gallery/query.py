"""Reading the stores' galleries back: their versions, what is still missing, and exporting one.

An export is a folder a person or ``tillsight train`` can read without the hub::

    OUT/gallery.json            the tillsight.gallery/1 announcement of that version, as the device sent it
    OUT/photos/<sku>/<file>     every photo it lists (the same relative paths as on the device)
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, select

from analytics.gallery.tables import gallery_photos, gallery_versions
from contracts.gallery import GalleryAnnouncement

log = logging.getLogger(__name__)

EXPORT_MANIFEST = "gallery.json"


class GalleryNotFound(LookupError):
    """No such gallery version at the hub; the message says what there is."""


@dataclass(frozen=True)
class GalleryVersion:
    """One stored gallery version and how complete the hub's copy of it is."""

    store_id: str
    device_id: str
    version: int
    at: str
    embedder: str
    skus: int
    examples: int
    missing: int  # photos it lists that the hub does not have yet

    @property
    def complete(self) -> bool:
        return self.missing == 0


def _announcement(conn: Connection, store_id: str, device_id: str, version: int) -> GalleryAnnouncement:
    v = gallery_versions.c
    doc = conn.execute(select(v.announcement).where(v.store_id == store_id, v.device_id == device_id,
                                                    v.version == version)).scalar_one_or_none()
    if doc is None:
        raise GalleryNotFound(f"no gallery version {version} from {store_id}/{device_id} at the hub")
    return GalleryAnnouncement.from_payload(doc)


def _have(conn: Connection, store_id: str, hashes: set[str]) -> set[str]:
    p = gallery_photos.c
    have: set[str] = set()
    wanted = sorted(hashes)
    for start in range(0, len(wanted), 500):
        have.update(conn.execute(select(p.sha256).where(p.store_id == store_id,
                                                        p.sha256.in_(wanted[start:start + 500]))).scalars())
    return have


def missing_photos(conn: Connection, store_id: str, device_id: str, version: int) -> set[str]:
    """SHA-256 of every photo that version lists and the hub does not have."""
    ann = _announcement(conn, store_id, device_id, version)
    return ann.photo_hashes - _have(conn, store_id, ann.photo_hashes)


def list_versions(conn: Connection, store_id: str | None = None) -> list[GalleryVersion]:
    """Every stored gallery version (of one store, or all), newest first per device."""
    v = gallery_versions.c
    query = select(v.store_id, v.device_id, v.version, v.at, v.embedder, v.skus, v.examples)
    if store_id is not None:
        query = query.where(v.store_id == store_id)
    out = []
    for r in conn.execute(query.order_by(v.store_id, v.device_id, v.version.desc())).all():
        missing = len(missing_photos(conn, r.store_id, r.device_id, r.version))
        out.append(GalleryVersion(r.store_id, r.device_id, int(r.version), r.at, r.embedder, int(r.skus),
                                  int(r.examples), missing))
    return out


def latest_version(conn: Connection, store_id: str, device_id: str | None = None) -> GalleryVersion:
    """The newest complete version of a store's gallery (of one device, or of the store's newest
    announcement across its devices)."""
    found = [g for g in list_versions(conn, store_id) if device_id is None or g.device_id == device_id]
    complete = sorted((g for g in found if g.complete), key=lambda g: (g.at, g.version), reverse=True)
    if not complete:
        what = f"{store_id}/{device_id}" if device_id else store_id
        if found:
            raise GalleryNotFound(f"{what}: no complete gallery yet (version {found[0].version} still misses "
                                  f"{found[0].missing} photo(s))")
        raise GalleryNotFound(f"{what}: no gallery at the hub (has the device synced one?)")
    return complete[0]


def export_gallery(conn: Connection, store_id: str, device_id: str, version: int, out: Path) -> GalleryAnnouncement:
    """Write that version's announcement and photos under ``out`` (which must be empty or new)."""
    ann = _announcement(conn, store_id, device_id, version)
    missing = ann.photo_hashes - _have(conn, store_id, ann.photo_hashes)
    if missing:
        raise GalleryNotFound(f"gallery version {version} from {store_id}/{device_id} still misses {len(missing)} "
                              "photo(s) at the hub; export it once the device has sent them")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    p = gallery_photos.c
    for ex in ann.examples:
        data = conn.execute(select(p.data).where(p.store_id == store_id, p.sha256 == ex.sha256)).scalar_one()
        target = (out / ex.photo).resolve()
        if out.resolve() not in target.parents:
            raise ValueError(f"{ex.photo}: a photo path outside the export folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(bytes(data))
    tmp = out / f".{EXPORT_MANIFEST}.{os.getpid()}"
    tmp.write_text(json.dumps(ann.to_payload(), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, out / EXPORT_MANIFEST)
    log.info("exported gallery %s/%s v%d (%d photos) to %s", store_id, device_id, version, len(ann.examples), out)
    return ann
