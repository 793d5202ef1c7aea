"""Barcode fallback: an EAN-13 printed on a product is read from the camera frame."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vision.barcode import BarcodeReader, apply_barcodes
from vision.catalogue import demo_catalogue, is_valid_ean13
from vision.detector import Detection
from vision.ean13 import ean13_modules, render_ean13
from vision.product_art import render_product


def _paste(frame: np.ndarray, sprite: np.ndarray, x: int, y: int) -> None:
    h, w = sprite.shape[:2]
    if sprite.ndim == 2:
        sprite = cv2.cvtColor(sprite, cv2.COLOR_GRAY2BGR)
    if sprite.shape[2] == 4:
        a = sprite[..., 3:4] / 255.0
        frame[y:y + h, x:x + w] = (sprite[..., :3] * a + frame[y:y + h, x:x + w] * (1 - a)).astype(np.uint8)
    else:
        frame[y:y + h, x:x + w] = sprite


def test_every_demo_barcode_is_a_valid_unique_ean13():
    codes = [p.barcode for p in demo_catalogue()]
    assert all(is_valid_ean13(c) for c in codes)
    assert len(set(codes)) == len(codes)
    assert len(ean13_modules(codes[0])) == 95


def test_reads_a_rendered_barcode_in_a_camera_frame():
    product = demo_catalogue()[7]
    frame = np.full((720, 1280, 3), 170, np.uint8)
    _paste(frame, render_ean13(product.barcode, module_px=3), 400, 250)
    frame = cv2.GaussianBlur(frame, (0, 0), 0.7)
    hits = BarcodeReader().read(frame)
    assert [(h.code, h.valid) for h in hits] == [(product.barcode, True)]
    x1, y1, x2, y2 = hits[0].box
    assert 380 <= x1 < x2 <= 1000 and 230 <= y1 < y2 <= 600


def test_reads_the_barcode_printed_on_the_back_of_a_product():
    product = next(p for p in demo_catalogue() if p.look.shape == "box" and p.size_mm[0] >= 200)
    back = render_product(product, "back", px_per_mm=7.0)
    frame = np.full((back.shape[0] + 100, back.shape[1] + 100, 3), 90, np.uint8)
    _paste(frame, back, 50, 50)
    hits = BarcodeReader().read(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))  # grey frames work too
    assert product.barcode in [h.code for h in hits if h.valid]


def test_no_barcode_means_no_hits():
    assert BarcodeReader().read(np.full((480, 640, 3), 128, np.uint8)) == []


@pytest.fixture
def sku_by_code():
    return {p.barcode: p.sku for p in demo_catalogue()}


def test_known_code_outside_vision_boxes_becomes_a_barcode_detection(sku_by_code):
    from vision.barcode import BarcodeHit

    product = demo_catalogue()[3]
    hit = BarcodeHit(product.barcode, (300, 300, 400, 350), True)
    out = apply_barcodes([hit], [], sku_by_code)
    assert [(d.sku, d.source, d.class_id) for d in out] == [(product.sku, "barcode", -1)]


def test_a_barcode_corrects_a_vision_box_of_another_sku(sku_by_code):
    from vision.barcode import BarcodeHit

    product = demo_catalogue()[3]
    wrong = Detection("BATT-AA-4", 7, 0.6, (250, 250, 450, 400))
    out = apply_barcodes([BarcodeHit(product.barcode, (300, 300, 400, 350), True)], [wrong], sku_by_code)
    assert [(d.sku, d.source, d.box) for d in out] == [(product.sku, "barcode", wrong.box)]
    assert out[0].alternatives == (("BATT-AA-4", 0.6),)


def test_codes_already_agreeing_unknown_or_invalid_change_nothing(sku_by_code):
    from vision.barcode import BarcodeHit

    product = demo_catalogue()[3]
    covering = Detection(product.sku, 3, 0.9, (250, 250, 450, 400))
    assert apply_barcodes([BarcodeHit(product.barcode, (300, 300, 400, 350), True)], [covering],
                          sku_by_code) == [covering]
    assert apply_barcodes([BarcodeHit("4006381333931", (0, 0, 10, 10), True)], [], sku_by_code) == []
    bad = product.barcode[:-1] + str((int(product.barcode[-1]) + 1) % 10)
    assert apply_barcodes([BarcodeHit(bad, (0, 0, 10, 10), False)], [], sku_by_code) == []


def test_a_vision_box_lying_on_the_printed_symbol_is_the_same_item_not_a_second_one(sku_by_code):
    from vision.barcode import BarcodeHit

    product = demo_catalogue()[3]
    symbol = (500, 200, 850, 300)
    on_the_symbol = Detection("BATT-AA-4", 7, 0.6, (680, 195, 850, 300))  # the model read the bars as a product
    out = apply_barcodes([BarcodeHit(product.barcode, symbol, True)], [on_the_symbol], sku_by_code)
    assert [(d.sku, d.source) for d in out] == [(product.sku, "barcode")]
    beside = Detection("BATT-AA-4", 7, 0.9, (820, 150, 1000, 320))  # a neighbour just touching the symbol
    out = apply_barcodes([BarcodeHit(product.barcode, symbol, True)], [beside], sku_by_code)
    assert sorted((d.sku, d.source) for d in out) == [("BATT-AA-4", "vision"), (product.sku, "barcode")]
