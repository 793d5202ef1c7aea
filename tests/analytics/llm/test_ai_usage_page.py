"""The "AI usage" tab: an owner sees the balance, spend against caps and the ledger (with
exports); an operator tops up and changes caps with the CSRF-protected form; another store's
owner gets a 404; viewers may not open it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import Engine

from analytics.llm import AIService, AIUnavailable
from analytics.web import create_app
from tests.analytics.llm.conftest import Clocks, build_service
from tests.analytics.web.conftest import (  # noqa: F401 - pytest fixtures
    Session,
    clock,
    hub_engine,
    login_as,
    seeded_file,
)
from tests.support.llm_server import ChatServer, Reply

SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}


@pytest.fixture
def ai(hub_engine: Engine, llm_server: ChatServer, clocks: Clocks) -> AIService:  # noqa: F811
    return build_service(hub_engine, llm_server, clocks, starting_credits=100, daily_cap=40, monthly_cap=300,
                         max_retries=0)


@pytest.fixture
def app(hub_engine: Engine, clock: dict, ai: AIService) -> Flask:  # noqa: F811
    return create_app(hub_engine, secret_key="test-secret", clock=lambda: clock["now"], testing=True, ai=ai)


def spend(ai: AIService, llm_server: ChatServer) -> None:
    llm_server.script(Reply.json({"text": "ok"}, prompt_tokens=321), Reply.error(500))
    ai.structured("s-001", "narrative", [{"role": "user", "content": "a"}], schema=SCHEMA, schema_name="n")
    with pytest.raises(AIUnavailable):
        ai.structured("s-001", "narrative", [{"role": "user", "content": "b"}], schema=SCHEMA, schema_name="n")


def test_owner_sees_balance_caps_and_ledger(login_as: Callable[[str], Session], ai: AIService,  # noqa: F811
                                           llm_server: ChatServer) -> None:
    spend(ai, llm_server)
    ann = login_as("ann")
    page = ann.get("/stores/s-001/ai")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'id="kpi-ai-balance".*?95', html, re.S)
    assert re.search(r'id="kpi-ai-today".*?>5<.*?daily cap of 40', html, re.S)
    assert re.search(r'id="kpi-ai-month".*?monthly cap of 300', html, re.S)
    assert 'id="ai-ledger"' in html and "321" in html and "HTTP 500" in html
    assert 'id="ai-credits-form"' not in html  # owners do not top up
    assert 'href="/stores/s-001/ai"' in ann.get("/stores/s-001").get_data(as_text=True)  # the tab
    data = ann.get("/api/stores/s-001/ai/ledger").get_json()
    assert [(r["success"], r["cost"]) for r in data["rows"]] == [(False, 0), (True, 5)]
    csv = ann.get("/api/stores/s-001/ai/ledger?format=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv" and "narrative" in csv.get_data(as_text=True)
    xlsx = ann.get("/api/stores/s-001/ai/ledger?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert ann.get("/api/stores/s-001/ai").get_json()["account"]["balance"] == 95


def test_other_store_and_viewer_are_refused(login_as: Callable[[str], Session]) -> None:  # noqa: F811
    bob = login_as("bob")
    assert bob.get("/stores/s-001/ai").status_code == 404
    assert bob.get("/api/stores/s-001/ai/ledger").status_code == 404
    assert bob.get("/stores/s-002/ai").status_code == 200
    assert login_as("val").get("/stores/s-001/ai").status_code == 403
    ann = login_as("ann")
    assert ann.post("/api/stores/s-001/ai/credits", json={"add": 10}).status_code == 403
    assert ann.post("/stores/s-001/ai/credits", data={"add": "10", "csrf_token": ann.token}).status_code == 403


def test_operator_tops_up_and_sets_caps_with_the_form(login_as: Callable[[str], Session],  # noqa: F811
                                                      ai: AIService) -> None:
    op = login_as("op")
    html = op.get("/stores/s-001/ai").get_data(as_text=True)
    token = re.search(r'id="ai-credits-form".*?name="csrf_token" value="([^"]+)"', html, re.S).group(1)
    # without the token: refused, nothing changes
    bare = op.client.post("/stores/s-001/ai/credits", data={"add": "500"})
    assert bare.status_code == 400 and "security token" in bare.get_data(as_text=True)
    assert ai.account("s-001").balance == 100
    resp = op.client.post("/stores/s-001/ai/credits", data={"csrf_token": token, "add": "500", "daily_cap": "none",
                                                            "monthly_cap": "", "note": "November pack"})
    assert resp.status_code == 303
    acct = ai.account("s-001")
    assert (acct.balance, acct.daily_cap, acct.monthly_cap) == (600, None, 300)
    rows = ai.ledger("s-001")
    assert [r.kind for r in rows] == ["caps", "topup"] and rows[1].note == "by op: November pack"
    after = op.client.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'id="ai-done"' in after and "November pack" in after and "600" in after

    bad = op.client.post("/stores/s-001/ai/credits", data={"csrf_token": token, "add": "lots"})
    assert bad.status_code == 400 and "Credits to add must be a whole number" in bad.get_data(as_text=True)
    assert ai.account("s-001").balance == 600
    api = op.post("/api/stores/s-001/ai/credits", json={"monthly_cap": None, "add": -100})
    assert api.status_code == 200 and api.get_json()["account"]["balance"] == 500
    assert ai.account("s-001").monthly_cap is None
    assert op.post("/api/stores/s-404/ai/credits", json={"add": 1}).status_code == 404


def test_page_without_ai_says_so(hub_engine: Engine, clock: dict) -> None:  # noqa: F811
    from tests.analytics.web.conftest import csrf_token
    from tests.analytics.web.seed import PASSWORDS

    app = create_app(hub_engine, secret_key="test-secret", clock=lambda: clock["now"], testing=True)
    client = app.test_client()
    token = csrf_token(client)
    client.post("/api/login", json={"user_id": "op", "password": PASSWORDS["op"]}, headers={"X-CSRFToken": token})
    html = client.get("/stores/s-001/ai").get_data(as_text=True)
    assert 'id="ai-not-configured"' in html and "computed from your figures" in html
    resp = client.post("/api/stores/s-001/ai/credits", json={"add": 5}, headers={"X-CSRFToken": token})
    assert resp.status_code == 400 and "not set up" in resp.get_json()["error"]
