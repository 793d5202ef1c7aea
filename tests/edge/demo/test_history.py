"""The demo store's synthetic history: valid `tillsight.tx/2` sales with a shop's rhythm and its costs, seeded."""

from __future__ import annotations

import re
import statistics
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from contracts import validate
from contracts.events import EVENT_TYPES
from edge.demo import DemoHistory, generate_history
from vision.catalogue import demo_catalogue

SD = "America/Santo_Domingo"
ZONE = ZoneInfo(SD)
END = datetime(2026, 11, 21, 15, 7, tzinfo=UTC)  # a Saturday, 11:07 in the shop
UTC_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
KEYS = {"schema", "tx_id", "seq", "store_id", "device_id", "cashier_id", "started_at", "completed_at", "status",
        "currency", "lines", "subtotal", "discount", "tax", "total", "payment", "customer_id", "events", "anomaly"}


def _make(**kw) -> DemoHistory:
    args = dict(products=demo_catalogue(), cashiers=["c-01", "c-02", "c-03"], store_id="s-001", device_id="till-1",
                timezone=SD, currency="DOP", end=END)
    return generate_history(**{**args, **kw})


@pytest.fixture(scope="module")
def history() -> DemoHistory:
    return _make()


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _local_day(p: dict) -> date:
    return _utc(p["completed_at"]).astimezone(ZONE).date()


def _normal(history: DemoHistory) -> list[dict]:
    return [p for p in history.payloads if p["tx_id"] not in history.planted]


def test_it_is_fast_and_deterministic():
    t0 = time.process_time()  # CPU time: the figure holds on a machine busy with other work
    a = _make()
    assert time.process_time() - t0 < 2.0
    b = _make()
    assert a.payloads == b.payloads and a.planted == b.planted
    c = _make(seed=8)
    assert c.payloads != a.payloads


def test_payloads_match_the_contract(history):
    tx_ids = set()
    for p in history.payloads:
        validate("tillsight.tx/2", p)  # the machine-readable contract, as the device checks before writing
        assert set(p) == KEYS
        assert p["schema"] == "tillsight.tx/2" and p["status"] == "completed" and p["currency"] == "DOP"
        assert p["store_id"] == "s-001" and p["device_id"] == "till-1"
        assert p["cashier_id"] in {"c-01", "c-02", "c-03"}
        assert uuid.UUID(p["tx_id"]).version == 4 and p["tx_id"] not in tx_ids
        tx_ids.add(p["tx_id"])
        assert UTC_RE.match(p["started_at"]) and UTC_RE.match(p["completed_at"])
        assert _utc(p["started_at"]) <= _utc(p["completed_at"]) < END
        assert p["lines"] and p["anomaly"] is None
        for line in p["lines"]:
            assert isinstance(line["unit_price"], int) and line["unit_price"] > 0 and line["qty"] >= 1
            assert line["line_total"] == line["qty"] * line["unit_price"]
            assert line["source"] in {"vision", "barcode", "manual"}
            assert (line["confidence"] is None) == (line["source"] == "manual")
            assert (line["unit_cost"] is None) == (line["sku"] == "SALAMI-500")  # the one product with no cost
        assert p["subtotal"] == sum(line["line_total"] for line in p["lines"])
        assert 0 <= p["discount"] <= p["subtotal"]
        assert p["total"] == p["subtotal"] - p["discount"]
        assert p["tax"] == round(p["total"] * 18 / 118)
        pay = p["payment"]
        assert pay["method"] in {"cash", "card", "mobile_money", "credit"}
        if pay["method"] == "cash":
            assert pay["tendered"] >= p["total"] and pay["change"] == pay["tendered"] - p["total"]
        else:
            assert pay["tendered"] == p["total"] and pay["change"] == 0
        assert (p["customer_id"] is not None) == (pay["method"] == "credit")
        if p["customer_id"]:
            assert re.fullmatch(r"cust-0[1-8]", p["customer_id"])
        for event in p["events"]:
            assert event["type"] in EVENT_TYPES and UTC_RE.match(event["at"]) and isinstance(event["detail"], dict)


def test_seq_grows_in_time_order_on_one_till(history):
    seqs = [p["seq"] for p in history.payloads]
    assert seqs == list(range(1, len(seqs) + 1))
    for before, after in zip(history.payloads, history.payloads[1:], strict=False):
        assert _utc(after["started_at"]) >= _utc(before["completed_at"])  # one till: no overlapping sales


def test_volume_and_weekly_rhythm(history):
    per_day = Counter(_local_day(p) for p in history.payloads)
    full_days = [d for d in per_day if d != END.astimezone(ZONE).date()]
    assert len(full_days) == 41
    assert 80 <= statistics.mean(per_day[d] for d in full_days) <= 160
    by_weekday = defaultdict(list)
    for d in full_days:
        by_weekday[d.weekday()].append(per_day[d])
    mean = {wd: statistics.mean(v) for wd, v in by_weekday.items()}
    assert mean[5] > mean[1]  # Saturday busier than Tuesday
    assert mean[5] == max(mean.values())
    assert mean[6] == min(mean.values())  # Sunday: short hours


