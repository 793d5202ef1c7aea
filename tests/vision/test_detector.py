"""The detector: decoding of the YOLO head, class-aware NMS, letterbox mapping, bad model files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import FakeBackend, write_manifest
from vision.bundle import BundleError, load_manifest
from vision.detector import Detector, decode_yolo, nms_class_aware

CLASSES = ["RICE", "BEANS", "SODA"]


def head(boxes: Sequence[tuple[float, float, float, float, int, float]], n_classes: int = 3,
         anchors: int = 50) -> np.ndarray:
    """A raw (1, 4+C, A) output with the given (cx, cy, w, h, class, score) anchors; the rest empty."""
    raw = np.zeros((1, 4 + n_classes, anchors), np.float32)
    for i, (cx, cy, w, h, c, s) in enumerate(boxes):
        raw[0, :4, i] = (cx, cy, w, h)
        raw[0, 4 + c, i] = s
    return raw


def test_decode_returns_known_boxes_in_input_pixels():
    raw = head([(100, 80, 40, 20, 0, 0.9), (200, 200, 50, 50, 2, 0.6)])
    boxes, scores, classes, _, _ = decode_yolo(raw, conf=0.3, iou=0.5)
    assert classes.tolist() == [0, 2]
    np.testing.assert_allclose(boxes[0], [80, 70, 120, 90])
    np.testing.assert_allclose(boxes[1], [175, 175, 225, 225])
    np.testing.assert_allclose(scores, [0.9, 0.6], rtol=1e-6)


def test_nms_suppresses_duplicates_of_the_same_sku_only():
    # two overlapping boxes of the same class -> one survives; an overlapping box of another class stays
    raw = head([(100, 100, 60, 60, 0, 0.9), (102, 101, 60, 60, 0, 0.8), (101, 100, 60, 60, 1, 0.7)])
    _, scores, classes, _, _ = decode_yolo(raw, conf=0.3, iou=0.5)
    assert sorted((int(c), round(float(s), 2)) for c, s in zip(classes, scores, strict=True)) == \
        [(0, 0.9), (1, 0.7)]


def test_optional_merge_turns_a_look_alike_double_into_one_item():
    # the model is unsure between two flavours on one can: two near-identical boxes, two SKUs
    one_can = [(100, 100, 60, 30, 0, 0.8), (101, 100, 60, 30, 1, 0.6)]
    _, _, classes, _, _ = decode_yolo(head(one_can), conf=0.3, iou=0.5)
    assert sorted(classes.tolist()) == [0, 1]  # class-aware NMS alone keeps both
    _, _, classes, _, _ = decode_yolo(head(one_can), conf=0.3, iou=0.5, merge_iou=0.9)
    assert classes.tolist() == [0]
    # two different products overlapping on the tray are never merged
    overlapping = [(100, 100, 60, 30, 0, 0.8), (130, 100, 60, 30, 1, 0.6)]
    _, _, classes, _, _ = decode_yolo(head(overlapping), conf=0.3, iou=0.5, merge_iou=0.9)
    assert sorted(classes.tolist()) == [0, 1]


def test_nms_keeps_every_separate_item_with_no_cap():
    # a full basket: 300 separate boxes must all come back
    items = [(10 + (i % 20) * 15, 10 + (i // 20) * 15, 10, 10, i % 3, 0.9) for i in range(300)]
    raw = head(items, anchors=400)
    boxes, _, _, _, _ = decode_yolo(raw, conf=0.3, iou=0.5)
    assert boxes.shape[0] == 300


def test_nms_class_aware_unit():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10]], np.float32)
    keep = nms_class_aware(boxes, np.array([0.9, 0.8, 0.7]), np.array([0, 0, 1]), 0.5)
    assert keep.tolist() == [0, 2]


def test_detector_maps_boxes_back_to_frame_pixels_and_names(tmp_path: Path):
    bundle = write_manifest(tmp_path / "b", CLASSES)
    # a 640x480 frame letterboxed into 320: scale 0.5, 40 px of padding top and bottom
    raw = head([(160, 160, 40, 20, 1, 0.88)])
    backend = FakeBackend(raw)
    det = Detector(bundle, backend=backend)
    out = det.detect(np.zeros((480, 640, 3), np.uint8))
    assert len(out) == 1
    d = out[0]
    assert d.sku == "BEANS" and d.class_id == 1 and d.source == "vision"
    np.testing.assert_allclose(d.box, (280, 220, 360, 260), atol=1e-3)
    assert d.confidence == pytest.approx(0.88, abs=1e-6)


def test_detector_reports_alternatives_for_a_box(tmp_path: Path):
    bundle = write_manifest(tmp_path / "b", CLASSES)
    raw = head([(160, 160, 40, 20, 0, 0.7)])
    raw[0, 4 + 2, 0] = 0.4  # the model also half-believes it is SODA
    det = Detector(bundle, backend=FakeBackend(raw))
    d = det.detect(np.zeros((320, 320, 3), np.uint8))[0]
    assert d.sku == "RICE"
    assert d.alternatives[0][0] == "SODA" and d.alternatives[0][1] == pytest.approx(0.4)


@pytest.mark.parametrize("frame", [
    np.zeros((100, 700), np.uint8),  # grey, odd size
    np.zeros((1080, 1920, 4), np.uint8),  # BGRA full HD
    np.zeros((240, 320, 3), np.uint16),  # 16-bit
])
def test_detector_accepts_frames_of_any_size_and_format(tmp_path: Path, frame: np.ndarray):
    bundle = write_manifest(tmp_path / "b", CLASSES)
    backend = FakeBackend(head([(160, 160, 40, 20, 0, 0.9)]))
    det = Detector(bundle, backend=backend)
    out = det.detect(frame)
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = out[0].box
    assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
    assert backend.calls[-1].shape == (1, 3, 320, 320)


def test_letterbox_puts_the_frame_in_the_middle_with_grey_padding(tmp_path: Path):
    bundle = write_manifest(tmp_path / "b", CLASSES)
    backend = FakeBackend(head([]))
    det = Detector(bundle, backend=backend)
    frame = np.full((480, 640, 3), 255, np.uint8)
    det.detect(frame)
    t = backend.calls[-1][0]
    assert t[:, 0, 160] == pytest.approx(114 / 255, abs=1e-3)  # top padding
    assert t[:, 160, 160] == pytest.approx(1.0, abs=1e-3)  # image
    assert t[:, 319, 160] == pytest.approx(114 / 255, abs=1e-3)  # bottom padding


def test_a_dynamic_model_gets_a_rectangular_input_padded_to_the_stride(tmp_path: Path):
    bundle = write_manifest(tmp_path / "b", CLASSES)
    backend = FakeBackend(head([(160, 128, 40, 20, 1, 0.9)]))
    backend.input_shape = lambda: (1, 3, "height", "width")  # type: ignore[method-assign]
    det = Detector(bundle, backend=backend)
    out = det.detect(np.zeros((480, 640, 3), np.uint8))
    assert backend.calls[-1].shape == (1, 3, 256, 320)  # 4:3 at 320: 320x240 padded to 320x256
    np.testing.assert_allclose(out[0].box, (280, 220, 360, 260), atol=1e-3)  # 8 px of padding, scale 0.5


def test_output_that_does_not_fit_the_class_map_is_refused(tmp_path: Path):
    bundle = write_manifest(tmp_path / "b", CLASSES)
    with pytest.raises(BundleError, match="does not fit 3 classes"):
        Detector(bundle, backend=FakeBackend(head([], n_classes=5)))


# --- bad model files, with the real shipped bundle ------------------------------------------------

def test_missing_model_file_names_the_file(demo_bundle_copy: Path):
    (demo_bundle_copy / "model.onnx").unlink()
    with pytest.raises(BundleError, match=r"model\.onnx: model file not found"):
        Detector(demo_bundle_copy)


def test_truncated_model_file_is_refused_naming_the_file(demo_bundle_copy: Path):
    model = demo_bundle_copy / "model.onnx"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 3])
    with pytest.raises(BundleError, match=r"model\.onnx: SHA-256"):
        Detector(demo_bundle_copy)
    # even with the hash check off, the runtime's refusal is reported against the file
    with pytest.raises(BundleError, match=r"model\.onnx: cannot load the ONNX model"):
        from vision.detectors.onnxruntime_backend import OnnxRuntimeBackend

        OnnxRuntimeBackend(model)


def test_wrong_file_as_model_is_refused(demo_bundle_copy: Path, tmp_path: Path):
    wrong = tmp_path / "notes.txt"
    wrong.write_text("this is not a model")
    from vision.detectors.onnxruntime_backend import OnnxRuntimeBackend

    with pytest.raises(BundleError, match=r"notes\.txt: cannot load the ONNX model"):
        OnnxRuntimeBackend(wrong)


def test_missing_or_broken_manifest_names_it(demo_bundle_copy: Path, tmp_path: Path):
    with pytest.raises(BundleError, match="bundle folder not found"):
        load_manifest(tmp_path / "nowhere")
    manifest = demo_bundle_copy / "manifest.json"
    text = manifest.read_text()
    manifest.write_text(text[:40])
    with pytest.raises(BundleError, match=r"manifest\.json: not valid JSON"):
        load_manifest(demo_bundle_copy)
    manifest.write_text('{"format": "tillsight.bundle/1"}')
    with pytest.raises(BundleError, match=r"manifest\.json: missing keys"):
        load_manifest(demo_bundle_copy)


def test_demo_bundle_loads_and_finds_its_self_test_products(demo_bundle: Path):
    from vision.selftest import run_self_test

    det = Detector(demo_bundle)
    assert len(det.classes) >= 40
    result = run_self_test(det)
    assert result.passed, result.message
    image = cv2.imread(str(det.manifest.selftest.image))
    assert image is not None
    names = {d.sku for d in det.detect(image)}
    assert names == set(det.manifest.selftest.expected)
