"""Candidate gallery examples from cashiers' corrections: bounded per SKU and in all, approval adds the
crop to the gallery (and the saved gallery matches it), rejection drops it, bad crops are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.vision.test_gallery import ThumbEmbedder, product_photo
from vision.gallery import Gallery
from vision.gallery.candidates import CandidateError, CandidateStore


def test_a_correction_is_kept_as_a_candidate_with_its_story(tmp_path: Path) -> None:
    store = CandidateStore(tmp_path / "candidates")
    cand = store.add("RICE-LG-5LB", product_photo(1), "barcode", None, tx_id="tx-1", at="2026-12-07T12:00:00Z")
    [listed] = store.pending()
    assert listed == cand
    assert (listed.sku, listed.how, listed.camera_said, listed.tx_id) == ("RICE-LG-5LB", "barcode", None, "tx-1")
    assert store.photo_path(cand.id).is_file()


def test_the_folder_is_bounded_per_sku_and_in_all_oldest_first_out(tmp_path: Path) -> None:
    store = CandidateStore(tmp_path / "candidates", limit=5, per_sku=3)
    first = [store.add("A", product_photo(1, j), "alternative", "B", at=f"2026-12-07T12:00:0{j}Z") for j in range(4)]
    assert [c.id for c in store.pending("A")] == [c.id for c in reversed(first[1:])]  # the oldest A went
    for j in range(4):
        store.add("B", product_photo(2, j), "search", "A", at=f"2026-12-07T12:01:0{j}Z")
    kept = store.pending()
    assert len(kept) == 5
    assert [c.sku for c in kept] == ["B", "B", "B", "A", "A"]  # B kept its newest 3, A lost its oldest
    assert len(list((tmp_path / "candidates").glob("*.jpg"))) == 5  # the dropped crops are gone too


def test_approve_adds_the_crop_to_the_gallery_and_reject_drops_it(tmp_path: Path) -> None:
    embedder = ThumbEmbedder()
    gallery = Gallery.create(tmp_path / "gallery", embedder)
    store = CandidateStore(tmp_path / "candidates")
    good = store.add("SODA-KOLA-600", product_photo(7), "alternative", "SODA-COLA-600")
    bad = store.add("SODA-KOLA-600", product_photo(9), "barcode", None)

    result = store.approve(good.id, gallery, embedder)
    assert result.kept
    gallery.save()
    reloaded = Gallery.load(tmp_path / "gallery", embedder)
    assert reloaded.skus == ["SODA-KOLA-600"]
    assert reloaded.manifest.skus["SODA-KOLA-600"][0].source == "correction"
    match = reloaded.matcher().identify(embedder.embed([product_photo(7, 1)]))[0]
    assert match.sku == "SODA-KOLA-600"

    store.reject(bad.id)
    assert store.pending() == []
    with pytest.raises(CandidateError):
        store.approve(bad.id, gallery, embedder)  # gone: approved or rejected once only
    assert len(gallery.rows_of("SODA-KOLA-600")) == 1


def test_a_blurred_crop_is_refused_with_the_reason_and_stays_for_rejection(tmp_path: Path) -> None:
    embedder = ThumbEmbedder()
    gallery = Gallery.create(tmp_path / "gallery", embedder)
    store = CandidateStore(tmp_path / "candidates")
    flat = store.add("SUGAR-2LB", np.full((120, 120, 3), 128, np.uint8), "search", None)
    with pytest.raises(CandidateError, match="blurred"):
        store.approve(flat.id, gallery, embedder)
    assert gallery.skus == [] and [c.id for c in store.pending()] == [flat.id]


def test_ids_are_checked_and_half_written_candidates_are_not_listed(tmp_path: Path) -> None:
    store = CandidateStore(tmp_path / "candidates")
    cand = store.add("A", product_photo(3), "barcode", None)
    (tmp_path / "candidates" / cand.photo).unlink()  # a crash between the two files
    assert store.pending() == []
    for bad in ("../store", "", "x" * 16):
        with pytest.raises(CandidateError):
            store.get(bad)
