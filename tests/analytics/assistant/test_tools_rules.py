"""The query tools compute the right figures in store time on SQLite and PostgreSQL, stay inside
the session's store whatever the arguments say, and the rule-based parser answers the common
questions with no LLM configured."""

from __future__ import annotations

import pytest

from analytics.assistant.loop import ask
from analytics.assistant.tools import TOOLS, run_tool, tool_specs
from tests.analytics.assistant.conftest import context, make_ai
from tests.analytics.assistant.seed import B


def test_figures_in_store_time_on_both_databases(any_seeded) -> None:
    ctx = context(any_seeded)
    r = run_tool(ctx, "product_sales", {"product": "presidente", "period": "last Friday"})
    # 5 at 10:00 + 3 and 4 at 23:30-23:40 on Friday (store time); Thursday 21:30 (Friday in UTC) and
    # the voided sale are left out; store B's 30 never count
    assert r.ok and r.table.rows == [{"product": "Presidente Beer 650ml", "sku": "PRES-650", "units": 12,
                                      "revenue": 180000, "sales": 3}]
    assert r.summary == "Presidente Beer 650ml: 12 units sold on Friday 20 Nov 2026, RD$1,800.00 in 3 sales."
    s = run_tool(ctx, "sales_by_period", {"period": "yesterday"})
    assert (s.figures["net_sales"], s.figures["sales"], s.figures["average_basket"]) == (277500, 4, 69375)
    h = run_tool(ctx, "sales_by_hour", {"period": "this week"})
    assert h.figures["busiest_hour"] == "10:00" and h.figures["busiest_hour_sales"] == 4
    c = run_tool(ctx, "top_customers", {"period": "this month"})
    assert [(row["customer"], row["spend"], row["sales"]) for row in c.table.rows] == [
        ("Juan Rodríguez", 108000, 2), ("María Pérez", 77500, 2)]
    t = run_tool(ctx, "top_products", {"period": "this week", "limit": 2})
    assert [(row["sku"], row["units"]) for row in t.table.rows] == [("PRES-650", 16), ("RICE-5LB", 3)]
    o = run_tool(ctx, "reorder_advice", {})
    assert [(row["sku"], row["order_qty"]) for row in o.table.rows] == [("PRES-650", 24)]
    k = run_tool(ctx, "stock", {"product": "presidente"})
    assert k.figures["on_hand"] == 3
    w = run_tool(ctx, "sales_by_period", {"period": "this week", "product": "leche"})
    assert (w.figures["units"], w.figures["revenue"]) == (3, 27000)


def test_the_store_comes_from_the_session_never_from_arguments(seeded) -> None:
    ctx = context(seeded)
    for spec in tool_specs():
        params = spec["function"]["parameters"]
        assert "store_id" not in params["properties"] and params["additionalProperties"] is False
    r = run_tool(ctx, "product_sales", {"product": "presidente", "period": "last Friday", "store_id": B})
    assert not r.ok and r.invalid and "store_id" in r.error and r.table is None
    assert not run_tool(ctx, "stock", {"product": "tapas"}).ok  # store B's product is unknown here
    assert "TAPAS" not in str(run_tool(ctx, "reorder_advice", {}).table.rows)
    assert "Bernardo" not in str(run_tool(ctx, "top_customers", {"period": "this month"}).table.rows)
    # store B's own session sees its own figures
    b = run_tool(context(seeded, B), "product_sales", {"product": "presidente", "period": "last Friday"})
    assert (b.figures["units"], b.figures["revenue"]) == (30, 6000)


