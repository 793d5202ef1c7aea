"""The scorer on the demo store's history: planted anomalies stand out, normal sales stay quiet,
the model file round-trips and a broken one is refused clearly."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path

import joblib
import numpy as np
import pytest

from contracts import validate
from edge.anomaly import (
    AnomalyModelError,
    AnomalyResult,
    AnomalyScorer,
    CashierContext,
    rolling_contexts,
    sale_features,
)
from edge.demo import generate_history
from vision.catalogue import demo_catalogue

from .helpers import sale, void

SD = "America/Santo_Domingo"
NOW = datetime(2026, 11, 21, 15, 7, tzinfo=UTC)


@pytest.fixture(scope="module")
def history():
    return generate_history(demo_catalogue(), ["c-01", "c-02", "c-03"], "s-001", "till-1", SD, "DOP",
                            end=NOW, days=42, seed=7, anomaly_count=12)


@pytest.fixture(scope="module")
def contexts(history):
    return rolling_contexts(history.payloads)


@pytest.fixture(scope="module")
def forest(history):
    scorer = AnomalyScorer(SD, "DOP")
    scorer.fit(history.payloads, now=NOW)
    return scorer


def _split(history, results):
    planted = {p["tx_id"]: r for p, r in zip(history.payloads, results, strict=True)
               if p["tx_id"] in history.planted}
    normal = np.array([r.score for p, r in zip(history.payloads, results, strict=True)
                       if p["tx_id"] not in history.planted])
    return planted, normal


def _assert_planted_stand_out(scorer, history, results):
    planted, normal = _split(history, results)
    assert len(planted) == 12
    scores = np.array([r.score for r in planted.values()])
    assert scores.mean() > np.percentile(normal, 95)
    missed = {history.planted[k]: r for k, r in planted.items() if not scorer.is_alert(r)}
    assert len(missed) <= 2, missed
    assert (normal >= scorer.alert_threshold).mean() < 0.03
    assert np.median(normal) < 0.3  # a typical sale scores low
    for r in planted.values():
        assert r.reasons and len(r.reasons) <= 4


def test_forest_mode_finds_the_planted_anomalies(forest, history, contexts):
    assert forest.mode == "forest"
    assert forest.model == "iforest-202611211507"
    results = forest.score_many(history.payloads, contexts)
    _assert_planted_stand_out(forest, history, results)
    for payload, result in list(zip(history.payloads, results, strict=True))[::300]:
        validate("tillsight.tx/2", {**payload, "anomaly": result.to_payload()})


def test_rules_mode_on_a_short_history_finds_them_too(history, contexts):
    scorer = AnomalyScorer(SD, "DOP", min_history=200)
    scorer.fit(history.payloads[:150], now=NOW)  # a day and a half of trading
    assert scorer.mode == "rules" and scorer.model == "rules-v1"
    results = scorer.score_many(history.payloads, contexts)
    _assert_planted_stand_out(scorer, history, results)
    assert all(r.model == "rules-v1" for r in results)


def test_an_unfitted_scorer_scores_with_the_rules():
    scorer = AnomalyScorer(SD, "DOP")
    result = scorer.score(sale(events=[(i, void()) for i in range(5)]))
    assert result.model == "rules-v1" and scorer.is_alert(result)
    assert result.reasons == ("5 lines voided in this sale",)
    assert scorer.score(sale()).score == 0.0


def test_reasons_are_readable_with_numbers(forest, history, contexts):
    scored = forest.score_many(history.payloads, contexts)
    results = {p["tx_id"]: r for p, r in zip(history.payloads, scored, strict=True)}
    kinds = ("sweethearting", "after-hours", "keyed in by hand", "drawer", "held open", "rushed")
    by_kind: dict[str, list[str]] = {kind: [] for kind in kinds}
    for tx_id, what in history.planted.items():
        by_kind[next(kind for kind in kinds if kind in what)].extend(results[tx_id].reasons)
    assert any("lines voided" in r for r in by_kind["sweethearting"])
    assert any("RD$" in r and "%" in r for r in by_kind["sweethearting"])  # the discount, in money and share
    assert any(r.startswith("sale at 03:") and "outside usual hours (07:00–21:00)" in r
               for r in by_kind["after-hours"])
    assert any("items in the basket (usual" in r for r in by_kind["after-hours"])
    assert any("typed in by hand" in r for r in by_kind["keyed in by hand"])
    assert any("cash drawer opened" in r for r in by_kind["drawer"])
    assert any("min from first item to payment" in r for r in by_kind["held open"])
    assert any("items checked out in" in r for r in by_kind["rushed"])


def test_single_scores_match_batch_scores(forest, history, contexts):
    sample = history.payloads[::400] + [p for p in history.payloads if p["tx_id"] in history.planted][:3]
    batch = forest.score_many(sample, [contexts[p["tx_id"]] for p in sample])
    for payload, expected in zip(sample, batch, strict=True):
        assert forest.score(payload, contexts[payload["tx_id"]]) == expected


def test_result_payload_shape():
    result = AnomalyResult(score=0.123456, reasons=("3 lines voided in this sale",), model="iforest-202611201200")
    assert result.to_payload() == {"score": 0.123, "reasons": ["3 lines voided in this sale"],
                                   "model": "iforest-202611201200"}


def test_fitting_is_deterministic(history, forest):
    again = AnomalyScorer(SD, "DOP")
    again.fit(history.payloads, now=NOW)
    sample = history.payloads[::97]
    assert [r.score for r in again.score_many(sample)] == [r.score for r in forest.score_many(sample)]


def test_voided_and_refunded_sales_are_not_learnt_from(history):
    payloads = [dict(p) for p in history.payloads[:300]]
    for p in payloads[:40]:
        p["status"] = "voided"
    for p in payloads[40:50]:
        p["status"] = "refunded"
    scorer = AnomalyScorer(SD, "DOP", min_history=200)
    scorer.fit(payloads, now=NOW)
    assert scorer.history_size == 250 and scorer.mode == "forest"


def test_fit_accepts_features(history, contexts):
    feats = [sale_features(p, SD, contexts[p["tx_id"]]) for p in history.payloads[:500]]
    scorer = AnomalyScorer(SD, "DOP")
    scorer.fit(feats, now=NOW)
    assert scorer.mode == "forest" and scorer.history_size == 500


def test_save_and_load_round_trip_the_scores(forest, history, contexts, tmp_path: Path):
    path = tmp_path / "models" / "anomaly.joblib"
    forest.save(path)
    assert [p.name for p in path.parent.iterdir()] == ["anomaly.joblib"]  # no temporary file left behind
    loaded = AnomalyScorer.load(path, timezone=SD, currency="DOP")
    assert loaded.model == forest.model and loaded.fitted_at == forest.fitted_at and loaded.mode == "forest"
    sample = history.payloads[::50] + [p for p in history.payloads if p["tx_id"] in history.planted]
    ctx = [contexts[p["tx_id"]] for p in sample]
    assert loaded.score_many(sample, ctx) == forest.score_many(sample, ctx)
    assert not loaded.needs_refit(NOW + timedelta(hours=1), 0)


def test_rules_mode_round_trips_too(history, tmp_path: Path):
    scorer = AnomalyScorer(SD, "DOP")
    scorer.fit(history.payloads[:100], now=NOW)
    scorer.save(tmp_path / "m.joblib")
    loaded = AnomalyScorer.load(tmp_path / "m.joblib")
    assert loaded.mode == "rules" and loaded.baseline == scorer.baseline
    assert loaded.score_many(history.payloads[:200]) == scorer.score_many(history.payloads[:200])


def test_a_corrupt_model_file_is_refused_clearly(forest, tmp_path: Path):
    path = tmp_path / "anomaly.joblib"
    forest.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])  # a power cut in the middle of someone else's copy
    with pytest.raises(AnomalyModelError, match="cannot read anomaly model"):
        AnomalyScorer.load(path)
    path.write_bytes(b"\x00garbage")
    with pytest.raises(AnomalyModelError):
        AnomalyScorer.load(path)
    with pytest.raises(AnomalyModelError):
        AnomalyScorer.load(tmp_path / "missing.joblib")


def test_an_incompatible_model_file_is_refused(forest, tmp_path: Path):
    path = tmp_path / "other.joblib"
    joblib.dump({"format": "something-else/1"}, path)
    with pytest.raises(AnomalyModelError, match="not a Tillsight anomaly model"):
        AnomalyScorer.load(path)
    state = forest._state()
    joblib.dump({**state, "sklearn": "0.1.0"}, path)
    with pytest.raises(AnomalyModelError, match=r"scikit-learn 0\.1\.0"):
        AnomalyScorer.load(path)
    joblib.dump({k: v for k, v in state.items() if k != "baseline"}, path)
    with pytest.raises(AnomalyModelError, match="incomplete"):
        AnomalyScorer.load(path)
    with open(path, "wb") as fh:
        pickle.dump([1, 2, 3], fh)
    with pytest.raises(AnomalyModelError):
        AnomalyScorer.load(path)
    forest.save(path)
    with pytest.raises(AnomalyModelError, match=r"time zone|timezone"):
        AnomalyScorer.load(path, timezone="Europe/Madrid")


def test_refit_schedule():
    scorer = AnomalyScorer(SD, "DOP", min_history=200)
    assert scorer.needs_refit(NOW, 0)  # never fitted
    rows = [sale(tx_id=f"t{i}", completed=f"2026-11-20T{12 + i % 10}:{i % 60:02d}:00Z") for i in range(150)]
    scorer.fit(rows, now=NOW)
    assert scorer.mode == "rules"
    assert not scorer.needs_refit(NOW + timedelta(hours=2), 10)
    assert scorer.needs_refit(NOW + timedelta(hours=2), 50)  # 150 + 50 reach min_history: time for the forest
    scorer.fit(rows * 2, now=NOW)
    assert scorer.mode == "forest"
    assert not scorer.needs_refit(NOW + timedelta(hours=23), 99)
    assert scorer.needs_refit(NOW + timedelta(hours=23), 100)  # 100 new sales
    assert scorer.needs_refit(NOW + timedelta(hours=24), 0)  # daily


def test_context_changes_the_score(forest):
    payload = sale()
    calm = forest.score(payload, CashierContext())
    risky = forest.score(payload, CashierContext(recent_void_rate=0.3, drawer_opens_no_sale=3))
    assert risky.score > calm.score
    assert any("voided 30% of lines" in r for r in risky.reasons)
