"""Hub tables of the stores' galleries (SQLAlchemy Core, the ingest tables' ``metadata``)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, LargeBinary, PrimaryKeyConstraint, String, Table

from analytics.db.tables import metadata

# One row per gallery version a device announced (tillsight.gallery/1); the announcement as sent.
gallery_versions = Table(
    "gallery_versions", metadata,
    Column("store_id", String(32), nullable=False),
    Column("device_id", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("at", String(32), nullable=False),  # when the device announced it (UTC ...Z)
    Column("embedder", String(200), nullable=False),  # "name sha256[:12]": which network made the gallery
    Column("skus", Integer, nullable=False),
    Column("examples", Integer, nullable=False),
    Column("announcement", JSON, nullable=False),
    Column("received_at", String(32), nullable=False),
    PrimaryKeyConstraint("store_id", "device_id", "version"),
)

# A store's enrolment photos by content (tillsight.gallery_photo/1); shared by its devices and versions.
gallery_photos = Table(
    "gallery_photos", metadata,
    Column("store_id", String(32), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("sku", String(80), nullable=False),
    Column("photo", String(200), nullable=False),  # its path in the device's gallery folder
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("device_id", String(32), nullable=False),  # the device that sent it first
    Column("received_at", String(32), nullable=False),
    PrimaryKeyConstraint("store_id", "sha256"),
    Index("gallery_photos_sku", "store_id", "sku"),
)

GALLERY_TABLES = (gallery_versions, gallery_photos)
