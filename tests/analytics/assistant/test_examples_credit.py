"""Ask's example questions come from the store's own data (never a product it does not sell), and
"Who owes me the most money?" is answered from the credit figures, by the rules and by the tool the
AI calls, only for who may see credit (owners and operators: the figures name people)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from analytics.assistant.loop import _tool_message, ask
from analytics.assistant.rules import CREDIT_EXAMPLE, examples
from analytics.assistant.tools import AskStore, ToolContext, run_tool
from analytics.credit.report import credit_report
from analytics.db import make_engine
from analytics.llm import Pseudonymiser, data_block
from contracts.money import format_money
from tests.analytics.assistant.seed import NOW, A, B
from tests.analytics.credit.support import STORE, four_customers


def _ctx(engine: Engine, store_id: str, credit: bool) -> ToolContext:
    return ToolContext(engine, AskStore.load(engine, store_id), NOW, credit=credit)


def test_examples_name_each_stores_own_best_seller(seeded: Engine) -> None:
    a, b = examples(_ctx(seeded, A, True)), examples(_ctx(seeded, B, True))
    assert "How many Presidente Beer 650ml sold last week?" in a  # store A's best seller
    assert "How many Tapas Secret Mix sold last week?" in b and not any("Presidente" in e for e in b)
    # a store the hub has no sales of gets no product example at all
    assert not any(e.startswith("How many") for e in examples(_ctx(seeded, "s-none", True)))
    # every example is a question the rules answer (they work without the AI)
    for question in a:
        assert ask(question, _ctx(seeded, A, True), None).tools_used, question


def test_the_credit_example_is_for_who_may_see_credit(seeded: Engine) -> None:
    assert CREDIT_EXAMPLE in examples(_ctx(seeded, A, True))  # store A has credit customers
    assert CREDIT_EXAMPLE not in examples(_ctx(seeded, A, False))


def test_who_owes_me_the_most_money_is_answered_from_the_credit_figures(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    four_customers().write(engine)
    report = credit_report(engine, STORE, as_of=NOW)
    owing = sorted((c for c in report.customers if c.balance > 0), key=lambda c: -c.balance)
    ctx = _ctx(engine, STORE, True)
    for question in ("Who owes me the most money?", "who owes me money", "Which customers owe the most?",
                     "Top 2 debtors"):
        answer = ask(question, ctx, None)
        assert answer.tools_used == ["credit_owed"], question
        assert answer.text.startswith(f"{owing[0].name} owes the most: {format_money(owing[0].balance, 'DOP')}")
        assert f"{format_money(report.kpis.total_owed, 'DOP')} in all" in answer.text
        assert answer.table is not None and answer.table.rows[0]["customer"] == owing[0].name
    rows = ask("Top 2 debtors", ctx, None).table.rows  # type: ignore[union-attr]
    assert [(r["customer"], r["owes"]) for r in rows] == [(c.name, c.balance) for c in owing[:2]]
    # what the AI would be sent (the loop's tool message): aliases, never the customers' names or phones
    pseudonymiser = Pseudonymiser()
    for cid, who in ctx.credit_customers.items():
        pseudonymiser.customer(cid, who.get("name"), who.get("phone"))
    seen = str(_tool_message("call-1", run_tool(ctx, "credit_owed", {}), pseudonymiser, data_block))
    assert owing[0].name.split()[0] not in seen and not any(c.phone and c.phone in seen for c in owing)
    engine.dispose()


def test_a_viewer_is_not_told_who_owes(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    four_customers().write(engine)
    answer = ask("Who owes me the most money?", _ctx(engine, STORE, False), None)
    report = credit_report(engine, STORE, as_of=NOW)
    assert answer.tools_used == ["credit_owed"] and answer.table is None and "only the owner" in answer.text
    assert not any(c.name in answer.text for c in report.customers)
    engine.dispose()
