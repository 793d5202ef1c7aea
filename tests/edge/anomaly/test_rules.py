"""The transparent rules: what fires, with which words and numbers, and how the signs add up."""

from __future__ import annotations

import pytest

from edge.anomaly import Baseline, CashierContext, sale_features
from edge.anomaly.reasons import hours_span
from edge.anomaly.rules import DEFAULT_USUAL_HOURS, evaluate_rules, fit_baseline, hours_outside, rules_score

from .helpers import OIL, RICE, SODA, drawer, line, mismatch, override, sale, void

SD = "America/Santo_Domingo"


def _rules(payload: dict, baseline: Baseline | None = None, context: CashierContext | None = None):
    reasons = evaluate_rules(sale_features(payload, SD, context), baseline or Baseline(), "DOP", payload)
    return rules_score(reasons), [r.text for r in reasons]


def _history(n: int = 200) -> Baseline:
    """A store selling RD$300-RD$400 baskets between 08:00 and 20:00 local."""
    rows = []
    for i in range(n):
        hour = 12 + i % 12  # 12..23 UTC = 08..19 local
        price = 30000 + (i % 11) * 1000
        rows.append(sale(completed=f"2026-11-{1 + i % 20:02d}T{hour:02d}:{i % 60:02d}:00Z",
                         lines=[line({"sku": "X", "name": "X", "unit_price": price})], tx_id=f"h{i}"))
    return fit_baseline([sale_features(p, SD) for p in rows])


def test_a_clean_sale_raises_nothing():
    score, reasons = _rules(sale())
    assert score == 0.0 and reasons == []


def test_sweethearting_is_an_alert_with_readable_reasons():
    payload = sale(
        lines=[line(RICE, 2), line(OIL, 1, unit_price=8000)], discount=16000,
        events=[(10 + i, void()) for i in range(4)] + [(30, override(OIL, 8000))],
    )
    score, reasons = _rules(payload)
    assert score >= 0.9
    assert "4 lines voided in this sale" in reasons
    assert "price overridden by hand (Aceite Sol Dorado 1 L: RD$210.00 → RD$80.00)" in reasons
    assert "discount of RD$160.00 is 37% of the sale" in reasons


def test_one_weak_sign_alone_stays_below_the_alert_threshold():
    for payload in (
        sale(events=[(5, void()), (6, void())]),  # two voids
        sale(events=[(5, override(RICE, 16000))]),
        sale(events=[(-60, drawer(no_sale=True))]),  # change for a neighbour
        sale(events=[(5, mismatch()), (8, mismatch(RICE["sku"], seen=2, sold=1))]),
    ):
        score, reasons = _rules(payload)
        assert 0.0 < score < 0.7, reasons
    assert _rules(sale(events=[(5, void())]))[0] == 0.0  # a single void is everyday life
    assert _rules(sale(method="cash", events=[(59, drawer(no_sale=False))]))[0] == 0.0  # a cash sale's own drawer


def test_signs_add_up():
    voids = [(5, void()), (6, void())]
    alone, _ = _rules(sale(events=voids))
    together, reasons = _rules(sale(events=voids + [(-60, drawer(no_sale=True))] * 2))
    assert together > alone
    assert "cash drawer opened twice without a sale" in reasons
    assert rules_score([]) == 0.0


def test_drawer_opened_three_times_without_a_sale_alerts():
    opens = [(-t, drawer(no_sale=True)) for t in (60, 300, 900)]
    score, reasons = _rules(sale(lines=[line(SODA)], events=opens))
    assert score >= 0.7
    assert reasons == ["cash drawer opened 3 times without a sale"]


def test_high_total_against_the_default_and_against_history():
    big = sale(lines=[line(OIL, 60)])  # RD$12,600.00
    _, reasons = _rules(big)
    assert "total RD$12,600.00 is above RD$10,000.00" in reasons  # no history yet: the default
    baseline = _history()
    assert baseline.median_total == 35000
    _, reasons = _rules(sale(lines=[line(OIL, 20)]), baseline)  # RD$4,200.00
    assert "total RD$4,200.00 is 12× the usual sale of RD$350.00" in reasons
    assert _rules(sale(lines=[line(OIL, 2)]), baseline)[1] == []


def test_sale_outside_usual_hours_names_the_time_and_the_hours():
    baseline = _history()
    assert hours_span(baseline.usual_hours) == "08:00–20:00"
    _, reasons = _rules(sale(completed="2026-11-21T07:10:00Z"), baseline)  # 03:10 local
    assert "sale at 03:10, outside usual hours (08:00–20:00)" in reasons
    score_far, _ = _rules(sale(completed="2026-11-21T07:10:00Z"), baseline)
    score_near, _ = _rules(sale(completed="2026-11-22T00:20:00Z"), baseline)  # 20:20 local, just after closing
    assert score_near < score_far < 0.7
    # before any history: 06:00-22:00
    assert hours_span(DEFAULT_USUAL_HOURS) == "06:00–22:00"
    _, reasons = _rules(sale(completed="2026-11-21T07:10:00Z"))
    assert "sale at 03:10, outside usual hours (06:00–22:00)" in reasons


def test_hours_outside_wraps_around_midnight():
    late_shop = tuple(h >= 18 or h < 2 for h in range(24))  # a bar: 18:00-02:00
    assert hours_outside(23.5, late_shop) == 0.0
    assert hours_outside(1.5, late_shop) == 0.0
    assert hours_outside(3.0, late_shop) == pytest.approx(1.0)
    assert hours_outside(17.0, late_shop) == pytest.approx(1.0)
    assert hours_span(late_shop) == "18:00–02:00"


def test_manual_lines_and_camera_disagreements():
    typed = [line({"sku": f"M{i}", "name": f"M{i}", "unit_price": 1000}, source="manual") for i in range(5)]
    lines = [line(RICE)] + typed
    score, reasons = _rules(sale(lines=lines, events=[(i, mismatch()) for i in range(3)]))
    assert score >= 0.7
    assert "5 of 6 lines typed in by hand" in reasons
    assert "camera disagreed with what was rung up 3 times" in reasons


def test_too_fast_and_too_long():
    many = [line(RICE, 4), line(SODA, 6)]
    assert "10 items checked out in 6 s" in _rules(sale(seconds=6, lines=many))[1]
    assert _rules(sale(seconds=60, lines=many))[1] == []
    assert "sale took 35 min from first item to payment" in _rules(sale(seconds=35 * 60))[1]


def test_cashier_void_rate():
    _, reasons = _rules(sale(), context=CashierContext(recent_void_rate=0.18))
    assert reasons == ["this cashier voided 18% of lines in recent sales"]
    assert _rules(sale(), context=CashierContext(recent_void_rate=0.02))[1] == []


def test_baseline_needs_enough_history():
    few = fit_baseline([sale_features(sale(), SD)] * 10)
    assert few.median_total is None and few.usual_hours == DEFAULT_USUAL_HOURS
    assert few.high_total_for("DOP") == 1_000_000
    assert Baseline.from_dict(_history().to_dict()) == _history()
