"""Training reads store galleries: their photos become cut-outs that the dataset renders, a hub export
reads like a device gallery, and a new model is compared with the running one on the store's own
enrolment photos, a worse one being refused at publication unless forced.  Tiny and CPU-cheap: the
demo bundle, a few demo-catalogue photos, a stand-in embedder for the gallery."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from analytics.fleet.errors import FleetError
from analytics.fleet.operations import check_gallery_gate
from tests.vision.test_gallery import ThumbEmbedder
from training.dataset import DatasetSpec, build_dataset
from training.gallery import CHECK_KEY, compare_on_gallery, gallery_photos, merged_cutouts, record_check
from vision.catalogue import demo_catalogue
from vision.cutouts import CutoutLibrary, export_cutouts
from vision.gallery.enrol import enrol_folder
from vision.gallery.manifest import GalleryError

SKUS = ("RICE-LG-2LB", "RICE-PAR-5LB", "BEAN-RED-1LB")


def catalogue_photos(folder: Path) -> Path:
    """Photos of demo products lying alone on a light surface, one sub-folder per SKU (as a shop takes them)."""
    library = CutoutLibrary.from_products([p for p in demo_catalogue() if p.sku in SKUS])
    for sku in SKUS:
        (folder / sku).mkdir(parents=True)
        for cut in library.entry(sku).cutouts[:2]:
            alpha = cut.rgba[..., 3:4].astype(np.float32) / 255
            photo = (cut.rgba[..., :3] * alpha + 205 * (1 - alpha)).astype(np.uint8)
            photo = cv2.copyMakeBorder(photo, 30, 30, 30, 30, cv2.BORDER_CONSTANT, value=(205, 205, 205))
            cv2.imwrite(str(folder / sku / f"{cut.view}.jpg"), photo)
    return folder


@pytest.fixture(scope="module")
def store_gallery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("store")
    report = enrol_folder(catalogue_photos(root / "photos"), root / "gallery", ThumbEmbedder())
    assert report.to_json()
    return root / "gallery"


def test_gallery_photos_become_cut_outs_that_the_dataset_renders(store_gallery: Path, tmp_path: Path) -> None:
    photos = gallery_photos(store_gallery)
    assert set(photos) == set(SKUS) and all(len(v) >= 1 for v in photos.values())
    base = tmp_path / "cutouts"
    export_cutouts([p for p in demo_catalogue() if p.sku == "OIL-SOL-1L"], base)
    merged = merged_cutouts(base, [store_gallery], tmp_path / "merged")
    library = CutoutLibrary.from_folder(merged)
    assert set(library.skus) == {"OIL-SOL-1L", *SKUS}
    cut = library.entry("RICE-PAR-5LB").cutouts[0].rgba
    assert 0.2 < float((cut[..., 3] > 0).mean()) < 0.97  # cut from its surface, not the whole photo
    build_dataset(DatasetSpec(str(merged), train_images=3, val_images=1), tmp_path / "dataset", workers=1)
    assert json.loads((tmp_path / "dataset" / "classes.json").read_text()) == sorted(library.skus)


def test_a_missing_photo_is_reported_by_name(store_gallery: Path, tmp_path: Path) -> None:
    copy = tmp_path / "gallery"
    shutil.copytree(store_gallery, copy)
    victim = next(iter(gallery_photos(copy).values()))[0]
    victim.unlink()
    with pytest.raises(GalleryError, match=victim.name):
        gallery_photos(copy)


def test_a_worse_model_is_found_worse_on_the_enrolment_photos_and_refused_unless_forced(
        store_gallery: Path, demo_bundle: Path, tmp_path: Path) -> None:
    same = tmp_path / "same"
    shutil.copytree(demo_bundle, same)
    result = compare_on_gallery(same, demo_bundle, store_gallery)
    assert not result.worse and result.new.top1 == result.running.top1 >= 0.8
    assert result.photos == sum(len(v) for v in gallery_photos(store_gallery).values())

    # A model that names every class wrongly (its class list reversed) is worse.
    worse = tmp_path / "worse"
    shutil.copytree(demo_bundle, worse)
    manifest = json.loads((worse / "manifest.json").read_text())
    classes = manifest["classes"]  # class index (text) -> SKU
    manifest["classes"] = {str(i): classes[str(len(classes) - 1 - i)] for i in range(len(classes))}
    manifest["version"] = "reversed"
    (worse / "manifest.json").write_text(json.dumps(manifest))
    result = compare_on_gallery(worse, demo_bundle, store_gallery)
    assert result.worse and result.new.top1 < result.running.top1
    assert f"{result.new.top1:.3f}" in result.summary() and f"{result.running.top1:.3f}" in result.summary()
    record_check(worse, result)
    assert json.loads((worse / "manifest.json").read_text())[CHECK_KEY]["passed"] is False
    with pytest.raises(FleetError, match="--force"):
        check_gallery_gate(worse, force=False)
    check_gallery_gate(worse, force=True)


def test_train_compare_prints_both_figures_and_records_them(store_gallery: Path, demo_bundle: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from tillsight_cli.main import main

    new = tmp_path / "new"
    shutil.copytree(demo_bundle, new)
    assert main(["train", "compare", "--bundle", str(new), "--running", str(demo_bundle), "--gallery",
                 str(store_gallery), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["new"]["top1"] == report["running"]["top1"] and report["worse"] is False
    assert set(report["per_sku"]) == set(SKUS)
    check = json.loads((new / "manifest.json").read_text())[CHECK_KEY]
    assert check["passed"] is True and check["photos"] == report["photos"]
    check_gallery_gate(new, force=False)  # a model not worse is published without --force
