"""The hub's copy of a store gallery, on SQLite and PostgreSQL: versions and photos stored once however
often they arrive, an announcement that came before its photos is incomplete until they are here, a
photo whose bytes do not match its SHA-256 is dead-lettered naming the field, and a complete version
exports to a folder of photos."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from analytics.db import migrate
from analytics.gallery.query import EXPORT_MANIFEST, GalleryNotFound, export_gallery, latest_version, list_versions
from analytics.ingest.parse import Parsed, Rejected, parse
from analytics.ingest.store import apply_batch
from contracts.gallery import GalleryAnnouncement, GalleryExample, GalleryPhoto
from tests.analytics.test_db import NOW, engine  # noqa: F401 - the sqlite/postgresql fixture
from tests.vision.test_gallery import ThumbEmbedder, write_photos
from vision.gallery.enrol import enrol_folder
from vision.gallery.manifest import read_manifest

PREFIX = "tillsight/v1"


@pytest.fixture
def hubdb(engine: Engine) -> Engine:  # noqa: F811 - the parametrised fixture
    migrate(engine)
    return engine


def device_messages(gallery: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """What the device's sync sends for its gallery: every photo, then the announcement (the real writers)."""
    m = read_manifest(gallery)
    photos = [GalleryPhoto("s-001", "till-1", sku, ex.photo, (gallery / ex.photo).read_bytes()).to_payload()
              for sku, ex in m.rows()]
    ann = GalleryAnnouncement("s-001", "till-1", "2026-12-07T12:00:00Z", m.version, m.updated, m.embedder,
                              m.embedding_dim, tuple(GalleryExample(sku, e.photo, e.sha256, e.added, e.source)
                                                     for sku, e in m.rows()), m.names).to_payload()
    return photos, ann


def _parse(leaf: str, doc: dict[str, Any]) -> Parsed | Rejected:
    return parse(f"{PREFIX}/s-001/till-1/{leaf}", json.dumps(doc).encode(), PREFIX)


def _store(db: Engine, *messages: tuple[str, dict[str, Any]]) -> list[str]:
    parsed = [_parse(leaf, doc) for leaf, doc in messages]
    assert all(isinstance(p, Parsed) for p in parsed), parsed
    with db.begin() as conn:
        return [a.outcome for a in apply_batch(conn, parsed, NOW)]  # type: ignore[arg-type]


def test_a_gallery_is_stored_once_complete_only_with_its_photos_and_exports(hubdb: Engine, tmp_path: Path) -> None:
    gallery = tmp_path / "gallery"
    enrol_folder(write_photos(tmp_path / "photos", {"RICE-5LB": 1, "BEAN-RED": 2}, per_sku=2), gallery,
                 ThumbEmbedder())
    photos, ann = device_messages(gallery)
    # The announcement overtook one photo (several workers): stored, but incomplete.
    assert _store(hubdb, *[("gallery_photo", p) for p in photos[1:]], ("gallery", ann)) == ["stored"] * len(photos)
    with hubdb.connect() as conn:
        assert [g.missing for g in list_versions(conn, "s-001")] == [1]
        with pytest.raises(GalleryNotFound, match="misses 1 photo"):
            latest_version(conn, "s-001")
    # The last photo, and everything again: only the photo is new.
    outcomes = _store(hubdb, ("gallery_photo", photos[0]), *[("gallery_photo", p) for p in photos], ("gallery", ann))
    assert outcomes == ["stored"] + ["duplicate"] * (len(photos) + 1)
    with hubdb.connect() as conn:
        latest = latest_version(conn, "s-001")
        assert latest.complete and latest.skus == 2 and latest.examples == len(photos)
        out = tmp_path / "export"
        export_gallery(conn, "s-001", "till-1", latest.version, out)
    exported = GalleryAnnouncement.from_payload(json.loads((out / EXPORT_MANIFEST).read_text()))
    for ex in exported.examples:
        assert (out / ex.photo).read_bytes() == (gallery / ex.photo).read_bytes()


def test_a_photo_damaged_in_transit_is_dead_lettered_naming_the_field(tmp_path: Path) -> None:
    gallery = tmp_path / "gallery"
    enrol_folder(write_photos(tmp_path / "photos", {"RICE-5LB": 1}, per_sku=1), gallery, ThumbEmbedder())
    photo = device_messages(gallery)[0][0]
    other = GalleryPhoto("s-001", "till-1", "RICE-5LB", photo["photo"], b"other bytes").to_payload()
    photo["data"] = other["data"]
    got = _parse("gallery_photo", photo)
    assert isinstance(got, Rejected) and "sha256" in got.reason
    photo["sku"] = ""
    got = _parse("gallery_photo", photo)
    assert isinstance(got, Rejected) and "sku" in got.reason


def test_the_hub_gallery_command_lists_and_exports_the_newest_complete_version(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from analytics.db import make_engine
    from tillsight_cli.main import main

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    db = make_engine(url)
    migrate(db)
    gallery = tmp_path / "gallery"
    enrol_folder(write_photos(tmp_path / "photos", {"RICE-5LB": 1}, per_sku=2), gallery, ThumbEmbedder())
    photos, ann = device_messages(gallery)
    _store(db, *[("gallery_photo", p) for p in photos], ("gallery", ann))
    db.dispose()
    assert main(["hub", "gallery", "list", "--database-url", url]) == 0
    assert "s-001/till-1 v1" in capsys.readouterr().out
    assert main(["hub", "gallery", "export", "--store", "s-001", "--out", str(tmp_path / "out"),
                 "--database-url", url]) == 0
    from training.gallery import gallery_photos

    assert {sku: len(v) for sku, v in gallery_photos(tmp_path / "out").items()} == {"RICE-5LB": 2}  # train reads it
    assert main(["hub", "gallery", "export", "--store", "s-404", "--out", str(tmp_path / "none"),
                 "--database-url", url]) == 2
    assert "no gallery at the hub" in capsys.readouterr().err
