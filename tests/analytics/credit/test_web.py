"""The hub's Credit tab: the owner of the store sees KPIs, risk, priority and the composer; a viewer
gets 403, another store's owner 404; exports; the composer POST needs the CSRF token; and the
CLI prints the same figures."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stdout

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from analytics.web import create_app
from analytics.web.accounts import HubUsers
from tests.analytics.credit.support import NOW, PHONES

PASSWORDS = {"ann": "owner-cr-pass-1", "bob": "owner-other-pass-1", "val": "viewer-cr-pass-1", "op": "operator-pass-1"}


@pytest.fixture
def app(sqlite_engine: Engine) -> Flask:
    users = HubUsers(sqlite_engine)
    users.save("ann", "Ann Owner", "owner", password=PASSWORDS["ann"], stores=["s-cr"])
    users.save("bob", "Bob Owner", "owner", password=PASSWORDS["bob"], stores=["s-other"])
    users.save("val", "Val Viewer", "viewer", password=PASSWORDS["val"], stores=["s-cr"])
    users.save("op", "Olga Operator", "operator", password=PASSWORDS["op"], stores=[])
    return create_app(sqlite_engine, secret_key="test-secret", clock=lambda: NOW, testing=True)


def _login(app: Flask, user: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    resp = client.post("/api/login", json={"user_id": user, "password": PASSWORDS[user]},
                       headers={"X-CSRFToken": token})
    assert resp.status_code == 200
    return client, token


def test_owner_sees_the_credit_page(app: Flask) -> None:
    client, _ = _login(app, "ann")
    html = client.get("/stores/s-cr/credit").get_data(as_text=True)
    assert 'id="kpi-total-owed"' in html and "RD$3,160.00" in html
    assert "RD$1,220.00" in html  # overdue: Luis's oldest purchase and all of Pedro's
    assert "balance 93 % of limit" in html and "no repayment for 91 days" in html
    assert html.index("Luis Late") < html.index("Pedro Stopped")  # the priority list comes first, Luis on top
    assert "2026-12-02" in html and 'id="composer-form"' in html and "credit.js" in html
    assert 'href="/stores/s-cr/credit"' in client.get("/stores/s-cr").get_data(as_text=True)  # the tab


def test_viewer_gets_403_and_other_owner_404(app: Flask) -> None:
    val, _ = _login(app, "val")
    assert val.get("/stores/s-cr/credit").status_code == 403
    assert val.get("/api/stores/s-cr/credit/customers").status_code == 403
    assert 'href="/stores/s-cr/credit"' not in val.get("/stores/s-cr").get_data(as_text=True)
    bob, token = _login(app, "bob")
    for url in ("/stores/s-cr/credit", "/api/stores/s-cr/credit", "/api/stores/s-cr/credit/customers",
                "/api/stores/s-cr/credit/priority", "/api/stores/s-cr/credit/ledger?customer=c-late"):
        resp = bob.get(url)
        assert resp.status_code == 404 and b"Luis" not in resp.data, url
    resp = bob.post("/api/stores/s-cr/credit/message", json={"customer_id": "c-late"}, headers={"X-CSRFToken": token})
    assert resp.status_code == 404
    own = bob.get("/stores/s-other/credit")  # his own store, which has sold nothing on credit yet
    assert own.status_code == 200 and 'id="credit-empty"' in own.get_data(as_text=True)
    assert bob.get("/api/stores/s-other/credit/priority").get_json()["rows"] == []
    op, _ = _login(app, "op")
    assert op.get("/stores/s-cr/credit").status_code == 200


def test_api_and_exports(app: Flask) -> None:
    client, _ = _login(app, "ann")
    body = client.get("/api/stores/s-cr/credit").get_json()
    assert body["kpis"]["total_owed"] == 316000 and body["kpis"]["customers_with_balance"] == 4
    rows = client.get("/api/stores/s-cr/credit/priority").get_json()["rows"]
    assert [r["customer_id"] for r in rows] == ["c-late", "c-stop", "c-new", "c-rel"]
    customers = client.get("/api/stores/s-cr/credit/customers").get_json()["rows"]
    late = next(r for r in customers if r["customer_id"] == "c-late")
    assert late["risk_score"] == 75 and "balance 93 % of limit" in late["risk_factors"]
    assert late["phone"] == PHONES["c-late"]
    csv = client.get("/api/stores/s-cr/credit/priority?format=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv" and b"Luis Late" in csv.data
    xlsx = client.get("/api/stores/s-cr/credit/customers?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    ledger = client.get("/api/stores/s-cr/credit/ledger?customer=c-late").get_json()
    assert ledger["balance"] == 186000 and ledger["rows"][-1]["balance"] == 186000
    unpaid = client.get("/api/stores/s-cr/credit/unpaid?customer=c-late&format=csv")
    assert unpaid.status_code == 200 and b"2026-10-21" in unpaid.data
    assert client.get("/api/stores/s-cr/credit/ledger?customer=c-nobody").status_code == 404
    assert client.get("/api/stores/s-cr/credit/ledger").status_code == 400


def test_composer_post_needs_csrf_and_answers(app: Flask) -> None:
    client, token = _login(app, "ann")
    url = "/api/stores/s-cr/credit/message"
    body = {"customer_id": "c-stop", "tone": "formal", "language": "es"}
    assert client.post(url, json=body).status_code == 400  # no CSRF token
    resp = client.post(url, json=body, headers={"X-CSRFToken": token})
    assert resp.status_code == 200
    m = resp.get_json()
    assert m["source"] == "computed" and m["note"].startswith("computed from your figures")
    assert m["sms"].startswith("Estimado/a Pedro Stopped:") and "RD$600.00" in m["sms"]
    assert m["email_subject"] and "RD$600.00" in m["whatsapp"] and m["sms_chars"] <= 160
    bad = client.post(url, json={**body, "tone": "angry"}, headers={"X-CSRFToken": token})
    assert bad.status_code == 400 and "tone must be one of" in bad.get_json()["error"]
    val, vtoken = _login(app, "val")
    assert val.post(url, json=body, headers={"X-CSRFToken": vtoken}).status_code == 403


def test_cli_summary_and_message(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from tillsight_cli.main import main

    url = str(sqlite_engine.url)
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["hub", "credit", "--store", "s-cr", "--database-url", url, "--json"]) == 0
    doc = json.loads(out.getvalue().strip().splitlines()[-1])
    assert {c["customer_id"] for c in doc["customers"]} == {"c-rel", "c-late", "c-new", "c-stop"}
    assert doc["kpis"]["total_owed"] > 0 and doc["priority"][0]["customer_id"] in ("c-late", "c-stop")
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["hub", "credit", "--store", "s-cr", "--database-url", url]) == 0
    assert "collections priority" in out.getvalue() and "Luis Late" in out.getvalue()
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["hub", "credit", "message", "--store", "s-cr", "--customer", "c-late", "--tone", "friendly",
                     "--language", "es", "--database-url", url, "--json"]) == 0
    m = json.loads(out.getvalue().strip().splitlines()[-1])
    assert m["source"] == "computed" and m["sms"].startswith("Hola Luis,")
    assert main(["hub", "credit", "message", "--store", "s-cr", "--customer", "c-nobody", "--database-url", url]) == 2
    assert main(["hub", "credit", "--store", "s-unknown", "--database-url", url]) == 2