def test_trading_hours_and_peaks(history):
    hours = Counter()
    for p in _normal(history):
        local = _utc(p["started_at"]).astimezone(ZONE)
        hours[local.hour] += 1
        assert 7 <= local.hour < 21
        if local.weekday() == 6:
            assert 8 <= local.hour < 13 or (local.hour == 13 and local.minute < 15)
    assert hours[9] > hours[14] and hours[18] > hours[14]  # morning and evening peaks


def test_paydays_are_busier_with_bigger_baskets(history):
    def payday(d: date) -> bool:
        return d.day == 15 or (d + timedelta(days=1)).day == 1

    days = defaultdict(list)
    for p in _normal(history):
        days[_local_day(p)].append(p)
    pay = [p for d, ps in days.items() if payday(d) for p in ps]
    other = [p for d, ps in days.items() if not payday(d) for p in ps]
    assert pay, "42 days hold at least one payday"
    assert statistics.mean(p["total"] for p in pay) > 1.3 * statistics.mean(p["total"] for p in other)
    assert statistics.mean(len(p["lines"]) for p in pay) > statistics.mean(len(p["lines"]) for p in other)


def test_staples_sell_most_and_baskets_are_mostly_small(history):
    sold = Counter()
    for p in history.payloads:
        for line in p["lines"]:
            sold[line["sku"]] += line["qty"]
    top = [sku for sku, _ in sold.most_common(8)]
    assert any(s.startswith("RICE") for s in top[:3]) and any(s.startswith("BEAN") for s in top)
    assert sold.most_common(1)[0][1] > 5 * sold.most_common()[-1][1]  # skewed popularity
    sizes = [len(p["lines"]) for p in _normal(history)]
    assert statistics.median(sizes) <= 3 and max(sizes) <= 12


def test_payment_mix(history):
    methods = Counter(p["payment"]["method"] for p in history.payloads)
    n = len(history.payloads)
    assert 0.5 < methods["cash"] / n < 0.7
    assert methods["card"] and methods["mobile_money"] and methods["credit"]
    cash = [p for p in history.payloads if p["payment"]["method"] == "cash"]
    assert sum(p["payment"]["change"] > 0 for p in cash) > 0.5 * len(cash)  # paid with notes, given change


def test_normal_sales_have_occasional_single_events(history):
    normal = _normal(history)
    voids = [sum(e["type"] == "void_line" for e in p["events"]) for p in normal]
    assert 0 < sum(v == 1 for v in voids) < 0.1 * len(normal) and max(voids) == 1
    assert any(e["type"] == "vision_mismatch" for p in normal for e in p["events"])
    sources = Counter(line["source"] for p in normal for line in p["lines"])
    assert sources["vision"] > 0.8 * sum(sources.values()) and sources["barcode"] and sources["manual"]


def test_planted_anomalies_are_listed_and_spread_over_the_period(history):
    assert len(history.planted) == 12
    by_id = {p["tx_id"]: p for p in history.payloads}
    assert set(history.planted) <= set(by_id)
    days = sorted(_local_day(by_id[t]) for t in history.planted)
    assert (days[-1] - days[0]).days >= 30
    text = " | ".join(history.planted.values())
    for words in ("sweethearting", "after-hours", "keyed in by hand", "drawer opened", "held open", "rushed"):
        assert words in text
    night = [by_id[t] for t, what in history.planted.items() if "after-hours" in what]
    assert all(2 <= _utc(p["started_at"]).astimezone(ZONE).hour < 4 for p in night)
    assert len(_make(anomaly_count=0).planted) == 0


def test_end_must_be_aware():
    with pytest.raises(ValueError):
        _make(end=datetime(2026, 11, 21, 12, 0))  # noqa: DTZ001 - the naive time this test is about


def test_costs_and_prices_change_during_the_history(history):
    """Suppliers raised costs (oil so much it now sells below cost) and the shop raised a few prices: each
    sale carries the cost and the price of its day."""
    plan = history.plan
    assert plan is not None and plan.cost_changes and plan.price_changes

    def seen(sku: str, field: str) -> list[tuple[str, int]]:
        return [(p["completed_at"], ln[field]) for p in history.payloads for ln in p["lines"] if ln["sku"] == sku]

    for change in plan.cost_changes + plan.price_changes:
        field = "unit_cost" if change in plan.cost_changes else "unit_price"
        values = {v for _, v in seen(change.sku, field)}
        assert {change.old, change.new} <= values, change  # sold at both, before and after
    oil = next(c for c in plan.cost_changes if c.sku == "OIL-SOL-1L")
    assert oil.new > round(21000 * 100 / 118)  # its price before tax no longer covers the cost
