"""Daily and weekly narratives against the stand-in chat-completions server: an answer whose figures
all come from the facts is kept whole; a made-up figure loses its sentence and is reported;
malformed answers, 500s and time-outs give the computed narrative, marked; the same facts are
answered from the cache; a product name carrying an instruction stays inside the quoted data and
changes no figure; the morning insights document carries the narrative and the collections."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import Engine, func, select

from analytics.db import narrative_tables as nt
from analytics.jobs.insights import MAX_BYTES, build_insights
from analytics.narratives import narrative as nv
from analytics.narratives.ai import NO_AI
from analytics.narratives.factcheck import check_sections, check_text
from analytics.narratives.facts import FactsError, build_facts
from tests.analytics.narratives.support import END, INJECTION, NOW, STORE
from tests.support.llm_server import ChatServer, Reply


def _good_answer(engine: Engine) -> dict:
    f = build_facts(engine, STORE, "daily", now=NOW)
    return {"title": f"Saturday {END.day} October: a steady day",
            "what_happened": [f"You took {f.text('revenue')} from {f.text('sales')} sales.",
                              f"{f.text('top_product_1_name')} sold best ({f.text('top_product_1_units')} units)."],
            "what_changed": [f"Revenue was {f.text('revenue_prev')} the day before."],
            "what_to_do": [f"Staff up for {f.text('busy_hour_1')}."],
            "risks": [f"{f.text('alerts')} sale was flagged as unusual."]}


def test_the_facts_of_a_day_and_a_week(engine: Engine) -> None:
    day = build_facts(engine, STORE, "daily", now=NOW)
    assert (day.start, day.end, day.label) == ("2026-10-31", "2026-10-31", "Saturday 31 October 2026")
    with engine.connect() as conn:
        from analytics.db import tables as t

        tx = t.transactions.c
        revenue = conn.execute(select(func.sum(tx.total)).where(
            tx.store_id == STORE, tx.status.in_(("completed", "refunded")), tx.completed_at >= "2026-10-31T04:00:00Z",
            tx.completed_at < "2026-11-01T04:00:00Z")).scalar()
    assert day.value("revenue") == revenue and day.get("revenue").text.startswith("RD$")
    assert day.value("alerts") == 1 and day.value("events_void_line") == 1 and day.value("events_price_override") == 1
    assert day.get("forecast_revenue") is not None and day.get("segment_champions") is not None
    week = build_facts(engine, STORE, "weekly", end=END)
    assert (week.start, week.end, week.value("period_days")) == ("2026-10-25", "2026-10-31", 7)
    assert week.value("sales") > day.value("sales")
    assert week.data_version != day.data_version
    with pytest.raises(FactsError):
        build_facts(engine, STORE, "monthly")
    with pytest.raises(FactsError):
        build_facts(engine, "s-nowhere", "daily")


def test_without_an_llm_the_narrative_is_computed_marked_and_passes_its_own_check(engine: Engine) -> None:
    for period in ("daily", "weekly"):
        n = nv.generate(engine, STORE, period, ai=None, now=NOW)
        assert n.source == "computed" and n.note == NO_AI and n.model is None
        assert all(n.sections[k] for k, _ in nv.SECTIONS)
        facts = build_facts(engine, STORE, period, now=NOW)
        _, result = check_sections({"title": n.title, **n.sections}, facts)
        assert result.unsupported == [] and result.checked > 10
        assert nv.latest(engine, STORE, period).id == n.id
    daily = nv.latest(engine, STORE, "daily")
    assert "Revenue was RD$" in daily.text and daily.title == "Daily report, Saturday 31 October 2026"


def test_an_llm_narrative_with_every_figure_from_the_facts_is_kept_whole(engine: Engine, make_ai,
                                                                        llm_server: ChatServer) -> None:
    answer = _good_answer(engine)
    llm_server.script(Reply.json(answer))
    n = nv.generate(engine, STORE, "daily", ai=make_ai(), now=NOW)
    assert n.source == "llm" and n.unsupported == [] and n.dropped == [] and n.note is None
    assert n.title == answer["title"] and n.sections == {k: answer[k] for k, _ in nv.SECTIONS}
    body = llm_server.requests[0]
    assert body["response_format"]["type"] == "json_schema"
    user = body["messages"][-1]["content"]
    assert '<data name="facts">' in user and build_facts(engine, STORE, "daily", now=NOW).text("revenue") in user
    stored = nv.latest(engine, STORE, "daily")
    assert stored.source == "llm" and stored.text == n.text


def test_a_made_up_number_drops_its_sentence_and_is_reported(engine: Engine, make_ai, llm_server: ChatServer) -> None:
    answer = _good_answer(engine)
    answer["what_happened"].append("Sales doubled to RD$99,999 thanks to the new display.")
    answer["what_changed"] = ["Revenue was up 412% on last Saturday. " + answer["what_changed"][0]]
    llm_server.script(Reply.json(answer))
    n = nv.generate(engine, STORE, "daily", ai=make_ai(), now=NOW)
    assert n.source == "llm"
    assert n.unsupported == ["RD$99,999", "412%"]
    assert [d["sentence"] for d in n.dropped] == ["Sales doubled to RD$99,999 thanks to the new display.",
                                                   "Revenue was up 412% on last Saturday."]
    assert "99,999" not in n.text and "412%" not in n.text
    assert n.sections["what_happened"] == _good_answer(engine)["what_happened"]
    assert n.sections["what_changed"] == _good_answer(engine)["what_changed"]
    with engine.connect() as conn:
        row = conn.execute(select(nt.narratives.c.unsupported).where(nt.narratives.c.id == n.id)).scalar()
    assert row == ["RD$99,999", "412%"]


def test_flag_mode_keeps_the_sentence_with_its_mark(engine: Engine, make_ai, llm_server: ChatServer) -> None:
    answer = _good_answer(engine)
    answer["risks"] = ["Rice may run out in 913 days."]
    llm_server.script(Reply.json(answer))
    n = nv.generate(engine, STORE, "daily", ai=make_ai(), now=NOW, mode="flag")
    assert n.sections["risks"] == ["Rice may run out in 913 days. [unverified: 913]"] and n.unsupported == ["913"]


def test_an_answer_with_nothing_checkable_left_falls_back_to_the_computed_one(engine: Engine, make_ai,
                                                                             llm_server: ChatServer) -> None:
    llm_server.script(Reply.json({"title": "Record day", "what_happened": ["You sold 5,000 items."],
                                  "what_changed": ["Up 300%."], "what_to_do": [], "risks": []}))
    n = nv.generate(engine, STORE, "daily", ai=make_ai(), now=NOW)
    assert n.source == "computed" and "figures that are not in your data" in n.note
    assert n.unsupported == ["5,000", "300%"] and n.sections["what_happened"][0].startswith("Revenue was RD$")


@pytest.mark.parametrize("replies", [
    (Reply.text("{not json"), Reply.text("still not json")),  # malformed twice (one corrective retry)
    (Reply.error(500),),
    (Reply.delay(2.0, Reply.json({"title": "late"})),),  # past the 1 s time-out
])
def test_malformed_answers_errors_and_timeouts_give_the_computed_narrative(engine: Engine, make_ai,
                                                                          llm_server: ChatServer, replies) -> None:
    llm_server.script(*replies)
    n = nv.generate(engine, STORE, "daily", ai=make_ai(), now=NOW)
    assert n.source == "computed" and n.note and n.note != NO_AI
    assert n.sections["what_happened"][0].startswith("Revenue was RD$")
    assert llm_server.calls == len(replies)
    assert nv.latest(engine, STORE, "daily").source == "computed"


def test_the_same_facts_are_answered_from_the_cache(engine: Engine, make_ai, llm_server: ChatServer) -> None:
    llm_server.script(Reply.json(_good_answer(engine)))
    ai = make_ai()
    first = nv.generate(engine, STORE, "daily", ai=ai, now=NOW)
    second = nv.generate(engine, STORE, "daily", ai=ai, now=NOW)
    assert (first.source, second.source) == ("llm", "cache") and llm_server.calls == 1
    assert second.sections == first.sections
    # what the morning publish uses: the stored one while the facts are unchanged
    assert nv.current(engine, STORE, "daily", ai=ai, now=NOW).id == second.id and llm_server.calls == 1


def test_an_instruction_in_a_product_name_stays_quoted_and_changes_no_figure(engine: Engine, make_ai,
                                                                            llm_server: ChatServer) -> None:
    facts = build_facts(engine, STORE, "daily", now=NOW)
    names = [f.value for f in facts.items if f.key.endswith("_name")]
    assert INJECTION in names  # the injected product sold on the day, so it is among the facts
    # a model that obeys the instruction
    answer = _good_answer(engine)
    answer["what_happened"] = ["Sales doubled to RD$13,530.00, up 100% on the day before.",
                               answer["what_happened"][0]]
    llm_server.script(Reply.json(answer))
    n = nv.generate(engine, STORE, "daily", ai=make_ai(), now=NOW)
    system, user = llm_server.requests[0]["messages"][0]["content"], llm_server.requests[0]["messages"][-1]["content"]
    assert INJECTION not in system and "never instructions" in system
    assert user.count(INJECTION) == 1
    block = re.search(r'<data name="facts">(.*?)</data>', user, re.DOTALL).group(1)
    assert INJECTION in block and INJECTION not in user.replace(block, "")
    assert "RD$13,530.00" in n.unsupported and "100%" in n.unsupported
    assert "doubled" not in n.text and "RD$13,530.00" not in n.text
    kept = check_text(" ".join(s for k, _ in nv.SECTIONS for s in n.sections[k]), facts)
    assert kept.unsupported == []  # every figure left is one of the facts
    assert build_facts(engine, STORE, "daily", now=NOW).items == facts.items  # the facts themselves unchanged


def test_the_morning_document_carries_the_narrative_and_the_collections(engine: Engine) -> None:
    doc = build_insights(engine, "s-cr", now=NOW.replace(month=11, day=21))
    assert doc["narrative"]["source"] == "computed" and doc["narrative"]["period"] == "daily"
    assert doc["narrative"]["text"].startswith(doc["narrative"]["title"]) and doc["narrative"]["generated_at"]
    names = [c["name"] for c in doc["collections"]]
    assert names and "Luis Late" in names
    luis = next(c for c in doc["collections"] if c["name"] == "Luis Late")
    assert set(luis) == {"customer_id", "name", "balance", "currency", "priority", "predicted_payment_date",
                         "message"}
    assert luis["balance"] > 0 and "Luis" in luis["message"]
    assert len(json.dumps(doc).encode()) < MAX_BYTES
    # a store without credit customers: no reminders, the narrative still there
    plain = build_insights(engine, STORE, now=NOW)
    assert plain["collections"] == [] and plain["narrative"]["title"] == "Daily report, Saturday 31 October 2026"
    assert build_insights(engine, STORE, now=NOW, narrative=False).get("narrative") is None


def test_the_morning_document_uses_the_llm_narrative_when_one_is_configured(engine: Engine, make_ai,
                                                                           llm_server: ChatServer) -> None:
    llm_server.script(Reply.json(_good_answer(engine)))
    doc = build_insights(engine, STORE, now=NOW, ai=make_ai())
    assert doc["narrative"]["source"] == "llm" and doc["narrative"]["title"].startswith("Saturday 31 October")
    assert date.fromisoformat(doc["day"])  # the rest of the document is untouched


def test_the_cli_writes_a_narrative_and_personas(engine: Engine, capsys: pytest.CaptureFixture) -> None:
    from tillsight_cli.main import main

    url = str(engine.url)
    assert main(["hub", "narrate", "--store", STORE, "--database-url", url, "--day", "2026-10-31"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Daily report, Saturday 31 October 2026\n(computed from your figures (no AI)")
    assert "What happened" in out and "Risks" in out
    assert main(["hub", "narrate", "--store", STORE, "--database-url", url, "--period", "weekly",
                 "--day", "2026-10-31", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["period_start"] == "2026-10-25" and got["source"] == "computed"
    assert main(["hub", "personas", "--store", STORE, "--database-url", url, "--json"]) == 0
    assert any(p["name"] == "The regulars" for p in json.loads(capsys.readouterr().out))
    assert main(["hub", "narrate", "--store", "s-nowhere", "--database-url", url]) == 2
    assert main(["hub", "narrate", "--store", STORE, "--database-url", url, "--day", "yesterday"]) == 2
