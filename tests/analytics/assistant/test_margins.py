"""Ask's margin questions (issue 27): "what's my margin on X", "which products make me the most
money", "which lose money", by the rule-based parser and by the model's tool calls through the same
tools and the made-up-number check.  Costs come through the importer's real writers (a cost column,
and a default margin whose costs are assumed) beside the seeded till sales, which have none."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from analytics.assistant import rules
from analytics.assistant.loop import ask
from analytics.assistant.tools import ToolContext, run_tool
from analytics.importer.invoices import COST_COLUMN, DEFAULT_MARGIN, build_invoices
from analytics.importer.reader import SaleLine
from analytics.importer.writer import write_sales
from tests.analytics.assistant.conftest import context
from tests.analytics.assistant.seed import A
from tests.support.llm_server import Reply

TZ = "America/Santo_Domingo"


def _line(row: int, invoice: str, sku: str, name: str, qty: int, price: int, cost: int | None) -> SaleLine:
    at = datetime(2026, 11, 18, 10, row)  # noqa: DTZ001 - the importer's lines carry naive store-local time
    return SaleLine(row=row, invoice=invoice, cancelled=False, sku=sku, name=name, qty=qty, unit_price=price,
                    local_time=at, customer=None, country=None, unit_cost=cost)


@pytest.fixture
def costed(seeded: Engine) -> ToolContext:
    """Presidente at RD$150.00 costing RD$90.00 (4 sold: RD$240.00 profit, 40 %); Leche at RD$50.00
    costing RD$55.00 (2 sold: a loss of RD$10.00); candles with costs assumed from a 25 % margin."""
    real = [_line(1, "M1", "PRES-650", "Presidente Beer 650ml", 4, 15000, 9000),
            _line(2, "M1", "LECHE-1L", "Leche Rica 1L", 2, 5000, 5500)]
    assumed = [_line(3, "M2", "CANDLE", "Vanilla candle", 2, 8000, None)]
    docs = [inv.doc for inv in build_invoices(real, store_id=A, device_id="import", currency="DOP", timezone_name=TZ,
                                              layout="test", cancel_prefix=None, cost=COST_COLUMN)]
    docs += [inv.doc for inv in build_invoices(assumed, store_id=A, device_id="import", currency="DOP",
                                               timezone_name=TZ, layout="test", cancel_prefix=None,
                                               cost=DEFAULT_MARGIN, default_margin_pct=Decimal(25))]
    write_sales(seeded, docs, "2026-11-21T12:00:00Z")
    return context(seeded)


def test_what_is_my_margin_on_a_product(costed: ToolContext) -> None:
    intent = rules.parse("What's my margin on Presidente?", costed)
    assert intent == rules.Intent("product_margin", {"product": "presidente"})
    answer = rules.answer("What's my margin on Presidente?", costed)
    assert answer.tools_used == ["product_margin"] and answer.source == "computed"
    assert "40%" in answer.text and "RD$240.00" in answer.text and "RD$90.00" in answer.text
    assert "(4 units)" in answer.text and "Of the 20 units sold" in answer.text  # 16 seeded ones have no cost
    row = answer.table.rows[0]
    assert (row["sku"], row["gross_profit"], row["unit_cost"], row["cost"]) == ("PRES-650", 24000, 9000, "known")
    # the seeded till sales of rice carry no cost: never a 100 % margin
    rice = rules.answer("margin on rice 5 lb", costed)
    assert "no known cost" in rice.text and "100%" not in rice.text
    candle = rules.answer("What is the profit on the vanilla candle?", costed)
    assert "25%" in candle.text and "assumed" in candle.text


def test_which_products_make_the_most_money_and_which_lose_money(costed: ToolContext) -> None:
    best = rules.answer("Which products make me the most money this month?", costed)
    assert best.tools_used == ["profit_by_product"]
    assert [r["sku"] for r in best.table.rows] == ["PRES-650", "CANDLE", "LECHE-1L"]
    assert best.text.startswith("Presidente Beer 650ml made the most money")
    assert "had no known cost" in best.text and "assumed" in best.text
    losers = rules.answer("Which products lose money?", costed)
    assert [r["sku"] for r in losers.table.rows] == ["LECHE-1L"]
    assert "1 product lost money" in losers.text and "-RD$10.00" in losers.text
    assert any("make me the most money" in f for f in losers.follow_ups)
    other = context(costed.engine, "s-002")  # store B sold nothing with a cost
    assert run_tool(other, "profit_by_product", {"by": "loss"}).figures["losing"] == 0


def test_the_model_answers_margin_questions_through_the_tools_and_the_fact_check(costed: ToolContext, ai,
                                                                                  llm_server) -> None:
    llm_server.script(Reply.tool_call("product_margin", {"product": "presidente", "period": "this month"}),
                      Reply.text("Your margin on Presidente Beer 650ml this month is 40%: RD$240.00 of gross profit."))
    answer = ask("What's my margin on Presidente this month?", costed, ai)
    assert answer.source == "llm" and answer.tools_used == ["product_margin"] and answer.note is None
    assert answer.table.rows[0]["gross_profit"] == 24000
    first = llm_server.requests[0]
    assert {"product_margin", "profit_by_product"} <= {t["function"]["name"] for t in first["tools"]}

    llm_server.script(Reply.tool_call("profit_by_product", {"by": "loss"}),
                      Reply.text("Leche Rica 1L loses money: RD$35.00 last month."))
    made_up = ask("Which products lose money?", costed, ai)
    assert made_up.source == "llm" and made_up.note and "35" in made_up.note
    assert made_up.table.rows[0]["gross_profit"] == -1000  # the table keeps the hub's figure


@pytest.mark.parametrize("question, language, english", [
    ("¿Cuál es mi margen en Presidente?", "es", "What's my margin on Presidente?"),
    ("¿Qué productos me dejan más dinero este mes?", "es", "Which products make me the most money this month?"),
    ("¿Qué productos pierden dinero?", "es", "Which products lose money?"),
    ("Quelle est ma marge sur le Presidente ?", "fr", "What's my margin on Presidente?"),
    ("Quels produits me rapportent le plus ce mois-ci ?", "fr", "Which products make me the most money this month?"),
    ("Quels produits me font perdre de l'argent ?", "fr", "Which products lose money?"),
])
def test_margin_questions_in_spanish_and_french_are_answered_in_their_language(costed: ToolContext, question: str,
                                                                                language: str, english: str) -> None:
    answer, same = rules.answer(question, costed), rules.answer(english, costed)
    assert answer.tools_used == same.tools_used and answer.language == language
    assert answer.text != same.text
    figures = [{k: v for k, v in r.items() if k != "cost"} for r in answer.table.rows]  # "cost" is a word: known...
    assert figures == [{k: v for k, v in r.items() if k != "cost"} for r in same.table.rows]
    for follow in answer.follow_ups:  # the follow-ups are questions the rules understand, in that language
        again = rules.answer(follow, costed)
        assert again.tools_used and again.language == language, follow
