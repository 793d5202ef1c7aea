"""Ask in Spanish and French: the rule-based parser understands the common questions ("¿Cuánto vendí
ayer?", "¿Quién me debe?", "Combien j'ai vendu hier ?") and answers in the question's language with the
same figures as in English, money and dates written the local way; its follow-up questions are ones it
understands again.  Through the stand-in chat-completions server the model is told the store's language,
gets Spanish date words resolved, and a Spanish answer's "RD$1.800,00" counts as the hub's figure."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from analytics.assistant.language import english_question, question_language
from analytics.assistant.loop import ask
from analytics.assistant.rules import parse
from analytics.assistant.tools import AskStore, ToolContext, run_tool
from analytics.credit.report import credit_report
from analytics.db import make_engine
from i18n import format_money, use_language
from tests.analytics.assistant.conftest import context
from tests.analytics.credit.support import NOW as CREDIT_NOW
from tests.analytics.credit.support import STORE, four_customers
from tests.support.llm_server import Reply


@pytest.mark.parametrize("question, language, tool, args", [
    ("¿Cuánto vendí ayer?", "es", "sales_by_period", {"period": "yesterday"}),
    ("¿Quién me debe?", "es", "credit_owed", {}),
    ("Combien j'ai vendu hier ?", "fr", "sales_by_period", {"period": "yesterday"}),
    ("¿Cuántas Presidente vendimos el viernes pasado?", "es", "product_sales",
     {"product": "presidente", "period": "last friday"}),
    ("Combien de Presidente vendus vendredi dernier ?", "fr", "product_sales",
     {"product": "presidente", "period": "last friday"}),
    ("¿Quiénes son mis mejores clientes este mes?", "es", "top_customers", {"period": "this month"}),
    ("Produits les plus vendus cette semaine", "fr", "top_products", {"period": "this week", "by": "units"}),
    ("Qui me doit le plus d'argent ?", "fr", "credit_owed", {}),
    ("¿Qué productos debo pedir?", "es", "reorder_advice", {}),
    ("Heure de pointe la semaine dernière", "fr", "sales_by_hour", {"period": "last week"}),
    ("Ventas por categoría el mes pasado", "es", "sales_by_category", {"period": "last month"}),
    ("Prévisions des ventes pour les 7 prochains jours", "fr", "forecast", {"days": 7}),
    ("¿Cuánto vendimos entre enero y marzo?", "es", "sales_by_period", {"period": "between january and march"}),
])
def test_spanish_and_french_questions_pick_the_same_tools(ctx, question, language, tool, args) -> None:
    assert question_language(question) == language
    intent = parse(question, ctx)
    assert intent is not None and (intent.tool, intent.args) == (tool, args), english_question(question, language)


def test_a_spanish_question_is_answered_in_spanish_with_the_same_figures(ctx) -> None:
    english = ask("What were sales yesterday?", ctx, None)
    spanish = ask("¿Cuánto vendí ayer?", ctx, None)
    assert spanish.source == "computed" and spanish.language == "es"
    assert spanish.text == "Ventas el viernes 20 nov 2026: RD$2,775.00 netos en 4 ventas, compra media RD$693.75."
    assert spanish.table.rows == english.table.rows  # the hub's figures do not depend on the language
    assert [c.label for c in spanish.table.columns] == ["Día", "Ventas netas", "Ventas", "Compra media"]
    assert spanish.follow_ups[0] == "Productos más vendidos ayer"
    for question in spanish.follow_ups:  # the follow-ups are questions the rules understand, in Spanish
        follow = ask(question, ctx, None)
        assert follow.tools_used and follow.language == "es", question


def test_a_french_question_is_answered_in_french(ctx) -> None:
    a = ask("Combien de Presidente vendus vendredi dernier ?", ctx, None)
    assert a.language == "fr" and a.tools_used == ["product_sales"]
    # 12 units on Friday in the store's time zone, the money as French writes it (narrow no-break spaces)
    money = format_money(180000, "DOP", "fr")
    assert a.text == f"Presidente Beer 650ml : 12 unités vendues le vendredi 20 nov. 2026, {money} en 3 ventes."
    assert money.replace("\u202f", " ").replace("\u00a0", " ") == "1 800,00 RD$"
    assert ask("bonjour, qui êtes-vous ?", ctx, None).text.startswith("Je réponds aux questions")


def test_an_unclear_question_is_answered_in_the_stores_language(ctx) -> None:
    spanish_store = dataclasses.replace(ctx, store=dataclasses.replace(ctx.store, language="es"))
    a = ask("Presidente 2026-11-20", spanish_store, None)
    assert a.language == "es" and a.text.startswith("Puedo responder")
    english_page = dataclasses.replace(spanish_store, language="en")  # the asker's page is in English
    assert ask("Presidente 2026-11-20", english_page, None).language == "en"


def test_who_owes_me_in_spanish_and_french(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    four_customers().write(engine)
    report = credit_report(engine, STORE, as_of=CREDIT_NOW)
    top = max(report.customers, key=lambda c: c.balance)
    ctx = ToolContext(engine, AskStore.load(engine, STORE), CREDIT_NOW, credit=True)
    es = ask("¿Quién me debe más?", ctx, None)
    fr = ask("Qui me doit de l'argent ?", ctx, None)
    assert es.tools_used == fr.tools_used == ["credit_owed"]
    with use_language("es", ctx.store.timezone):
        assert es.text.startswith(f"{top.name} es quien más debe: {format_money(top.balance, 'DOP')}")
    with use_language("fr", ctx.store.timezone):
        assert fr.text.startswith(f"{top.name} doit le plus : {format_money(top.balance, 'DOP')}")
    assert es.table.rows == fr.table.rows and es.table.rows[0]["customer"] == top.name
    engine.dispose()


def test_a_model_given_spanish_dates_and_writing_spanish_numbers(seeded, llm_server) -> None:
    from tests.analytics.assistant.conftest import make_ai

    ctx = context(seeded)
    spanish = dataclasses.replace(ctx, store=dataclasses.replace(ctx.store, language="es"))
    llm_server.script(Reply.tool_call("product_sales", {"product": "presidente", "period": "el viernes pasado"}),
                      Reply.text("El viernes pasado vendiste 12 Presidente por RD$1.800,00.\n\nFollow-up questions:\n"
                                 "- ¿Qué productos debo pedir?\n- ¿Cuánto vendí ayer?"))
    answer = ask("¿Cuántas Presidente vendí el viernes pasado?", spanish, make_ai(seeded, llm_server))
    assert answer.source == "llm" and answer.note is None and answer.language == "es"
    assert answer.table.rows[0]["units"] == 12 and answer.period["start_utc"] == "2026-11-20T04:00:00Z"
    first = llm_server.requests[0]
    assert "Spanish" in first["messages"][1]["content"]  # the store's language is given with the store
    assert "language of the question" in first["messages"][0]["content"]
    # a made-up figure written the Spanish way is still caught
    llm_server.script(Reply.tool_call("product_sales", {"product": "presidente", "period": "el viernes pasado"}),
                      Reply.text("El viernes pasado vendiste 15 Presidente por RD$2.250,00."))
    flagged = ask("¿Cuántas Presidente vendí el viernes pasado?", spanish, make_ai(seeded, llm_server))
    assert "RD$2.250,00" in flagged.note and "15" in flagged.note


def test_tool_summaries_follow_the_current_language(ctx) -> None:
    with use_language("fr", ctx.store.timezone):
        r = run_tool(ctx, "top_customers", {"period": "ce mois-ci"})
    assert r.ok and r.summary.startswith("Meilleur client en novembre 2026 : Juan Rodríguez")
