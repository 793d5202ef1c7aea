"""The tool-calling loop against the real stand-in chat-completions server: the model picks tools,
the hub runs them for the session's store and shows its own figures; bad tool calls, 500s and
time-outs fall back to the rule-based answer; customer names never leave the hub; a product name
carrying an instruction stays quoted data and changes no figure."""

from __future__ import annotations

import json
import re

from analytics.assistant.loop import ask, split_answer
from analytics.assistant.service import answer_question
from analytics.assistant.tools import run_tool
from tests.analytics.assistant.seed import INJECTED, JUAN, MARIA, NOW
from tests.support.llm_server import Reply

FRIDAY = {"product": "presidente", "period": "last Friday"}
B_MARKERS = ("Tapas", "Bodega Bob", "Bernardo", "+34 600", "Madrid", "EUR")


def _tool_messages(server) -> list[str]:
    return [m["content"] for body in server.requests for m in body["messages"] if m["role"] == "tool"]


def test_a_tool_called_answer_shows_the_hubs_figures(ctx, ai, llm_server) -> None:
    llm_server.script(Reply.tool_call("product_sales", FRIDAY),
                      Reply.text("You sold 12 Presidente Beer 650ml last Friday (20 Nov), RD$1,800.00.\n\n"
                                 "Follow-up questions:\n- How many Presidente sold last week?\n"
                                 "- Which products should I reorder?"))
    answer = ask("How many Presidente sold last Friday?", ctx, ai)
    assert answer.source == "llm" and answer.note is None and answer.tools_used == ["product_sales"]
    assert answer.text == "You sold 12 Presidente Beer 650ml last Friday (20 Nov), RD$1,800.00."
    assert answer.table.rows == [{"product": "Presidente Beer 650ml", "sku": "PRES-650", "units": 12,
                                  "revenue": 180000, "sales": 3}]
    assert answer.follow_ups == ["How many Presidente sold last week?", "Which products should I reorder?"]
    assert answer.period["start_utc"] == "2026-11-20T04:00:00Z"
    first, second = llm_server.requests
    assert {t["function"]["name"] for t in first["tools"]} >= {"product_sales", "top_customers", "stock"}
    tool_msg = second["messages"][-1]
    assert tool_msg["role"] == "tool" and tool_msg["content"].startswith('<data name="tool_result">')
    assert '"units": 12' in tool_msg["content"]


def test_a_figure_the_model_made_up_is_flagged_and_the_table_keeps_the_hubs(ctx, ai, llm_server) -> None:
    llm_server.script(Reply.tool_call("product_sales", FRIDAY), Reply.text("You sold 15 Presidente last Friday."))
    answer = ask("How many Presidente sold last Friday?", ctx, ai)
    assert answer.source == "llm" and "15" in answer.note and answer.table.rows[0]["units"] == 12
    assert 2 <= len(answer.follow_ups) <= 3  # computed when the model gives none


def test_another_stores_id_or_an_unknown_tool_reaches_no_other_data(ctx, ai, llm_server) -> None:
    llm_server.script(
        Reply.tool_calls_(("product_sales", {**FRIDAY, "store_id": "s-002"}),
                          ("run_sql", {"sql": "SELECT * FROM transactions WHERE store_id = 's-002'"})),
        Reply.tool_call("product_sales", FRIDAY),
        Reply.text("12 units."))
    answer = ask("How many Presidente sold last Friday?", ctx, ai)
    refused = _tool_messages(llm_server)[:2]
    assert "store_id" in refused[0] and "was unexpected" in refused[0]
    assert "unknown tool 'run_sql'" in refused[1]
    assert answer.source == "llm" and answer.tools_used == ["product_sales"]
    assert answer.table.rows[0]["units"] == 12  # store A's, not store B's 30
    everything = llm_server.bodies_text() + json.dumps(answer.as_dict(), ensure_ascii=False)
    assert not any(marker in everything for marker in B_MARKERS)


