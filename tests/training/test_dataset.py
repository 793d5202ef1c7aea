"""Rendered YOLO datasets from a cut-out folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from training.dataset import DatasetSpec, build_dataset
from vision.catalogue import demo_catalogue
from vision.cutouts import export_cutouts


@pytest.fixture(scope="module")
def cutouts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cutouts")
    export_cutouts(demo_catalogue()[:4], folder, px_per_mm=1.5)
    return folder


def test_dataset_has_images_labels_and_class_map(tmp_path: Path, cutouts: Path):
    data_yaml = build_dataset(DatasetSpec(str(cutouts), train_images=6, val_images=2), tmp_path / "ds", workers=1)
    data = yaml.safe_load(data_yaml.read_text())
    skus = sorted(p.sku for p in demo_catalogue()[:4])
    assert [data["names"][i] for i in range(4)] == skus
    images = sorted((tmp_path / "ds" / "images" / "train").glob("*.jpg"))
    labels = sorted((tmp_path / "ds" / "labels" / "train").glob("*.txt"))
    assert len(images) == 6 and len(labels) == 6
    assert len(list((tmp_path / "ds" / "images" / "val").glob("*.jpg"))) == 2
    for lbl in labels:
        rows = [r.split() for r in lbl.read_text().split("\n") if r.strip()]
        assert rows, lbl
        for r in rows:
            cls, cx, cy, w, h = int(r[0]), *map(float, r[1:])
            assert 0 <= cls < 4 and 0 < cx < 1 and 0 < cy < 1 and 0 < w <= 1 and 0 < h <= 1


def test_same_inputs_reuse_the_dataset_and_give_the_same_hash(tmp_path: Path, cutouts: Path):
    spec = DatasetSpec(str(cutouts), train_images=3, val_images=1)
    build_dataset(spec, tmp_path / "ds", workers=1)
    first = json.loads((tmp_path / "ds" / "dataset.json").read_text())
    stamp = (tmp_path / "ds" / "images" / "train" / "000000.jpg").stat().st_mtime_ns
    build_dataset(spec, tmp_path / "ds", workers=1)
    assert (tmp_path / "ds" / "images" / "train" / "000000.jpg").stat().st_mtime_ns == stamp
    build_dataset(spec, tmp_path / "ds2", workers=1)
    second = json.loads((tmp_path / "ds2" / "dataset.json").read_text())
    assert first["data_hash"] == second["data_hash"]
    assert (tmp_path / "ds" / "images" / "train" / "000002.jpg").read_bytes() == \
        (tmp_path / "ds2" / "images" / "train" / "000002.jpg").read_bytes()


def test_another_seed_is_another_dataset(tmp_path: Path, cutouts: Path):
    build_dataset(DatasetSpec(str(cutouts), 2, 1, seed_base=0), tmp_path / "a", workers=1)
    build_dataset(DatasetSpec(str(cutouts), 2, 1, seed_base=1000), tmp_path / "b", workers=1)
    a = json.loads((tmp_path / "a" / "dataset.json").read_text())["data_hash"]
    b = json.loads((tmp_path / "b" / "dataset.json").read_text())["data_hash"]
    assert a != b


def test_training_scenes_favour_full_trays_and_test_scenes_keep_uniform_counts(cutouts: Path):
    from dataclasses import replace

    from training.dataset import test_style, train_style
    from vision.cutouts import CutoutLibrary
    from vision.scene import compose_scene

    library = CutoutLibrary.from_folder(cutouts)
    quick = {"frame_size": (320, 240), "effects": False}
    train = [len(compose_scene(library, s, replace(train_style(), **quick)).items) for s in range(60)]
    test = [len(compose_scene(library, s, replace(test_style(), **quick)).items) for s in range(60)]
    assert min(train) >= 1 and max(train) <= 12
    assert sum(train) / len(train) > sum(test) / len(test) + 1.0  # about 8.2 against 6.5 items


def test_the_test_set_families_do_not_move_when_a_training_family_is_added():
    from training.dataset import test_style
    from vision.backgrounds import TRAIN_FAMILIES

    families = test_style().background_families or ()
    assert families == ("wood", "steel", "laminate", "checker_mat", "fabric", "granite", "paper_sheet")
    assert "speckled" in TRAIN_FAMILIES and "speckled" not in families  # added later: not dealt into the test set
