"""Packing a catalogue gallery for the fleet (``tillsight hub fleet publish --gallery``): checked as the
device will check it, packed deterministically, and a damaged gallery refused naming the file."""

from __future__ import annotations

import tarfile
from io import BytesIO
from pathlib import Path

import pytest

from analytics.fleet.artifacts import pack_gallery
from analytics.fleet.errors import FleetError
from tests.vision.test_gallery import ThumbEmbedder, write_photos
from vision.gallery.enrol import enrol_folder
from vision.gallery.manifest import read_manifest


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    enrol_folder(write_photos(tmp_path / "photos", {"MILK-1L": 3, "SODA-600": 4}, per_sku=2), tmp_path / "gallery",
                 ThumbEmbedder())
    return tmp_path / "gallery"


def test_a_gallery_packs_the_same_bytes_every_time_with_only_what_its_manifest_lists(catalogue: Path) -> None:
    (catalogue / "photos" / "MILK-1L" / "stray.png").write_bytes(b"not listed")
    first, second = pack_gallery(catalogue), pack_gallery(catalogue)
    assert first.data == second.data and first.kind == "gallery" and first.format == "tar.gz"
    assert "2 SKUs" in first.name and "thumb-test" in first.name
    with tarfile.open(fileobj=BytesIO(first.data), mode="r:gz") as tar:
        names = set(tar.getnames())
    listed = {ex.photo for _, ex in read_manifest(catalogue).rows()}
    assert names == {"manifest.json", "embeddings.npy"} | listed


def test_a_damaged_or_foreign_folder_is_refused_naming_the_file(catalogue: Path, tmp_path: Path) -> None:
    photo = catalogue / next(ex.photo for _, ex in read_manifest(catalogue).rows())
    photo.write_bytes(photo.read_bytes()[:-10])
    with pytest.raises(FleetError, match=photo.name):
        pack_gallery(catalogue)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FleetError, match="not a gallery"):
        pack_gallery(tmp_path / "empty")
