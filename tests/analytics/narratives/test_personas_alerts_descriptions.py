"""Segment personas, alert explanations and product descriptions, each with the stand-in model and
without one (computed from the figures, marked), with invented figures checked out and product
names passed only as quoted data."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import Engine

from analytics.jobs import results as rs
from analytics.narratives import alerts as al
from analytics.narratives import descriptions as ds
from analytics.narratives import personas as ps
from analytics.narratives.ai import NO_AI
from tests.analytics.narratives.support import ALERT_ID, INJECTED_SKU, INJECTION, STORE
from tests.support.llm_server import ChatServer, Reply


def test_personas_without_an_llm_are_computed_from_each_segments_profile(engine: Engine) -> None:
    found = ps.build_personas(engine, STORE, ai=None)
    rfm = rs.segments(engine, STORE, [STORE], "rfm")
    basket = rs.segments(engine, STORE, [STORE], "basket")
    assert [(p.kind, p.segment) for p in found] == [("rfm", s["segment"]) for s in rfm] + \
        [("basket", s["segment"]) for s in basket]
    assert all(p.source == "computed" and p.note == NO_AI and p.marketing and p.operations for p in found)
    champions = next(p for p in found if p.segment == "Champions")
    members = next(s["members"] for s in rfm if s["segment"] == "Champions")
    assert champions.name == "The regulars" and f"{members} customers" in champions.description
    assert all(p.name.endswith("shoppers") for p in found if p.kind == "basket")
    assert {(p.kind, p.segment) for p in ps.stored_personas(engine, STORE)} == {(p.kind, p.segment) for p in found}
    assert ps.build_personas(engine, "s-none", ai=None) == []


def test_personas_from_the_llm_are_kept_and_their_invented_figures_dropped(engine: Engine, make_ai,
                                                                           llm_server: ChatServer) -> None:
    def answer(body: dict) -> Reply:
        data = json.loads(re.search(r'<data name="segments">(.*?)</data>', body["messages"][-1]["content"],
                                    re.DOTALL).group(1))
        out = []
        for seg in data["segments"]:
            out.append({"key": seg["key"], "name": f"Persona of {seg['segment']}",
                        "description": f"{seg['figures']['Revenue']} of revenue. They spend 7,777 a week.",
                        "marketing": ["Send a thank-you note."], "operations": ["Stock their staples."]})
        return Reply.json({"personas": out})

    llm_server.respond_with(answer)
    found = ps.build_personas(engine, STORE, ai=make_ai())
    assert llm_server.calls == 1 and found and all(p.source == "llm" for p in found)
    assert all(p.name == f"Persona of {p.segment}" for p in found)
    assert all("7,777" not in p.description and p.unsupported == ["7,777"] for p in found)
    assert all(p.description.endswith("of revenue.") for p in found)


def test_a_failing_llm_gives_computed_personas_with_the_reason(engine: Engine, make_ai,
                                                               llm_server: ChatServer) -> None:
    llm_server.script(Reply.error(500))
    found = ps.build_personas(engine, STORE, ai=make_ai())
    assert found and all(p.source == "computed" and p.note and p.note != NO_AI for p in found)


def test_an_alert_is_explained_from_its_reasons_and_events_without_an_llm(engine: Engine) -> None:
    exp = al.explain(engine, STORE, ALERT_ID, ai=None)
    assert exp.source == "computed" and exp.note == NO_AI
    assert "0.87" in exp.summary and "18:15" in exp.summary and "RD$115.00" in exp.summary
    text = " ".join(exp.details)
    assert "a line was voided after payment started" in text
    assert "removed from the basket" in text and "price was changed by hand" in text
    # the drawer opened for this cash sale's own payment: nothing to explain or to count
    assert "cash drawer" not in text and "Count the drawer" not in exp.advice
    assert "camera recording" in exp.advice and "shelf price" in exp.advice
    assert al.stored(engine, STORE, [ALERT_ID])[ALERT_ID].summary == exp.summary
    listed = al.recent_with_explanations(engine, STORE)
    assert [a["alert_id"] for a in listed] == [ALERT_ID] and listed[0]["explanation"]["summary"] == exp.summary
    with pytest.raises(al.AlertNotFound):
        al.explain(engine, "s-cr", ALERT_ID)  # another store's alert id is not found there


def test_an_alert_explained_by_the_llm_is_fact_checked(engine: Engine, make_ai, llm_server: ChatServer) -> None:
    llm_server.script(Reply.json({"summary": "At 18:15 a RD$115.00 sale scored 0.87.",
                                  "details": ["A rice line of RD$325.00 was voided.",
                                              "Soda was sold at RD$35.00 instead of RD$40.00.",
                                              "The cashier pocketed RD$500."],
                                  "advice": "Check the recording of till-1."}))
    exp = al.explain(engine, STORE, ALERT_ID, ai=make_ai())
    assert exp.source == "llm" and exp.summary == "At 18:15 a RD$115.00 sale scored 0.87."
    assert exp.details == ["A rice line of RD$325.00 was voided.", "Soda was sold at RD$35.00 instead of RD$40.00."]
    assert exp.unsupported == ["RD$500"]
    body = llm_server.bodies_text()
    assert "void_line" in body and "price_override" in body
    llm_server.script(Reply.delay(2.0, Reply.json({"summary": "late", "details": [], "advice": ""})))
    again = al.explain(engine, STORE, ALERT_ID, ai=make_ai(cache_ttl_s=0))  # no cache: the time-out is met
    assert again.source == "computed" and again.note != NO_AI


def test_product_descriptions_with_and_without_an_llm(engine: Engine, make_ai, llm_server: ChatServer) -> None:
    computed = ds.describe(engine, STORE, "RICE-5LB", ai=None)
    assert computed.source == "computed" and computed.note == NO_AI
    assert computed.short.startswith("Rice 5Lb, 5 lb") and "Pack size: 5 lb" in computed.bullets
    assert "Price: RD$325.00" in computed.bullets
    assert ds.stored(engine, STORE)["RICE-5LB"].short == computed.short

    llm_server.script(Reply.json({"short": "Long-grain rice in a handy 5 lb bag.",
                                  "bullets": ["5 lb bag", "RD$325.00", "Won 3 awards"]}))
    written = ds.describe(engine, STORE, "RICE-5LB", ai=make_ai())
    assert written.source == "llm" and written.short == "Long-grain rice in a handy 5 lb bag."
    assert written.bullets == ["5 lb bag", "RD$325.00"]  # the invented award count is dropped
    with pytest.raises(ds.ProductNotFound):
        ds.describe(engine, STORE, "NO-SUCH-SKU")


def test_a_product_name_with_an_instruction_is_only_quoted_data(engine: Engine, make_ai,
                                                                llm_server: ChatServer) -> None:
    llm_server.script(Reply.json({"short": "Sales doubled! A 100% bestseller.", "bullets": ["Costs RD$45.00"]}))
    d = ds.describe(engine, STORE, INJECTED_SKU, ai=make_ai())
    system, user = (llm_server.requests[0]["messages"][0]["content"],
                    llm_server.requests[0]["messages"][-1]["content"])
    assert INJECTION not in system
    block = re.search(r'<data name="product">(.*?)</data>', user, re.DOTALL).group(1)
    assert INJECTION in block and INJECTION not in user.replace(block, "")
    # the figures it invented are dropped; the product's real price stays
    assert d.source == "llm" and d.short == "Sales doubled!" and d.bullets == ["Costs RD$45.00"]