def test_malformed_tool_arguments_fall_back_to_the_rules(ctx, ai, llm_server) -> None:
    llm_server.script(Reply.tool_call("product_sales", '{"product": "presidente", "period": '),
                      Reply.tool_call("product_sales", "not json at all"))
    answer = ask("How many Presidente sold last Friday?", ctx, ai)
    assert llm_server.calls == 2
    assert answer.source == "computed" and answer.mark == "computed (no AI)" and "malformed" in answer.note
    assert answer.text == "Presidente Beer 650ml: 12 units sold on Friday 20 Nov 2026, RD$1,800.00 in 3 sales."
    assert answer.table.rows[0]["units"] == 12
    # one bad call is answered as a tool error and the model may try again
    llm_server.script(Reply.tool_call("product_sales", "{oops"), Reply.tool_call("product_sales", FRIDAY),
                      Reply.text("12 units."))
    again = ask("How many Presidente sold last Friday?", ctx, ai)
    assert again.source == "llm" and again.table.rows[0]["units"] == 12
    assert "not a valid JSON object" in _tool_messages(llm_server)[-2]


def test_500_and_time_out_fall_back_to_the_rules(ctx, ai, llm_server) -> None:
    llm_server.script(Reply.error(500))
    answer = ask("What were sales yesterday?", ctx, ai)
    assert answer.source == "computed" and "500" in answer.note
    assert answer.table.rows == [{"day": "2026-11-20", "net_sales": 277500, "sales": 4, "average": 69375}]
    llm_server.script(Reply.tool_call("sales_by_period", {"period": "yesterday"}),
                      Reply.delay(3.0, Reply.text("too late")))
    late = ask("What were sales yesterday?", ctx, ai)  # timeout_s is 1
    assert late.source == "computed" and late.note and late.table.rows[0]["net_sales"] == 277500


def test_no_customer_name_leaves_the_hub_but_the_answer_shows_it(seeded, ai, llm_server) -> None:
    def reply(body: dict) -> Reply:
        last = body["messages"][-1]
        if last["role"] != "tool":
            return Reply.tool_call("top_customers", {"period": "this month"})
        alias = re.search(r"Customer C\d+", last["content"]).group(0)  # the first-ranked customer
        return Reply.text(f"Your best customer this month is {alias}, who spent RD$1,080.00.")

    llm_server.respond_with(reply)
    answer, _ = answer_question(seeded, "s-001", "Who are my best customers this month? Is María Pérez one?", ai,
                                NOW, user_id="ann")
    assert answer.source == "llm"
    assert answer.text == "Your best customer this month is Juan Rodríguez, who spent RD$1,080.00."
    assert [r["customer"] for r in answer.table.rows] == ["Juan Rodríguez", "María Pérez"]
    # a second question carries the first exchange (names and all) as history: scrubbed too
    answer_question(seeded, "s-001", "And who spent the most this month?", ai, NOW, user_id="ann")
    sent = llm_server.bodies_text()
    assert len(llm_server.requests) == 4 and "Customer C" in sent
    for _cid, name, phone in (MARIA, JUAN):
        assert name not in sent and phone not in sent and name.split()[0] not in sent


def test_an_injected_instruction_in_a_product_name_stays_quoted_and_changes_no_figure(ctx, ai, llm_server) -> None:
    hub_figures = run_tool(ctx, "top_products", {"period": "this week"})
    llm_server.script(Reply.tool_call("top_products", {"period": "this week"}),
                      Reply.text("Presidente Beer 650ml sold the most this week: 16 units."))
    answer = ask("Top products this week", ctx, ai)
    assert INJECTED in [r["product"] for r in answer.table.rows]
    assert answer.table.rows == hub_figures.table.rows  # the hub's figures, unchanged
    for body in llm_server.requests:
        for message in body["messages"]:
            content = message.get("content") or ""
            if INJECTED not in content:
                continue
            assert message["role"] == "tool"
            start, end = content.index('<data name="tool_result">'), content.index("</data>")
            assert all(start < m.start() < end for m in re.finditer(re.escape(INJECTED), content))
    assert INJECTED not in json.dumps([m for b in llm_server.requests for m in b["messages"] if m["role"] != "tool"],
                                      ensure_ascii=False)
    assert not any(marker in llm_server.bodies_text() for marker in B_MARKERS)


def test_follow_ups_from_json_or_inline_lists() -> None:
    assert split_answer('{"answer": "12 units.", "follow_ups": ["A?", "B?"]}') == ("12 units.", ["A?", "B?"])
    assert split_answer("12 units.\n**Follow-up questions:**\n1. A?\n2. B?\n3. C?\n4. D?") == (
        "12 units.", ["A?", "B?", "C?"])
    assert split_answer("Just text.") == ("Just text.", [])
