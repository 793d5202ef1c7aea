"""Storing ``tillsight.gallery/1`` and ``tillsight.gallery_photo/1`` inside the ingest's transaction.

Both are idempotent: a photo is keyed by (store, SHA-256), an announcement by (store, device,
version), and ``INSERT ... ON CONFLICT DO NOTHING`` makes a replay a ``duplicate`` on SQLite and
PostgreSQL alike.  An announcement may arrive before some of its photos (several ingest workers,
a reconnect): it is stored anyway, and :func:`analytics.gallery.query.missing_photos` says what is
still to come.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from analytics.gallery.tables import gallery_photos, gallery_versions
from contracts.gallery import GalleryAnnouncement, GalleryPhoto


def _insert_ignore(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    key = next(iter(table.primary_key.columns))
    return bool(conn.execute(dialect.insert(table).values(**values).on_conflict_do_nothing().returning(key)).all())


def store_announcement(conn: Connection, store_id: str, device_id: str, doc: dict[str, Any], now: str) -> str:
    """Store one announced gallery version; ``"stored"`` or ``"duplicate"``."""
    ann = GalleryAnnouncement.from_payload(doc)
    embedder = f"{ann.embedder.get('name', '?')} {ann.embedder.get('sha256', '?')[:12]}"
    inserted = _insert_ignore(conn, gallery_versions, {
        "store_id": store_id, "device_id": device_id, "version": ann.version, "at": ann.at,
        "embedder": embedder[:200], "skus": len(ann.skus), "examples": len(ann.examples), "announcement": doc,
        "received_at": now})
    return "stored" if inserted else "duplicate"


def store_photo(conn: Connection, store_id: str, device_id: str, doc: dict[str, Any], now: str) -> str:
    """Store one photo (its SHA-256 checked against its bytes); ``"stored"`` or ``"duplicate"``."""
    photo = GalleryPhoto.from_payload(doc)
    inserted = _insert_ignore(conn, gallery_photos, {
        "store_id": store_id, "sha256": photo.sha256, "sku": photo.sku, "photo": photo.photo,
        "size": len(photo.data), "data": photo.data, "device_id": device_id, "received_at": now})
    return "stored" if inserted else "duplicate"
