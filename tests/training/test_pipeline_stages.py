"""Training stages: fresh scenes per stage, a continuation that does not repeat stage 1, and
packing a run's weights later from its work folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tillsight_cli.main import main
from training.pipeline import STAGE_SEED_STEP, read_run_datasets, stages_from_hours


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


def _dataset(folder: Path, seed_base: int, data_hash: str) -> None:
    folder.mkdir(parents=True)
    (folder / "dataset.json").write_text(json.dumps({"train_images": 40, "seed_base": seed_base,
                                                     "data_hash": data_hash}))
    (folder / "classes.json").write_text(json.dumps(["COLA", "WATER"]))


def test_a_staged_run_is_packed_with_every_stage_in_its_data_hash(tmp_path: Path):
    for k, h in ((1, "a"), (2, "b"), (10, "c")):
        _dataset(tmp_path / f"dataset-{k}", (k - 1) * STAGE_SEED_STEP, h)
    classes, meta = read_run_datasets(tmp_path)
    assert classes == ["COLA", "WATER"]
    assert meta["stage_hashes"] == ["a", "b", "c"]  # stage order, not name order
    assert [d["seed_base"] for d in meta["datasets"]] == [0, STAGE_SEED_STEP, 9 * STAGE_SEED_STEP]
    _, first_two = read_run_datasets(tmp_path, stages=2)
    assert first_two["stage_hashes"] == ["a", "b"] and first_two["data_hash"] != meta["data_hash"]


def test_a_single_dataset_folder_keeps_its_own_hash(tmp_path: Path):
    _dataset(tmp_path / "dataset", 0, "solo")
    assert read_run_datasets(tmp_path)[1]["data_hash"] == "solo"


def test_packing_from_a_folder_without_datasets_says_what_is_missing(tmp_path: Path, capsys):
    weights = tmp_path / "best.pt"
    weights.write_bytes(b"weights")
    assert main(["train", "package", str(weights), "--work", str(tmp_path)]) == 2
    assert "dataset-N/dataset.json" in capsys.readouterr().err
    assert main(["train", "package", str(tmp_path / "none.pt"), "--work", str(tmp_path)]) == 2
    assert "no such weights file" in capsys.readouterr().err


def test_packing_a_continued_run_records_the_weights_it_started_from(tmp_path: Path, monkeypatch, capsys):
    import training.pipeline

    _dataset(tmp_path / "dataset-1", 6 * STAGE_SEED_STEP, "a")
    weights, start = tmp_path / "best.pt", tmp_path / "start.pt"
    weights.write_bytes(b"weights")
    packed = {}
    monkeypatch.setattr(training.pipeline, "package",
                        lambda w, spec, *a, **k: packed.update(spec=spec, stages=k["stages"]) or {"bundle": "b"})
    argv = ["train", "package", str(weights), "--work", str(tmp_path), "--init-weights"]
    assert main(argv + [str(tmp_path / "gone.pt")]) == 2
    assert "gone.pt: no such weights file" in capsys.readouterr().err and not packed
    start.write_bytes(b"earlier")
    assert main(argv + [str(start)]) == 0
    assert packed["spec"].init_weights == str(start)
    assert packed["stages"] == [{"train_images": 40, "seed_base": 6 * STAGE_SEED_STEP}]
