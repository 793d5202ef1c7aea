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


def test_a_second_peak_inside_a_stronger_products_middle_is_the_same_product() -> None:
    # a big bag with a second, weaker peak a third of the way along it: NMS alone keeps both (IoU 0.5)
    heat, size, offset = maps_with([(128.0, 200.0, 200.0, 240.0, 0.9), (128.0, 280.0, 200.0, 160.0, 0.6)])
    assert len(decode(heat, size, offset, confidence=0.3, nms_iou=0.5)[0]) == 2
    boxes, scores = decode(heat, size, offset, confidence=0.3, nms_iou=0.5, centre_share=0.9)
    assert len(boxes) == 1 and scores[0] == pytest.approx(0.9)


def test_small_products_side_by_side_stay_apart_under_the_centre_rule() -> None:
    # three small bars touching in a row, one grid cell apart in centre spacing of 48 px: a 7x7 peak
    # window would keep only the strongest, the centre rule (it scales with each box) keeps all three
    bars = [(40.0 + 48 * k, 100.0, 46.0, 90.0, 0.9 - 0.1 * k) for k in range(3)]
    heat, size, offset = maps_with(bars)
    assert len(decode(heat, size, offset, confidence=0.3, nms_iou=0.5, peak_window=7)[0]) == 1
    boxes, _ = decode(heat, size, offset, confidence=0.3, nms_iou=0.5, centre_share=0.9)
    assert len(boxes) == 3


def test_the_maps_of_a_mirrored_frame_mirror_back_onto_the_products_place() -> None:
    from vision.finders.onnx_finder import unflip

    heat, size, offset = maps_with([(61.0, 100.0, 80.0, 50.0, 0.9)])
    # the same product as the network sees it in the mirrored 256 px wide input
    m_heat, m_size, m_offset = maps_with([(256 - 61.0, 100.0, 80.0, 50.0, 0.9)])
    back = unflip(m_heat, m_size, m_offset)
    boxes, _ = decode(*back, confidence=0.3, nms_iou=0.5)
    expected, _ = decode(heat, size, offset, confidence=0.3, nms_iou=0.5)
    assert boxes == pytest.approx(expected, abs=1e-3)


class _BlobNetwork:
    """Stands in for the ONNX session: heat is the brightness of each 16 px cell of the input (so it
    follows the input when mirrored), every box is 2x2 cells, centred in its cell."""

    def run(self, _names, feeds):
        x = next(iter(feeds.values()))[0, 0]
        gh, gw = x.shape[0] // STRIDE, x.shape[1] // STRIDE
        cells = x.reshape(gh, STRIDE, gw, STRIDE).mean(axis=(1, 3))
        heat = (cells - cells.min()) / max(1e-6, float(cells.max() - cells.min()))
        size = np.full((1, 2, gh, gw), np.log(2.0), np.float32)
        offset = np.full((1, 2, gh, gw), 0.5, np.float32)
        return [heat[None, None].astype(np.float32), size, offset]


def test_with_test_time_flip_a_product_off_centre_is_found_once_in_its_place(tmp_path: Path) -> None:
    from vision.finders.onnx_finder import FinderManifest, OnnxFinder

    finder = OnnxFinder.__new__(OnnxFinder)
    finder.manifest = FinderManifest(name="t", version="1", model=tmp_path / "m.onnx", variant="fp32", confidence=0.5,
                                     nms_iou=0.5, long_side=448, mean=(0.5,) * 3, std=(0.5,) * 3)
    finder.session, finder.input = _BlobNetwork(), "images"
    finder._mean, finder._std = np.full(3, 0.5, np.float32), np.full(3, 0.5, np.float32)
    finder.confidence, finder.nms_iou, finder.peak_window, finder.centre_share = 0.5, 0.5, 3, 0.0
    frame = np.zeros((448, 256, 3), np.uint8)
    frame[96:112, 32:48] = 255  # a bright product in one cell of the left third
    found = {}
    for flip in (False, True):
        finder.flip = flip
        found[flip] = [f.box for f in finder.find(frame)]
    assert len(found[True]) == 1
    assert found[True] == found[False] == [pytest.approx((24.0, 88.0, 56.0, 120.0), abs=1e-3)]


@pytest.mark.parametrize(("decoding", "message"), [
    ({"peak_window": 4}, "decoding.peak_window must be an odd whole number"),
    ({"centre_share": 1.5}, "decoding.centre_share must be a number from 0 to 1"),
    ({"flip": "yes"}, "decoding.flip must be true or false"),
    ([], "'decoding' must be an object"),
])
def test_a_bad_decoding_setting_is_named(tmp_path: Path, decoding, message: str) -> None:
    write_manifest(tmp_path, decoding=decoding)
    with pytest.raises(FinderError, match=message):
        load_finder_manifest(tmp_path)


def test_a_manifest_without_decoding_settings_decodes_as_the_first_finder_did(tmp_path: Path) -> None:
    write_manifest(tmp_path)
    manifest = load_finder_manifest(tmp_path)
    assert (manifest.peak_window, manifest.centre_share, manifest.flip) == (3, 0.0, False)
    write_manifest(tmp_path, decoding={"peak_window": 5, "centre_share": 0.9, "flip": True})
    manifest = load_finder_manifest(tmp_path)
    assert (manifest.peak_window, manifest.centre_share, manifest.flip) == (5, 0.9, True)
