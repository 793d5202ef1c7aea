"""A tiny end-to-end training run: a few rendered images, one epoch, a loadable bundle at the end."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ultralytics", reason="needs the train extra (make test installs it)")

pytestmark = [pytest.mark.slow, pytest.mark.train]


def test_one_epoch_on_a_few_images_makes_a_bundle_the_device_can_load(tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture):
    from training.bundle import pack_bundle
    from training.dataset import DatasetSpec, build_dataset
    from training.train import TrainSpec, export_onnx, train
    from vision.bundle import load_manifest
    from vision.catalogue import demo_catalogue
    from vision.cutouts import export_cutouts
    from vision.detector import Detector

    caplog.set_level("INFO", logger="training.train")
    cut = tmp_path / "cutouts"
    export_cutouts(demo_catalogue()[:3], cut, px_per_mm=1.5)
    data_yaml = build_dataset(DatasetSpec(str(cut), train_images=8, val_images=2), tmp_path / "ds", workers=1)
    weights = train(TrainSpec(str(data_yaml), str(tmp_path / "run"), epochs=1, imgsz=160, batch=4, workers=0))
    assert weights.exists()
    # a CPU run trains on every core (ultralytics alone would leave one to its data loaders)
    import torch

    cores = os.cpu_count() or 1
    assert torch.get_num_threads() == cores
    if cores > 1:
        assert f"torch on {cores} CPU threads" in caplog.text
    onnx_path = export_onnx(weights, 160, tmp_path / "model.onnx", dynamic=True)
    classes = json.loads((tmp_path / "ds" / "classes.json").read_text())
    meta = json.loads((tmp_path / "ds" / "dataset.json").read_text())
    bundle = pack_bundle(onnx_path, tmp_path / "bundle", classes=classes, cutouts=cut, input_size=160,
                         data_hash=meta["data_hash"], training={"epochs": 1}, strict_selftest=False,
                         selftest_tries=1)

    manifest = load_manifest(bundle)
    assert manifest.classes == tuple(sorted(p.sku for p in demo_catalogue()[:3]))
    assert manifest.input_size == 160 and manifest.data_hash == meta["data_hash"]
    assert manifest.selftest.image.exists()
    # the device runtime loads it (no torch on that path) and runs at two input sizes
    for size in (160, 224):
        det = Detector(bundle, input_size=size)
        out = det.detect(np.zeros((480, 640, 3), np.uint8), confidence=0.001)
        assert all(d.sku in manifest.classes for d in out)