def test_bad_arguments_and_unknown_tools_are_refused_with_a_reason(ctx) -> None:
    assert "unknown tool" in run_tool(ctx, "run_sql", {"sql": "select * from transactions"}).error
    assert "not a valid JSON" in run_tool(ctx, "product_sales", None).error
    r = run_tool(ctx, "top_products", {"limit": 500})
    assert r.invalid and "limit" in r.error
    r = run_tool(ctx, "product_sales", {"period": "yesterday"})
    assert r.invalid and "'product' is a required property" in r.error
    r = run_tool(ctx, "sales_by_period", {"period": "the day of the fair"})
    assert r.invalid and "could not understand" in r.error
    r = run_tool(ctx, "product_sales", {"product": "rice", "period": "this week"})
    assert not r.ok and not r.invalid and r.did_you_mean[:2] == ["Rice 5 lb", "Rice 10 lb"]
    assert set(TOOLS) == {"sales_by_period", "product_sales", "sales_by_category", "sales_by_hour", "top_products",
                          "top_customers", "credit_owed", "stock", "reorder_advice", "forecast", "segments",
                          "product_margin", "profit_by_product"}


@pytest.mark.parametrize("question, text, first_row", [
    ("How many Presidente sold last Friday?",
     "Presidente Beer 650ml: 12 units sold on Friday 20 Nov 2026, RD$1,800.00 in 3 sales.",
     {"product": "Presidente Beer 650ml", "units": 12, "revenue": 180000}),
    ("Which products should I reorder?", "1 product to order now: Presidente Beer 650ml (24).",
     {"sku": "PRES-650", "order_qty": 24, "on_hand": 3}),
    ("Who are my best customers this month?",
     "Best customer in November 2026: Juan Rodríguez, RD$1,080.00 in 2 sales; 2 customers listed.",
     {"customer": "Juan Rodríguez", "spend": 108000}),
    ("What were sales yesterday?",
     "Sales on Friday 20 Nov 2026: RD$2,775.00 net in 4 sales, average basket RD$693.75.",
     {"day": "2026-11-20", "net_sales": 277500, "sales": 4}),
    ("Top products this week",
     "Top product in 16–22 Nov 2026 by units: Presidente Beer 650ml (16 units, RD$2,400.00); 5 products listed.",
     {"sku": "PRES-650", "units": 16}),
    ("Busiest hour this week",
     "The busiest hour in 16–22 Nov 2026 was 10:00–11:00 (store time) with 4 sales and RD$2,615.00.",
     {"hour": "09:00", "sales": 1}),
    ("What is my stock on hand?", "Stock of 3 products reported; the lowest is Presidente Beer 650ml with 3 on hand.",
     {"sku": "PRES-650", "on_hand": 3}),
])
def test_rules_answer_the_common_questions_without_an_llm(seeded, question, text, first_row) -> None:
    ctx = context(seeded)
    not_configured = make_ai(seeded, None)  # no llm.base_url
    assert not not_configured.configured
    for ai in (None, not_configured):
        answer = ask(question, ctx, ai)
        assert answer.source == "computed" and answer.mark == "computed (no AI)"
        assert answer.text == text
        assert {k: answer.table.rows[0][k] for k in first_row} == first_row
        assert 2 <= len(answer.follow_ups) <= 3
        # every computed follow-up is a question the rules answer (it works without the AI too)
        for follow_up in answer.follow_ups:
            assert ask(follow_up, ctx, None).tools_used, follow_up


def test_rules_ask_back_for_an_ambiguous_product_and_list_what_they_can_answer(ctx) -> None:
    a = ask("How much rice did we sell this week?", ctx, None)
    assert a.text == "More than one product matches 'rice': did you mean Rice 5 lb or Rice 10 lb?"
    assert a.follow_ups[:2] == ["How many Rice 5 lb sold this week?", "How many Rice 10 lb sold this week?"]
    assert ask(a.follow_ups[1], ctx, None).table.rows[0]["units"] == 1
    help_ = ask("What's the weather like?", ctx, None)
    assert help_.table is None and "How many Presidente Beer 650ml sold last week?" in help_.text  # its best seller
    assert "not a date" in ask("Sales on 2026-02-30", ctx, None).text
