"""``hub jobs`` on SQLite and PostgreSQL: results stored per run, unchanged stores skipped, the query
API never showing one store's rows to another, stock from device telemetry in the reorder advice,
both backends giving the same results, and the insights published retained to a real broker in
the shape the device dashboard reads."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import time_machine
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, func, insert, select, update

from analytics.db import analytics_tables as an
from analytics.db import tables as t
from analytics.jobs import results as rs
from analytics.jobs.insights import MAX_BYTES, build_insights
from analytics.jobs.runner import run_jobs
from tests.analytics.jobs.support import engine_for, seed_store
from tests.support.fixtures import make_config, write_config
from tillsight_cli.main import main

NOW = "2026-11-01T00:00:00Z"


def _devices(engine: Engine, store_id: str, telemetry: dict[str, Any] | None = None, n: int = 2) -> None:
    with engine.begin() as conn:
        for i in range(n):
            conn.execute(insert(t.devices).values(store_id=store_id, device_id=f"till-{i + 1}", first_seen=NOW,
                                                  last_seen=NOW, online=True, last_seq=0, gaps=0,
                                                  telemetry=telemetry if i == 0 else {"backlog": 0}))


def test_jobs_store_results_skip_unchanged_stores_and_keep_tenants_apart(hub) -> None:
    url, engine = hub
    seed_store(engine, "s-a", {"paydays": [15, 30], "lead_time_days": 3}, seed=1, days=240, lapse_at=0.3)
    seed_store(engine, "s-b", {}, seed=2, per_day=6)
    stock = {"stock": {"as_of": "2026-10-31T20:00:00Z", "items": [{"sku": "RICE-5LB", "on_hand": 4},
                                                                  {"sku": "SOAP", "on_hand": 500}]}}
    _devices(engine, "s-a", stock)
    _devices(engine, "s-b", {"stock": {"as_of": "yesterday", "items": "none"}}, n=1)  # malformed: ignored

    runs = {r.store_id: r for r in run_jobs(url, workers=2)}
    assert {s: r.status for s, r in runs.items()} == {"s-a": "succeeded", "s-b": "succeeded"}, runs
    assert {r.status for r in run_jobs(url)} == {"skipped"}

    a, b = ["s-a"], ["s-b"]
    run = rs.latest_run(engine, "s-a", a)
    assert run["as_of"] == "2026-11-01" and run["sales"] > 1000
    rfm = rs.segments(engine, "s-a", a, "rfm")
    assert rfm and abs(sum(s["share"] for s in rfm) - 1) < 1e-6
    assert rs.segments(engine, "s-a", a, "basket") and rs.segments(engine, "s-a", a, "cluster")
    assert rs.view(engine, "s-a", a, "churn_validation")["status"] == "validated"
    days = rs.store_forecast(engine, "s-a", a, "revenue")
    assert len(days) == 28 and all(d["lo80"] <= d["mean"] <= d["hi80"] for d in days)
    sundays = [d for d in days if d["day"] in ("2026-11-01", "2026-11-08")]
    assert all(d["mean"] == 0 for d in sundays)  # the shop never trades on Sundays
    staff = rs.staffing(engine, "s-a", a)
    assert staff["hours"] and all(h["staff"] >= 1 for h in staff["hours"])
    rice = rs.sku_forecast(engine, "s-a", a, "RICE-5LB")
    assert len(rice["days"]) == 28 and rice["reorder"]["on_hand"] == 4
    assert rice["reorder"]["order_now"] is True and rice["reorder"]["stockout_date"] is not None
    assert rice["reorder"]["lead_time_days"] == 3
    order = rs.reorder_list(engine, "s-a", a, only_order_now=True)
    assert [r["sku"] for r in order][:1] == ["RICE-5LB"]
    soap = next(r for r in rs.reorder_list(engine, "s-a", a) if r["sku"] == "SOAP")
    assert soap["order_now"] is False and soap["days_of_cover"] > 28
    b_reorder = rs.reorder_list(engine, "s-b", b)
    assert b_reorder and all(r["on_hand"] is None and r["stockout_date"] is None for r in b_reorder)
    assert all(r["reorder_point"] >= 0 and r["order_qty"] > 0 for r in b_reorder if r["mean_daily"] > 0.5)
    assert rs.top_products(engine, "s-a", a)[0]["revenue"] > 0

    # tenant isolation: asking for a store outside the allowed ones fails before any query, and
    # the rows of the allowed store are its own
    for fn, extra in ((rs.latest_run, ()), (rs.segments, ()), (rs.customers, ()), (rs.churn_risk_list, ()),
                      (rs.movers, ()), (rs.store_forecast, ()), (rs.hourly_traffic, ()), (rs.staffing, ()),
                      (rs.reorder_list, ()), (rs.slow_movers, ()), (rs.forecast_skus, ()),
                      (rs.sku_forecast, ("RICE-5LB",)), (rs.view, ("time_bands",)), (rs.top_products, ())):
        with pytest.raises(rs.StoreNotAllowed):
            fn(engine, "s-b", a, *extra)
    assert {c["customer_id"] for c in rs.customers(engine, "s-a", a, limit=1000)}
    a_ids = {r["sku"]: r["mean_daily"] for r in rs.reorder_list(engine, "s-a", a, limit=1000)}
    b_ids = {r["sku"]: r["mean_daily"] for r in rs.reorder_list(engine, "s-b", b, limit=1000)}
    assert a_ids != b_ids  # same SKUs, different shops, different demand
    assert [s["store_id"] for s in rs.stores_overview(engine, a)] == ["s-a"]
    with engine.connect() as conn:
        a_run = rs.latest_run(engine, "s-a", a)["run_id"]
        stores_in_a_run = set(conn.execute(select(an.sku_forecasts.c.store_id)
                                           .where(an.sku_forecasts.c.run_id == a_run)).scalars())
    assert stores_in_a_run == {"s-a"}

    # a new sale makes the store run again, and the second run knows who moved
    with engine.begin() as conn:
        conn.execute(update(t.stores).where(t.stores.c.store_id == "s-a")
                     .values(settings={"paydays": [15, 30], "lead_time_days": 5}))
    again = {r.store_id: r.status for r in run_jobs(url, workers=1)}
    assert again == {"s-a": "succeeded", "s-b": "skipped"}
    moved = rs.movers(engine, "s-a", a)
    assert moved["transitions"]["previous_run"] is True
    assert all(c["prev_segment"] != c["segment"] for c in moved["customers"])
    history = rs.run_history(engine, "s-a", a)
    assert [h["status"] for h in history][:3] == ["succeeded", "skipped", "succeeded"]


def _results(engine: Engine, store_id: str) -> dict[str, Any]:
    allowed = [store_id]
    strip = lambda rows: [{k: v for k, v in r.items() if k not in ("run_id",)} for r in rows]  # noqa: E731
    return {
        "rfm": strip(rs.segments(engine, store_id, allowed, "rfm")),
        "customers": strip(rs.customers(engine, store_id, allowed, limit=10000)),
        "revenue": rs.store_forecast(engine, store_id, allowed, "revenue"),
        "skus": strip(rs.forecast_skus(engine, store_id, allowed, limit=1000)),
        "reorder": strip(rs.reorder_list(engine, store_id, allowed, limit=1000)),
        "hours": rs.hourly_traffic(engine, store_id, allowed),
        "baskets": strip(rs.segments(engine, store_id, allowed, "basket")),
    }


def test_sqlite_and_postgresql_give_the_same_results(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    out = {}
    for kind in ("sqlite", "postgresql"):
        url, engine = engine_for(kind, tmp_path, request)
        seed_store(engine, "s-a", {"paydays": [15, 30]}, seed=4, days=120)
        assert [r.status for r in run_jobs(url, workers=1)] == ["succeeded"]
        out[kind] = _results(engine, "s-a")
        engine.dispose()
    for key in out["sqlite"]:
        assert out["sqlite"][key] == out["postgresql"][key], key


def _subscribe(broker, topics: list[str], want: int) -> tuple[list[tuple[str, bytes, bool]], threading.Event]:
    got: list[tuple[str, bytes, bool]] = []
    done = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="device-check", protocol=mqtt.MQTTv5)

    def on_connect(c, userdata, flags, reason, props=None):
        for topic in topics:
            c.subscribe(topic, qos=1)

    def on_message(c, userdata, msg):
        got.append((msg.topic, msg.payload, msg.retain))
        if len(got) >= want:
            done.set()

    client.on_connect, client.on_message = on_connect, on_message
    client.connect(broker.host, broker.port)
    client.loop_start()
    done.wait(15)
    client.loop_stop()
    client.disconnect()
    return got, done


def test_jobs_publish_retained_insights_that_the_device_dashboard_accepts(broker, tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    cfg = make_config(broker, tmp_path)
    cfg_file = write_config(cfg.model_copy(update={"hub": cfg.hub.model_copy(update={"database_url": url})}),
                            tmp_path / "hub.yaml")
    from analytics.db import make_engine, migrate

    engine = make_engine(url)
    migrate(engine)
    seed_store(engine, "s-a", {}, seed=5, days=100)
    _devices(engine, "s-a")
    # the command reads the clock once: its runs are as of the store's date then (Sunday 1 November, 01:00 local)
    with time_machine.travel(datetime(2026, 11, 1, 5, 0, tzinfo=UTC), tick=True):
        assert main(["hub", "jobs", "--config", str(cfg_file), "--publish", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["runs"][0]["status"] == "succeeded"
    assert sorted(report["runs"][0]["published"]) == ["tillsight/v1/s-a/till-1/insights",
                                                      "tillsight/v1/s-a/till-2/insights"]
    # a device connecting afterwards still gets them: retained
    got, done = _subscribe(broker, ["tillsight/v1/s-a/+/insights"], 2)
    assert done.is_set() and all(retain for _, _, retain in got)
    payload = got[0][1]
    assert len(payload) < MAX_BYTES
    doc = json.loads(payload)
    assert doc["source"] == "computed" and doc["headline"] and doc["store_id"] == "s-a"
    assert all(set(it) == {"title", "text"} and it["text"] for it in doc["items"])
    titles = {it["title"] for it in doc["items"]}
    assert titles >= {"Customers", "Baskets"}
    # the store-local today then, a Sunday the shop keeps shut
    assert doc["as_of"] == doc["day"] == "2026-11-01" and "expected to be closed" in doc["headline"]
    # both pinned: the seeded shop's sales end on Saturday 31 October and it keeps Sundays shut
    sunday = build_insights(engine, "s-a", now=datetime(2026, 11, 1, 15, 0, tzinfo=UTC), narrative=False)
    assert sunday["day"] == "2026-11-01"
    assert sunday["headline"] == "Sunday 01 November: the store is expected to be closed."
    assert not {it["title"] for it in sunday["items"]} & {"Today's forecast", "Staffing"}
    friday_at = datetime(2026, 11, 6, 15, 0, tzinfo=UTC)
    friday = build_insights(engine, "s-a", now=friday_at, narrative=False)
    assert friday["day"] == "2026-11-06" and friday["headline"].startswith("Friday 06 November: about ")
    assert {it["title"] for it in friday["items"]} >= {"Today's forecast", "Staffing"}
    assert friday["forecast"]["sales"]["mean"] > 0 and friday["staffing"]["hours"]
    # a day the run's forecast does not cover falls back to its first day
    later = build_insights(engine, "s-a", now=datetime(2027, 3, 1, 15, 0, tzinfo=UTC), narrative=False)
    assert later["day"] == "2026-11-01"
    with engine.connect() as conn:
        published = conn.execute(select(func.count()).select_from(an.analytics_runs)
                                 .where(an.analytics_runs.c.published_at.is_not(None))).scalar_one()
    assert published == 1
    # the device's own store keeps it (edge/store/insights.py is what the sync agent calls)
    from edge.store import Store

    store = Store(tmp_path / "device" / "store.db")
    saved = store.insights.save(payload)
    assert saved["headline"] == doc["headline"] and store.insights.latest()["items"] == doc["items"]
    assert build_insights(engine, "s-a", now=friday_at)["run_id"] == doc["run_id"]
    assert build_insights(engine, "s-none", now=friday_at) is None


def test_publishing_to_an_unreachable_broker_fails_loudly(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from analytics.db import make_engine, migrate
    from firmware_config import load_config
    from tests.support.mosquitto import free_port

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = make_engine(url)
    migrate(engine)
    seed_store(engine, "s-a", {}, seed=6, days=70, per_day=8)
    _devices(engine, "s-a", n=1)
    cfg = load_config(None, env={}, overrides={"mqtt": {"port": free_port()}, "hub": {"database_url": url},
                                               "data_dir": str(tmp_path / "d")})
    cfg_file = write_config(cfg, tmp_path / "hub.yaml")
    started = time.monotonic()
    assert main(["hub", "jobs", "--config", str(cfg_file), "--publish"]) == 1
    assert time.monotonic() - started < 120
    assert "s-a: succeeded" in capsys.readouterr().out


def test_the_morning_collections_are_as_of_the_documents_time(tmp_path: Path) -> None:
    """The collection reminders in the morning document are the credit book at the document's time
    (they were read at the wall clock's time, whatever ``now`` the document was written for)."""
    from analytics.credit.reminders import device_reminders
    from analytics.db import make_engine
    from analytics.jobs.insights import COLLECTION_ITEMS
    from tests.analytics.narratives.support import seed_credit_store

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = make_engine(url)
    seed_credit_store(engine, url)
    seen = []
    for now in (datetime(2026, 11, 21, 15, 0, tzinfo=UTC), datetime(2027, 3, 1, 15, 0, tzinfo=UTC)):
        doc = build_insights(engine, "s-cr", now=now, narrative=False)
        expected = device_reminders(engine, "s-cr", now, limit=COLLECTION_ITEMS)
        got = [(c["customer_id"], c["priority"], c["predicted_payment_date"]) for c in doc["collections"]]
        assert got == [(r["customer_id"], r["priority"], r["predicted_payment_date"]) for r in expected]
        assert got and all(day >= now.date().isoformat() for _, _, day in got)
        seen.append(got)
    assert seen[0] != seen[1], "three months on, the same customers owe more and are expected later"
    engine.dispose()
