"""Change gate: the detector runs when the tray changes, not on every frame of a still tray."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from vision.catalogue import demo_catalogue
from vision.change_gate import ChangeGate
from vision.cutouts import CutoutLibrary
from vision.sources import SyntheticSource


@pytest.fixture(scope="module")
def lib() -> CutoutLibrary:
    return CutoutLibrary.from_products(demo_catalogue()[:10])


def test_a_still_tray_is_inferred_only_at_first_and_while_settling(lib: CutoutLibrary) -> None:
    src = SyntheticSource(lib, seed=4, fps=10, period_s=1.0, width=320, height=240)
    for _ in range(10):  # reach an arrangement with an item on it
        src.read()
    gate = ChangeGate(settle_frames=2)
    src.period_s = 1e6  # from here on nothing changes
    decisions = [gate.should_infer(src.read().image, i / 10) for i in range(30)]
    assert decisions[:3] == [True, True, True] and not any(decisions[3:])
    assert gate.last_reason is None
    assert (gate.frames, gate.inferences, gate.skipped) == (30, 3, 27)
    assert 0.0 < gate.last_difference < gate.threshold  # sensor noise is seen, and ignored


def test_every_item_put_down_or_taken_away_triggers_inference(lib: CutoutLibrary) -> None:
    src = SyntheticSource(lib, seed=6, fps=4, period_s=1.0, width=320, height=240)
    gate = ChangeGate(settle_frames=1)
    before = src.truth()
    changes = 0
    for i in range(40):
        frame = src.read()
        infer = gate.should_infer(frame.image, i / 4)
        if src.truth() != before:
            changes += 1
            assert infer and gate.last_reason == "change", f"frame {i}: arrangement changed unseen"
            before = src.truth()
    assert changes >= 8
    assert gate.skipped >= 40 - 3 * changes  # the still frames in between are skipped


def test_one_small_item_on_a_big_tray_is_a_change() -> None:
    tray = np.full((480, 640, 3), 120, np.uint8)
    gate = ChangeGate()
    assert gate.should_infer(tray, 0.0)
    with_can = tray.copy()
    cv2.circle(with_can, (400, 300), 26, (30, 40, 200), -1)  # a 66 mm can seen from above
    assert gate.difference(with_can) > gate.threshold
    assert cv2.absdiff(with_can, tray).mean() < gate.threshold  # a whole-frame mean would miss it
    assert gate.should_infer(with_can, 0.1) and gate.last_reason == "change"


def test_light_drift_accumulates_until_it_counts() -> None:
    gate = ChangeGate(threshold=6.0, settle_frames=0)
    base = np.full((120, 160, 3), 100, np.uint8)
    assert gate.should_infer(base, 0.0)
    steps = [gate.should_infer(base + np.uint8(k), k * 0.1) for k in range(1, 12)]  # +1 grey level a frame
    assert steps.index(True) == 6  # 7 levels above the last inferred frame


def test_max_interval_forces_a_heartbeat_inference() -> None:
    still = np.full((120, 160, 3), 90, np.uint8)
    gate = ChangeGate(max_interval_s=1.0, settle_frames=2)
    decided = [gate.should_infer(still, i * 0.25) for i in range(20)]
    assert [i for i, d in enumerate(decided) if d] == [0, 1, 2, 6, 10, 14, 18]
    assert gate.inferences == 7 and gate.skipped == 13
    without = ChangeGate(max_interval_s=0.0, settle_frames=2)
    assert sum(without.should_infer(still, i * 0.25) for i in range(20)) == 3


def test_min_interval_delays_but_never_loses_a_change() -> None:
    empty = np.full((120, 160, 3), 90, np.uint8)
    full = empty.copy()
    full[30:90, 40:100] = 200
    gate = ChangeGate(min_interval_s=0.5, settle_frames=0)
    assert gate.should_infer(empty, 0.0)
    assert not gate.should_infer(full, 0.1)  # too soon after the last inference ...
    assert not gate.should_infer(full, 0.3)
    assert gate.should_infer(full, 0.5) and gate.last_reason == "change"  # ... but not forgotten
    assert not gate.should_infer(full, 1.5)


def test_reset_and_a_new_frame_size_force_inference() -> None:
    gate = ChangeGate(settle_frames=0)
    img = np.full((120, 160, 3), 50, np.uint8)
    assert gate.should_infer(img, 0) and not gate.should_infer(img, 1)
    gate.reset()
    assert gate.should_infer(img, 2)
    assert gate.should_infer(np.full((90, 160, 3), 50, np.uint8), 3)  # the camera changed resolution
    assert gate.should_infer(np.full((90, 160), 50, np.uint8), 4) is False  # grey frames are fine too


def test_gate_is_cheap_on_a_vga_frame() -> None:
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (480, 640, 3), dtype=np.uint8) for _ in range(2)]
    gate = ChangeGate()
    gate.should_infer(frames[0], 0.0)
    t0 = time.perf_counter()
    for i in range(40):
        gate.should_infer(frames[i % 2], i / 15)
    per_frame_ms = (time.perf_counter() - t0) / 40 * 1000
    assert per_frame_ms < 5.0  # goal < 1 ms; loose bound for a busy CI machine


@pytest.mark.parametrize("kwargs", [{"threshold": 0}, {"downscale": 4}, {"max_interval_s": -1},
                                    {"settle_frames": -1}, {"blocks": 0}, {"min_interval_s": -1},
                                    {"min_interval_s": 2.0, "max_interval_s": 1.0}])
def test_bad_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="change gate"):
        ChangeGate(**kwargs)


def test_a_non_image_is_refused() -> None:
    with pytest.raises(ValueError, match="change gate"):
        ChangeGate().should_infer(np.zeros(0, np.uint8), 0.0)
