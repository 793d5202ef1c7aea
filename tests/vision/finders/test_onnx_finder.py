"""The product finder's decoding and model loading (vision/finders/onnx_finder.py): peaks of the heat
map become boxes where the network put them, overlapping duplicates are suppressed, and a missing,
corrupt or foreign model is refused with the file named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vision.finders.onnx_finder import (
    FINDER_FORMAT,
    STRIDE,
    FinderError,
    decode,
    letterbox_size,
    load_finder_manifest,
    nms,
)


def maps_with(centres: list[tuple[float, float, float, float, float]], grid: tuple[int, int] = (28, 16)):
    """heat, size, offset maps holding products at (cx, cy, w, h) in input pixels with a peak score."""
    gh, gw = grid
    heat = np.zeros((gh, gw), np.float32)
    size = np.zeros((2, gh, gw), np.float32)
    offset = np.zeros((2, gh, gw), np.float32)
    for cx, cy, w, h, score in centres:
        ix, iy = int(cx / STRIDE), int(cy / STRIDE)
        heat[iy, ix] = score
        # the neighbours are lower: a peak, as the network draws one
        heat[max(0, iy - 1):iy + 2, max(0, ix - 1):ix + 2] = np.maximum(
            heat[max(0, iy - 1):iy + 2, max(0, ix - 1):ix + 2], score * 0.6)
        heat[iy, ix] = score
        size[:, iy, ix] = (np.log(w / STRIDE), np.log(h / STRIDE))
        offset[:, iy, ix] = (cx / STRIDE - ix, cy / STRIDE - iy)
    return heat, size, offset


def test_each_peak_becomes_the_box_the_network_described() -> None:
    heat, size, offset = maps_with([(60.0, 100.0, 80.0, 50.0, 0.9), (180.0, 300.0, 100.0, 160.0, 0.7)])
    boxes, scores = decode(heat, size, offset, confidence=0.3, nms_iou=0.5)
    assert len(boxes) == 2
    assert scores.tolist() == pytest.approx([0.9, 0.7])
    assert boxes[0] == pytest.approx([20.0, 75.0, 100.0, 125.0], abs=1e-3)
    assert boxes[1] == pytest.approx([130.0, 220.0, 230.0, 380.0], abs=1e-3)


def test_weak_peaks_and_the_shoulders_of_a_peak_are_not_products() -> None:
    heat, size, offset = maps_with([(60.0, 100.0, 80.0, 50.0, 0.9), (180.0, 300.0, 100.0, 160.0, 0.2)])
    boxes, _ = decode(heat, size, offset, confidence=0.3, nms_iou=0.5)
    assert len(boxes) == 1  # the 0.54 shoulders of the strong peak are not maxima; the weak one is below 0.3


def test_two_peaks_describing_one_product_give_one_box() -> None:
    heat, size, offset = maps_with([(100.0, 100.0, 120.0, 120.0, 0.9), (100.0, 140.0, 120.0, 120.0, 0.8)])
    boxes, scores = decode(heat, size, offset, confidence=0.3, nms_iou=0.5)
    assert len(boxes) == 1 and scores[0] == pytest.approx(0.9)


def test_nms_keeps_touching_products_apart() -> None:
    boxes = np.array([[0, 0, 100, 100], [90, 0, 190, 100], [5, 5, 100, 100]], np.float32)
    assert nms(boxes, np.array([0.9, 0.8, 0.7], np.float32), 0.5) == [0, 1]


@pytest.mark.parametrize(("frame", "net"), [((1080, 1920), (256, 448)), ((640, 480), (448, 352)),
                                            ((448, 448), (448, 448)), ((4000, 100), (448, 32))])
def test_frames_are_letterboxed_to_a_long_side_of_448_in_multiples_of_32(frame, net) -> None:
    assert letterbox_size(frame) == net


def write_manifest(folder: Path, **changes) -> Path:
    (folder / "finder.onnx").write_bytes(b"not really a network")
    import hashlib

    sha = hashlib.sha256(b"not really a network").hexdigest()
    data = {"format": FINDER_FORMAT, "name": "t", "version": "1", "mean": [0.5] * 3, "std": [0.5] * 3,
            "thresholds": {"confidence": 0.3, "nms_iou": 0.5},
            "files": {"fp32": {"path": "finder.onnx", "sha256": sha}}}
    data.update(changes)
    (folder / "manifest.json").write_text(json.dumps(data))
    return folder


def test_a_missing_or_foreign_manifest_is_named(tmp_path: Path) -> None:
    with pytest.raises(FinderError, match=r"manifest\.json: no finder manifest"):
        load_finder_manifest(tmp_path)
    write_manifest(tmp_path, format="tillsight-bundle/1")
    with pytest.raises(FinderError, match="not a tillsight-finder/1 manifest"):
        load_finder_manifest(tmp_path)


def test_a_model_file_that_does_not_match_its_checksum_is_named(tmp_path: Path) -> None:
    write_manifest(tmp_path)
    assert load_finder_manifest(tmp_path).model == tmp_path / "finder.onnx"
    (tmp_path / "finder.onnx").write_bytes(b"replaced")
    with pytest.raises(FinderError, match=r"finder\.onnx: checksum does not match"):
        load_finder_manifest(tmp_path)
    with pytest.raises(FinderError, match="'int8'"):
        load_finder_manifest(tmp_path, variant="int8")


def test_a_corrupt_model_is_refused_by_name(tmp_path: Path) -> None:
    from vision.finders.onnx_finder import OnnxFinder

    write_manifest(tmp_path)
    with pytest.raises(FinderError, match=r"finder\.onnx: cannot load the finder model"):
        OnnxFinder(tmp_path)
