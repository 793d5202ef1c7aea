"""The Ask API of the hub web app: an owner asks about their store and gets the computed answer
(no AI configured) or the AI's answer with the hub's table; the history is kept per store; another
tenant's store is a 404; a bad question is a 400 that says why."""

from __future__ import annotations

from flask import Flask

from analytics.web import create_app
from tests.analytics.assistant.conftest import make_ai
from tests.analytics.web.conftest import Session, csrf_token
from tests.analytics.web.seed import PASSWORDS, A, B
from tests.support.llm_server import Reply, llm_server  # noqa: F401 - pytest fixture

TODAY = "Sales on Saturday 21 Nov 2026: RD$130.00 net in 2 sales, average basket RD$75.00 (1 refund netted)."


def _login(app: Flask, user_id: str) -> Session:
    client = app.test_client()
    token = csrf_token(client)
    assert client.post("/api/login", json={"user_id": user_id, "password": PASSWORDS[user_id]},
                       headers={"X-CSRFToken": token}).status_code == 200
    return Session(client, token)


def test_owner_asks_without_ai_and_sees_the_history(login_as) -> None:
    ann = login_as("ann")
    resp = ann.post(f"/api/stores/{A}/ask", json={"question": "What were sales today?"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["text"] == TODAY and body["source"] == "computed" and body["mark"] == "computed (no AI)"
    assert body["table"]["rows"] == [{"day": "2026-11-21", "net_sales": 13000, "sales": 2, "average": 7500}]
    assert len(body["follow_ups"]) == 3 and body["user_id"] == "ann"
    page = ann.get(f"/stores/{A}/ask").get_data(as_text=True)
    assert 'id="ask-form"' in page and "ask.js" in page and "No AI is configured" in page
    history = ann.get(f"/api/stores/{A}/ask/history").get_json()["messages"]
    assert [(m["question"], m["text"]) for m in history] == [("What were sales today?", TODAY)]
    # the viewer of store A sees the store's history and may ask too
    val = login_as("val")
    assert [m["user_id"] for m in val.get(f"/api/stores/{A}/ask/history").get_json()["messages"]] == ["ann"]
    assert val.get(f"/api/stores/{A}/ask/history?mine=1").get_json()["messages"] == []
    assert val.post(f"/api/stores/{A}/ask", json={"question": "Top products today"}).status_code == 200


def test_other_tenants_and_bad_questions(login_as) -> None:
    ann = login_as("ann")
    resp = ann.post(f"/api/stores/{B}/ask", json={"question": "What were sales today?"})
    assert resp.status_code == 404 and resp.get_json()["error"] == "no store 's-002'"
    assert ann.get(f"/api/stores/{B}/ask/history").status_code == 404
    assert ann.get(f"/stores/{B}/ask").status_code == 404
    bad = ann.post(f"/api/stores/{A}/ask", json={"question": "   "})
    assert bad.status_code == 400 and "type a question" in bad.get_json()["error"]
    long = ann.post(f"/api/stores/{A}/ask", json={"question": "x" * 501})
    assert long.status_code == 400 and "at most 500" in long.get_json()["error"]
    assert ann.post(f"/api/stores/{A}/ask", data="question").status_code == 400
    # no CSRF token, no answer
    assert ann.client.post(f"/api/stores/{A}/ask", json={"question": "Sales today"}).status_code == 400
    assert ann.get(f"/api/stores/{A}/ask/history").get_json()["messages"] == []


def test_with_ai_the_answer_is_the_models_text_and_the_hubs_table(hub_engine, clock, llm_server) -> None:  # noqa: F811
    app = create_app(hub_engine, secret_key="t", clock=lambda: clock["now"], testing=True,
                     ai=make_ai(hub_engine, llm_server))
    llm_server.script(Reply.tool_call("sales_by_period", {"period": "today"}),
                      Reply.text("Today you sold RD$130.00 in 2 sales.\nFollow-up questions:\n- Sales yesterday?\n"
                                 "- Top products today"))
    ann = _login(app, "ann")
    body = ann.post(f"/api/stores/{A}/ask", json={"question": "How are sales today?"}).get_json()
    assert body["source"] == "llm" and body["text"] == "Today you sold RD$130.00 in 2 sales."
    assert body["table"]["rows"][0]["net_sales"] == 13000 and body["follow_ups"] == ["Sales yesterday?",
                                                                                      "Top products today"]
    assert "Answers come from the hub's figures" in ann.get(f"/stores/{A}/ask").get_data(as_text=True)
