"""Segmentation: the RFM scoring and segment rules, k chosen by silhouette, the churn model's time
split, basket segments and glance views, and who moved between runs."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from analytics.jobs.calendar import StoreCalendar
from analytics.segmentation import baskets as bk
from analytics.segmentation.churn import churn_risk, features_at, labels_after, split_for
from analytics.segmentation.clusters import cluster_customers
from analytics.segmentation.kmeans import choose_k
from analytics.segmentation.rfm import (
    SEGMENT_GRID,
    SEGMENT_RULES,
    SEGMENTS,
    customer_table,
    fm_score,
    score,
    score_customers,
)
from analytics.segmentation.run import segment_store
from tests.analytics.jobs.support import frames_of, synthetic_docs


def test_scores_count_the_quintile_boundaries_beaten_and_ties_share_a_score() -> None:
    assert list(score(np.arange(1, 11))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert list(score(np.arange(1, 11), higher_is_better=False)) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    freq = np.array([1] * 6 + [2, 2, 5, 9])  # most customers bought once
    s = score(freq)
    assert len(set(s[:6])) == 1 and s[0] == 1  # the same frequency, the same score
    assert s[-1] == 5 and s[6] == s[7]
    assert list(fm_score(np.array([1, 2, 4, 5]), np.array([2, 2, 5, 5]))) == [2, 2, 5, 5]  # half rounds up


def test_segment_rules_cover_every_cell_once_with_the_ten_named_segments() -> None:
    cells = [(r, fm) for _, rs, fms in SEGMENT_RULES for r in rs for fm in fms]
    assert len(cells) == 25 and len(set(cells)) == 25
    assert set(SEGMENT_GRID.values()) == set(SEGMENTS) and len(SEGMENTS) == 10
    expected = {(5, 5): "Champions", (5, 4): "Champions", (4, 5): "Loyal", (3, 4): "Loyal",
                (5, 2): "Potential loyalists", (4, 3): "Potential loyalists", (5, 1): "New", (4, 1): "Promising",
                (3, 1): "Need attention", (3, 3): "Need attention", (2, 3): "At risk", (1, 4): "At risk",
                (1, 5): "Can't lose", (2, 5): "Can't lose", (2, 1): "Hibernating", (1, 2): "Hibernating",
                (1, 1): "Lost"}
    for cell, name in expected.items():
        assert SEGMENT_GRID[cell] == name, cell


def _sale(tx: str, cust: str | None, day: date, total: int, status: str = "completed") -> dict:
    return {"tx_id": tx, "status": status, "completed_at": f"{day.isoformat()}T14:00:00Z", "total": total,
            "customer_id": cust, "payment": "cash", "lines": [{"sku": "A" if total > 0 else "B", "name": "x",
                                                               "qty": 1 if total > 0 else -1, "line_total": total}]}


def test_rfm_table_nets_refunds_and_ignores_anonymous_sales() -> None:
    d0 = date(2026, 1, 1)
    docs = [_sale("t1", "ana", d0, 1000), _sale("t2", "ana", d0 + timedelta(days=10), 3000),
            _sale("t3", "ana", d0 + timedelta(days=12), -500, "refunded"),
            _sale("t4", "bob", d0 + timedelta(days=5), 200), _sale("t5", None, d0 + timedelta(days=20), 9999)]
    data = frames_of(docs, tz="UTC")
    table = customer_table(data.sales, data.lines, d0 + timedelta(days=21))
    assert set(table.index) == {"ana", "bob"}
    assert table.loc["ana", "frequency"] == 2 and table.loc["ana", "monetary"] == 3500
    assert table.loc["ana", "recency_days"] == 11 and table.loc["ana", "tenure_days"] == 21
    assert table.loc["bob", "recency_days"] == 16
    scored = score_customers(table)
    assert scored.loc["ana", "r_score"] > scored.loc["bob", "r_score"]
    assert scored.loc["ana", "segment"] in SEGMENTS


def test_k_is_chosen_by_silhouette_and_is_deterministic() -> None:
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0, 0], [6, 6, 0], [0, 6, 6]])
    x = np.vstack([c + rng.normal(scale=0.5, size=(150, 3)) for c in centres])
    a, b = choose_k(x), choose_k(x)
    assert a.k == 3 and max(a.silhouettes, key=a.silhouettes.get) == 3
    assert (a.labels == b.labels).all()
    assert len(set(a.labels[:150])) == 1 and len(set(a.labels)) == 3
    tiny = pd.DataFrame({"recency_days": [1, 2], "frequency": [1, 2], "monetary": [10, 20], "tenure_days": [5, 6],
                         "diversity": [1.0, 2.0]}, index=["a", "b"])
    assert set(cluster_customers(tiny).names) == {"All customers"}


def test_churn_model_learns_before_the_test_window_and_is_validated_after_it() -> None:
    as_of = date(2026, 11, 1)
    split = split_for(as_of)
    assert split.train_cutoff == as_of - timedelta(days=180) and split.test_cutoff == as_of - timedelta(days=90)
    docs = synthetic_docs("s-test", days=330, per_day=14, customers=120, end=as_of - timedelta(days=1), lapse_at=0.3)
    data = frames_of(docs)
    before = features_at(data.sales, data.lines, split.test_cutoff)
    # sales on and after the cutoff change nothing the model sees at that cutoff
    later = data.sales[data.sales["local"] >= pd.Timestamp(split.test_cutoff)]
    assert len(later) > 0
    only_past = features_at(data.sales[data.sales["local"] < pd.Timestamp(split.test_cutoff)], data.lines,
                            split.test_cutoff)
    pd.testing.assert_frame_equal(before, only_past)
    labels = labels_after(data.sales, before.index, split.test_cutoff)
    lapsed = [c for c in before.index if int(c[1:]) >= 60]  # stopped coming long before the cutoff
    assert labels[lapsed].mean() == 1.0
    result = churn_risk(data.sales, data.lines, as_of, data.sales["local"].min().date())
    v = result.validation
    assert v["status"] == "validated" and v["train_cutoff"] == split.train_cutoff.isoformat()
    assert v["test_cutoff"] == split.test_cutoff.isoformat()
    assert v["auc"] > 0.8 and v["brier"] < v["brier_base_rate"]
    loyal = [c for c in result.risk.index if int(c[1:]) < 60]
    gone = [c for c in result.risk.index if int(c[1:]) >= 60]
    assert result.risk[gone].mean() > result.risk[loyal].mean() + 0.3
    short = churn_risk(data.sales, data.lines, data.sales["local"].min().date() + timedelta(days=100),
                       data.sales["local"].min().date())
    assert short.validation["status"] == "insufficient history" and short.risk.empty


def test_baskets_are_segmented_named_and_profiled_without_customers() -> None:
    rng = np.random.default_rng(3)
    docs = []
    day0 = date(2026, 9, 1)
    for i in range(400):
        morning = i % 2 == 0
        day = day0 + timedelta(days=int(rng.integers(0, 40)))
        hour = int(rng.integers(7, 9)) if morning else int(rng.integers(18, 20))
        lines = ([{"sku": "MILK", "name": "MILK 1 L", "qty": 1, "line_total": 6500}] if morning else
                 [{"sku": f"CANDLE{j}", "name": "VANILLA CANDLE", "qty": 3, "line_total": 36000} for j in range(4)])
        docs.append({"tx_id": f"t{i}", "status": "completed", "completed_at": f"{day.isoformat()}T{hour:02d}:10:00Z",
                     "total": sum(x["line_total"] for x in lines), "customer_id": None,
                     "payment": "cash" if morning else "card", "lines": lines})
    data = frames_of(docs, tz="UTC")
    frame = bk.basket_frame(data.sales, data.lines, None)
    seg = bk.segment_baskets(frame)
    assert seg.k == 2
    names = {p["segment"] for p in seg.profiles}
    assert any(n.startswith("Early morning small") for n in names), names
    # candles are most of the store's revenue, so they do not single out the evening segment's name
    assert "Evening large baskets" in names, names
    assert abs(sum(p["share"] for p in seg.profiles) - 1) < 1e-6
    assert abs(sum(p["revenue_share"] for p in seg.profiles) - 1) < 1e-3
    evening = next(p for p in seg.profiles if p["segment"].startswith("Evening"))
    assert evening["payment_mix"] == {"card": 1.0} and evening["top_categories"][0]["category"] == "candles & lighting"
    assert set(evening["peak_hours"]) <= {18, 19} and evening["known_customer_share"] == 0.0
    bands = bk.time_band_view(frame)
    assert sum(b["sales"] for b in bands) == 400
    values = bk.value_band_view(frame, 100)
    assert sum(v["sales"] for v in values) == 400 and values[0]["from"] == 0 and values[-1]["to"] is None


def test_a_store_with_no_known_customers_is_segmented_by_baskets_alone() -> None:
    """Anonymous sales only (a new till, or imported sales without customers): no customer rows, typed so the
    nightly run can store them, and the basket segments still come."""
    docs = [d | {"customer_id": None} for d in synthetic_docs("s-anon", days=60, per_day=8, customers=5)]
    data = frames_of(docs)
    cal = StoreCalendar.for_store(data.store.settings, set(data.sales["local"].dt.date), data.as_of)
    result = segment_store(data, cal)
    assert result.customers.empty and result.profiles["basket"]
    assert result.customers["diversity"].round(3).dtype == float  # what the nightly run writes
    assert result.customers["recency_days"].dtype == "int64"


def test_segment_store_records_who_moved_since_the_previous_run() -> None:
    docs = synthetic_docs("s-test", days=120, per_day=10, customers=40)
    data = frames_of(docs, settings={"paydays": [15, 30]})
    cal = StoreCalendar.for_store(data.store.settings, set(data.sales["local"].dt.date), data.as_of)
    first = segment_store(data, cal)
    assert {p["segment"] for p in first.profiles["rfm"]} <= set(SEGMENTS)
    assert first.views["transitions"]["previous_run"] is False
    assert "avg_days_to_payday" in first.profiles["basket"][0]
    previous = {c: ("Lost" if s != "Lost" else "Champions") for c, s in first.customers["segment"].items()}
    previous["gone-customer"] = "Loyal"
    second = segment_store(data, cal, previous)
    moved = second.customers[second.customers["prev_segment"] != second.customers["segment"]]
    assert len(moved) == len(second.customers)
    t = second.views["transitions"]
    assert t["previous_run"] and t["moved"] == len(second.customers) and t["gone"] == 1
    assert sum(m["customers"] for m in t["matrix"]) == len(second.customers)


@pytest.mark.parametrize("paydays,expected", [([15, 31], [14, 0, 3, 0]), ([], [-1, -1, -1, -1])])
def test_days_to_payday_counts_to_the_next_payday_and_31_means_month_end(paydays: list[int],
                                                                        expected: list[int]) -> None:
    from analytics.jobs.settings import parse_settings

    cal = StoreCalendar(parse_settings({"paydays": paydays}))
    days = [date(2026, 2, 1), date(2026, 2, 15), date(2026, 2, 12), date(2026, 2, 28)]
    assert list(cal.days_to_payday(days)) == expected
