"""Training the class-blind product finder (training/finder.py, training/finder_scenes.py): the
scenes label what lies on top and nothing else, the targets put each product's centre and size where
the decoder reads them back, and a trained head exported to ONNX runs on the device's decoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vision.finders.onnx_finder import STRIDE, decode

torch = pytest.importorskip("torch", reason="needs the train extra (make test installs it)")
pytest.importorskip("timm", reason="needs the train extra (make test installs it)")

pytestmark = [pytest.mark.train]


def test_scenes_label_every_product_on_top_inside_the_frame() -> None:
    from training.finder_scenes import SpriteBank, TexturePool, make_scene

    textures = TexturePool()
    rng = np.random.default_rng(3)
    bank = SpriteBank(rng, textures, count=12)
    for size in ((256, 448), (448, 352)):
        scene = make_scene(rng, size, textures, bank)
        assert scene.image.shape == (size[1], size[0], 3) and scene.image.dtype == np.uint8
        boxes = scene.boxes
        assert boxes.shape[1] == 4
        assert (boxes[:, 0] >= 0).all() and (boxes[:, 2] <= size[0]).all() and (boxes[:, 3] <= size[1]).all()
        assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()


def test_targets_decode_back_to_the_boxes_they_were_made_from() -> None:
    from training.finder import targets

    boxes = np.array([[20, 40, 140, 120], [150, 200, 250, 420]], np.float32)
    heat, size, offset, mask = targets(boxes, (448 // STRIDE, 256 // STRIDE))
    assert mask.sum() == 2 and heat.max() == 1.0
    found, scores = decode(heat, size, offset, confidence=0.99, nms_iou=0.5)
    order = np.argsort(found[:, 0])
    assert found[order] == pytest.approx(boxes, abs=1e-3)
    assert scores.tolist() == [1.0, 1.0]


def test_a_trained_finder_exports_to_onnx_and_runs_on_the_device_decoder(tmp_path: Path) -> None:
    from training.finder import (
        FinderTrainConfig,
        build_parts,
        calibration_inputs,
        export_finder,
        precompute,
        read_scenes,
        render_scenes,
        train_head,
    )
    from vision.finders.onnx_finder import OnnxFinder

    render_scenes(tmp_path / "scenes", 4, seed=7)
    labels = read_scenes(tmp_path / "scenes")
    assert len(labels) == 4
    bottom, top, head = build_parts(pretrained=True)
    features = precompute(tmp_path / "scenes", labels, bottom, tmp_path / "features")
    history = train_head(features, top, head, FinderTrainConfig(scenes=4, epochs=2, batch=2))
    assert len(history) == 2 and all(np.isfinite(history))
    calibration = calibration_inputs(tmp_path / "scenes", sorted(labels))
    assert calibration and len({c.shape for c in calibration}) == 1  # one input size: static int8 needs that
    export_finder(bottom, top.eval(), head.eval(), tmp_path / "finder", calibration=calibration,
                  train_info={"scenes": 4})
    for variant in ("fp32", "int8"):
        finder = OnnxFinder(tmp_path / "finder", variant=variant, confidence=0.0)
        assert (finder.nms_iou, finder.peak_window, finder.centre_share, finder.flip) == (0.2, 3, 0.9, True)
        frame = np.full((480, 640, 3), 128, np.uint8)
        found = finder.find(frame)
        assert found, "with no threshold every peak is a box"
        for f in found:
            x1, y1, x2, y2 = f.box
            assert 0 <= x1 < x2 <= 640 and 0 <= y1 < y2 <= 480 and 0 <= f.score <= 1
