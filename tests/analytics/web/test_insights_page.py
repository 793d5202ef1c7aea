"""The Insights tab of the hub web app: viewers read the narratives (computed and marked when no AI
is configured), personas, explained alerts and product descriptions; owners regenerate with the
CSRF token, through the stand-in model when the app has one; another tenant's store is a 404."""

from __future__ import annotations

from sqlalchemy import Engine

from analytics.llm import AIService
from analytics.web import create_app
from firmware_config import load_config
from tests.analytics.web.conftest import Session, csrf_token
from tests.analytics.web.seed import PASSWORDS
from tests.support.llm_server import ChatServer, Reply, llm_server  # noqa: F401 - pytest fixture


def test_viewers_read_the_computed_insights_marked_as_such(login_as) -> None:
    val = login_as("val")
    page = val.get("/stores/s-001/insights")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Daily report, Friday 20 November 2026" in html
    assert "computed from your figures (no AI)" in html and 'id="narrative-weekly"' in html
    assert 'id="alert-explanations"' in html and "void after payment" in html and "Write again" not in html
    body = val.get("/api/stores/s-001/insights/narrative?period=weekly").get_json()
    assert body["narrative"]["source"] == "computed" and body["narrative"]["period_end"] == "2026-11-20"
    assert body["ai"] == {"configured": False, "model": None, "mark": "computed from your figures (no AI)"}
    alerts = val.get("/api/stores/s-001/insights/alerts").get_json()["alerts"]
    assert [a["alert_id"] for a in alerts] == ["a-alert-1"] and alerts[0]["explanation"]["source"] == "computed"
    products = val.get("/api/stores/s-001/insights/products").get_json()["products"]
    assert [p["sku"] for p in products] == ["RICE-5LB"] and products[0]["description"] is None
    assert val.get("/api/stores/s-001/insights/narrative?period=yearly").status_code == 400
    # writing needs the owner role
    assert val.post("/api/stores/s-001/insights/narrative", json={"period": "daily"}).status_code == 403
    assert val.post("/api/stores/s-001/insights/products/RICE-5LB/describe").status_code == 403


def test_owners_regenerate_and_other_tenants_get_404(login_as) -> None:
    ann = login_as("ann")
    made = ann.post("/api/stores/s-001/insights/narrative", json={"period": "daily"})
    assert made.status_code == 200 and made.get_json()["narrative"]["source"] == "computed"
    assert made.get_json()["narrative"]["id"] is not None
    assert ann.post("/api/stores/s-001/insights/personas").status_code == 200
    exp = ann.post("/api/stores/s-001/insights/alerts/a-alert-1/explain").get_json()["explanation"]
    assert "void after payment" in " ".join(exp["details"])
    desc = ann.post("/api/stores/s-001/insights/products/RICE-5LB/describe").get_json()["description"]
    assert desc["source"] == "computed" and "Pack size: 5 lb" in desc["bullets"]
    html = ann.get("/stores/s-001/insights").get_data(as_text=True)
    assert "Write again" in html and "Pack size: 5 lb" in html
    # store B is Bob's: every read and write of it is a 404 for Ann, as for a store that does not exist
    for url in ("/stores/s-002/insights", "/api/stores/s-002/insights/narrative", "/api/stores/s-002/insights/alerts",
                "/api/stores/s-002/insights/personas", "/api/stores/s-002/insights/products"):
        assert ann.get(url).status_code == 404, url
    assert ann.post("/api/stores/s-002/insights/narrative", json={"period": "daily"}).status_code == 404
    assert ann.post("/api/stores/s-002/insights/alerts/b-alert-1/explain").status_code == 404
    assert ann.post("/api/stores/s-001/insights/alerts/b-alert-1/explain").status_code == 404
    assert ann.post("/api/stores/s-001/insights/products/NOPE/describe").status_code == 404
    # without the CSRF token nothing is written
    assert ann.client.post("/api/stores/s-001/insights/narrative", json={"period": "daily"}).status_code in (400, 403)


def test_with_an_ai_the_owner_gets_a_checked_llm_narrative(hub_engine: Engine, clock: dict,
                                                           llm_server: ChatServer) -> None:  # noqa: F811
    cfg = load_config(None, env={}, overrides={"llm": {"base_url": llm_server.base_url, "timeout_s": 1.0,
                                                       "max_retries": 0}})
    app = create_app(hub_engine, secret_key="test-secret", clock=lambda: clock["now"], testing=True,
                     ai=AIService.from_config(hub_engine, cfg))
    client = app.test_client()
    token = csrf_token(client)
    assert client.post("/api/login", json={"user_id": "ann", "password": PASSWORDS["ann"]},
                       headers={"X-CSRFToken": token}).status_code == 200
    ann = Session(client, token)
    llm_server.script(Reply.json({"title": "Friday 20 November", "what_happened": [
        "One sale brought RD$7.00.", "Sales hit RD$9,999 on rice."], "what_changed": [], "what_to_do": [],
        "risks": []}))
    got = ann.post("/api/stores/s-001/insights/narrative", json={"period": "daily"}).get_json()
    assert got["ai"]["configured"] is True
    n = got["narrative"]
    assert n["source"] == "llm" and n["sections"]["what_happened"] == ["One sale brought RD$7.00."]
    assert n["unsupported"] == ["RD$9,999"]
    html = ann.get("/stores/s-001/insights").get_data(as_text=True)
    assert "written by AI" in html and "RD$9,999" in html and 'id="unsupported-daily"' in html
