"""The Customers tab in the reader's language: a Spanish owner reads the segment names, rules, actions,
cluster and basket names, time bands, peak days, payment mixes and value bands in Spanish on the page, in
the APIs and in the exports, while the stored English names stay the keys (``segment_key``, filters)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import Engine

from analytics.assistant.tools import AskStore, ToolContext, run_tool
from analytics.jobs import results as rs
from analytics.web.accounts import HubUsers
from i18n import use_language
from tests.analytics.web.seed import A, B
from tests.analytics.web.test_analytics_pages import (  # noqa: F401 - the analysed hub's fixtures
    analysed,
    api,
    html,
    hub_engine,
    table_rows,
)

WEEKDAYS_ES = {"lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"}


def test_a_spanish_owner_reads_the_customers_tab_in_spanish(login_as, hub_engine: Engine) -> None:  # noqa: F811
    HubUsers(hub_engine).set_language("ann", "es")
    ann = login_as("ann")
    stored = {s["segment"] for s in rs.segments(hub_engine, A, [A], "rfm")}
    assert "Champions" in stored

    rfm = api(ann, f"/api/stores/{A}/segments/rfm")["rows"]
    assert {r["segment_key"] for r in rfm} == stored
    champions = next(r for r in rfm if r["segment_key"] == "Champions")
    assert champions["segment"] == "Campeones" and champions["rule"] == "R 5 y FM 4-5"
    assert champions["action"].startswith("compraron hace poco")
    assert all(r["segment"] != r["segment_key"] for r in rfm)

    clusters = api(ann, f"/api/stores/{A}/segments/clusters")["rows"]
    assert len(clusters) >= 2 and all(r["segment"].startswith("Clientes") for r in clusters)
    assert all(r["segment_key"].endswith(("customers", "baskets")) or "customers (" in r["segment_key"]
               for r in clusters)
    assert all(r["main_rfm_segments"] and "Champions" not in r["main_rfm_segments"] for r in clusters)

    baskets = api(ann, f"/api/stores/{A}/segments/baskets")["rows"]
    assert baskets and all(r["segment"].startswith("Cestas") and "baskets" in r["segment_key"] for r in baskets)
    assert all(set(r["peak_days"].split(", ")) <= WEEKDAYS_ES for r in baskets)
    assert all("efectivo" in r["payment_mix"] and "tarjeta" in r["payment_mix"] for r in baskets)

    bands = api(ann, f"/api/stores/{A}/bands/time")["rows"]
    assert [b["band"] for b in bands][:3] == ["Primera hora", "Mañana", "Mediodía"]
    assert [b["band_key"] for b in bands][:3] == ["Early morning", "Morning", "Midday"]
    values = api(ann, f"/api/stores/{A}/bands/value")["rows"]
    assert values[0]["band"].startswith("de RD$0.00 a menos de RD$") and values[-1]["band"].endswith(" o más")

    moves = api(ann, f"/api/stores/{A}/transitions")["rows"]
    assert moves and all(m["from"] != m["from_key"] and m["to"] != m["to_key"] for m in moves)
    assert all(m["from"] == "(nuevos)" for m in moves if m["from_key"] == "(new)")
    assert {m["to_key"] for m in moves} <= stored

    # the stored name still filters, and each customer row gives both
    everyone = api(ann, f"/api/stores/{A}/customers?segment=Champions")["rows"]
    assert len(everyone) == champions["members"]
    assert {(c["segment"], c["segment_key"]) for c in everyone} == {("Campeones", "Champions")}

    page = html(ann, f"/stores/{A}/customers")
    shown = {r["segment"]: r for r in table_rows(page, "customers-rfm")}
    assert shown["Campeones"]["members"] == str(champions["members"]) and ">Champions<" not in page
    assert [r["segment"] for r in table_rows(page, "customers-baskets")] == [r["segment"] for r in baskets]

    export = ann.get(f"/api/stores/{A}/segments/rfm?format=csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(export)))
    assert any(r["segment"] == "Campeones" and r["segment_key"] == "Champions" for r in rows)


def test_the_insights_personas_name_their_segment_in_the_readers_language(login_as,
                                                                          hub_engine: Engine) -> None:  # noqa: F811
    HubUsers(hub_engine).set_language("ann", "es")
    ann = login_as("ann")
    personas = api(ann, f"/api/stores/{A}/insights/personas")["personas"]
    champions = next(p for p in personas if p["kind"] == "rfm" and p["segment"] == "Champions")
    assert champions["segment_name"] == "Campeones"
    assert all(p["segment_name"].startswith("Cestas") for p in personas if p["kind"] == "basket")
    page = html(ann, f"/stores/{A}/insights")
    assert "· Campeones</span>" in page and "· Champions</span>" not in page


def test_ask_names_the_segments_in_the_answers_language(hub_engine: Engine) -> None:  # noqa: F811
    ctx = ToolContext(hub_engine, AskStore.load(hub_engine, A), datetime(2026, 11, 22, 15, tzinfo=UTC))
    answers = {}
    for language in ("en", "es"):
        with use_language(language, "America/Santo_Domingo"):
            answers[language] = run_tool(ctx, "segments", {"kind": "rfm"})
    en, es = answers["en"], answers["es"]
    assert en.ok and es.ok and en.table and es.table
    stored = [r["segment"] for r in en.table.rows]
    assert "Champions" in stored and es.figures["top_segment"] == en.figures["top_segment"] in stored
    names = dict(zip(stored, [r["segment"] for r in es.table.rows], strict=True))
    assert names["Champions"] == "Campeones"
    assert names[en.figures["top_segment"]] in es.summary and en.figures["top_segment"] in en.summary


def test_a_store_without_churn_scores_says_why_in_french(login_as, hub_engine: Engine) -> None:  # noqa: F811
    assert rs.view(hub_engine, B, [B], "churn_validation")["status"] == "insufficient history"  # 120 days of sales
    HubUsers(hub_engine).set_language("bob", "fr")
    page = html(login_as("bob"), f"/stores/{B}/customers")
    assert "Pas de score de départ : historique insuffisant (il faut " in page
    assert "insufficient history" not in page
