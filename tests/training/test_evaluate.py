"""Evaluation figures: AP, mAP, checkout accuracy, on known cases and on the shipped bundle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.evaluate import _match, average_precision, box_iou, build_test_set, evaluate_bundle


def test_box_iou_known_values():
    a = np.array([[0, 0, 10, 10]], float)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], float)
    np.testing.assert_allclose(box_iou(a, b)[0], [1.0, 50 / 150, 0.0], atol=1e-6)


def test_perfect_predictions_score_ap_one():
    tp = np.array([True, True, True])
    assert average_precision(tp, np.array([0.9, 0.8, 0.7]), 3) == pytest.approx(1.0)


def test_missed_objects_and_false_positives_lower_ap():
    # half the objects found, with no false positives: AP ~ 0.5
    assert average_precision(np.array([True]), np.array([0.9]), 2) == pytest.approx(51 / 101, abs=1e-6)
    # a confident false positive ranked first costs precision
    ap = average_precision(np.array([False, True]), np.array([0.9, 0.8]), 1)
    assert 0.45 < ap < 0.55


def test_matching_uses_iou_thresholds():
    gt = np.array([[0, 0, 100, 100]], float)
    pred = np.array([[0, 0, 100, 82]], float)  # IoU 0.82
    tp = _match(pred, np.array([0.9]), gt)
    assert tp[0].tolist() == [True] * 7 + [False] * 3  # true at 0.50..0.80, false at 0.85..0.95
    # one truth cannot be matched twice
    tp = _match(np.vstack([pred, pred]), np.array([0.9, 0.8]), gt)
    assert tp[:, 0].tolist() == [True, False]


@pytest.mark.slow
def test_shipped_bundle_on_a_small_held_out_set(tmp_path: Path, demo_bundle: Path):
    from vision.catalogue import demo_catalogue
    from vision.cutouts import export_cutouts

    export_cutouts(demo_catalogue(), tmp_path / "cut")
    test_dir = build_test_set(tmp_path / "cut", tmp_path / "test", images=24)
    figures = evaluate_bundle(demo_bundle, test_dir)
    assert figures["images"] == 24
    assert set(figures) >= {"images", "map50", "map50_95", "cacc", "per_sku", "confusions"}
    # a regression guard, well above chance on unseen scenes and backgrounds (a broken letterbox or
    # decoder scores near 0); the full 500-image figures are in the README and the bundle manifest
    assert figures["map50"] > 0.8 and figures["cacc"] > 0.3
    assert all(0.0 <= (v["ap50"] or 0.0) <= 1.0 for v in figures["per_sku"].values())
    # where it fails: every scene is counted once per background family and once per item count,
    # and the groups add up to the overall checkout accuracy
    from training.dataset import TEST_FAMILIES

    for breakdown in (figures["cacc_by_background"], figures["cacc_by_items"]):
        assert sum(g["images"] for g in breakdown.values()) == 24
        exact = sum(round(g["cacc"] * g["images"]) for g in breakdown.values())
        assert exact == round(figures["cacc"] * 24)
    assert set(figures["cacc_by_background"]) <= set(TEST_FAMILIES)
    assert all(1 <= int(k) <= 12 for k in figures["cacc_by_items"])
