"""Choosing the operating confidence and cross-SKU merge from a calibration table."""

from __future__ import annotations

import pytest

from training.pipeline import choose_operating_point


def _row(values: list[float]) -> dict[str, float]:
    return {f"{0.15 + 0.05 * i:.2f}": v for i, v in enumerate(values)}


def test_a_broad_plateau_beats_a_lone_spike():
    #               0.15  0.20  0.25  0.30  0.35  0.40  0.45  0.50
    table = {"off": _row([0.70, 0.86, 0.70, 0.80, 0.84, 0.85, 0.84, 0.80])}
    confidence, merge, plateau, cacc = choose_operating_point(table)
    assert confidence == pytest.approx(0.40) and merge is None
    assert cacc == pytest.approx(0.85) and plateau == pytest.approx((0.84 + 0.85 + 0.84) / 3)


def test_the_merge_with_the_best_plateau_wins():
    table = {"off": _row([0.80, 0.81, 0.82, 0.82, 0.81, 0.80]),
             "0.6": _row([0.82, 0.84, 0.85, 0.85, 0.84, 0.82])}
    confidence, merge, _, cacc = choose_operating_point(table)
    assert merge == pytest.approx(0.6) and cacc == pytest.approx(0.85)
    assert confidence in (pytest.approx(0.25), pytest.approx(0.30))


def test_ties_go_to_the_confidence_nearest_035_then_to_no_merging():
    flat = _row([0.9] * 8)
    confidence, merge, _, _ = choose_operating_point({"off": flat, "0.8": dict(flat)})
    assert confidence == pytest.approx(0.35) and merge is None
    confidence, merge, _, _ = choose_operating_point({"0.8": dict(flat), "off": flat})
    assert confidence == pytest.approx(0.35) and merge is None


def test_an_empty_table_is_an_error():
    with pytest.raises(ValueError, match="no accuracy"):
        choose_operating_point({})
