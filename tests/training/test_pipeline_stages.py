"""Training stages: fresh scenes per stage, and a continuation that does not repeat stage 1."""

from __future__ import annotations

import pytest

from training.pipeline import STAGE_SEED_STEP, stages_from_hours


def test_stage_one_trains_from_scratch_and_later_stages_fine_tune_on_new_scenes():
    first, second = stages_from_hours("1.2,0.75")
    assert (first.seed_base, first.time_hours, first.warmup_epochs) == (0, 1.2, 1.0)
    assert (second.seed_base, second.time_hours, second.warmup_epochs) == (STAGE_SEED_STEP, 0.75, 0.0)
    assert second.lr0 < first.lr0


def test_a_continuation_renders_scenes_no_earlier_stage_saw_and_fine_tunes():
    earlier = stages_from_hours("1.2,0.75")
    (third,) = stages_from_hours("1.5", first_stage=3)
    assert third.seed_base == 2 * STAGE_SEED_STEP
    assert third.seed_base not in {s.seed_base for s in earlier}
    assert (third.lr0, third.warmup_epochs) == (earlier[1].lr0, 0.0)


@pytest.mark.parametrize("hours, first_stage", [("", 1), ("1,-2", 1), ("soon", 1), ("1", 0)])
def test_bad_stage_options_are_refused_with_the_value(hours: str, first_stage: int):
    with pytest.raises(ValueError):
        stages_from_hours(hours, first_stage=first_stage)
