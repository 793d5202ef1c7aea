"""Sending reminders from the hub's Credit tab: the owner records a customer's contact and consent, sends a
reminder (CSRF, owners and operators only), a repeated request sends nothing twice, a provider's failure is
shown on the customer's page with its error and sent again from there; and the operator's CLI sends one."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from analytics.db import make_engine
from analytics.web import create_app
from analytics.web.accounts import HubUsers
from analytics.web.credit_reminders import install_reminders
from tests.analytics.credit.outbound_servers import (
    SMS_SID,
    SMS_TOKEN,
    WA_PHONE_ID,
    Mailbox,
    Provider,
    outbound_config,
    provider_server,
    smtp_server,
)
from tests.analytics.credit.support import NOW
from tests.analytics.credit.test_sending import shop

PASSWORDS = {"ann": "owner-cr-pass-1", "val": "viewer-cr-pass-1", "bob": "owner-other-pass-1"}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = make_engine(f"sqlite:///{tmp_path / 'web-send.db'}")
    shop(e)
    users = HubUsers(e)
    users.save("ann", "Ann Owner", "owner", password=PASSWORDS["ann"], stores=["s-cr"])
    users.save("val", "Val Viewer", "viewer", password=PASSWORDS["val"], stores=["s-cr"])
    users.save("bob", "Bob Owner", "owner", password=PASSWORDS["bob"], stores=["s-other"])
    yield e
    e.dispose()


@pytest.fixture
def servers() -> Iterator[tuple[Mailbox, Provider]]:
    with smtp_server() as box, provider_server() as provider:
        yield box, provider


@pytest.fixture
def app(engine: Engine, servers: tuple[Mailbox, Provider]) -> Flask:
    app = create_app(engine, secret_key="test-secret", clock=lambda: NOW, testing=True)
    install_reminders(app, outbound_config(*servers, default_region="DO"))
    return app


def login(app: Flask, user: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    assert client.post("/api/login", json={"user_id": user, "password": PASSWORDS[user]},
                       headers={"X-CSRFToken": token}).status_code == 200
    return client, token


def test_owner_records_consent_sends_and_a_double_click_sends_once(app: Flask, servers) -> None:
    _mailbox, provider = servers
    client, token = login(app, "ann")
    h = {"X-CSRFToken": token}
    page = client.get("/stores/s-cr/credit").get_data(as_text=True)
    assert 'id="send-form"' in page and 'id="send-pick-c-new"' in page
    assert 'href="/stores/s-cr/credit/customers/c-new"' in page
    key = re.search(r'id="send-form" data-url="[^"]+" data-key="([0-9a-f]+)"', page).group(1)
    # Nina has not agreed yet: nothing is sent, and the answer says why
    url = "/api/stores/s-cr/credit/reminders"
    res = client.post(url, json={"customer_ids": ["c-new"], "tone": "friendly", "key": key}, headers=h).get_json()
    assert res["refused"] == 1 and "agreed" in res["results"][0]["reason"] and provider.requests == []
    # the owner records her phone (written the local way) and her consent on her page
    contact = client.post("/api/stores/s-cr/credit/customers/c-new/contact",
                          json={"phone": "809 555 0177", "channel": "sms", "consent": True, "email": ""}, headers=h)
    assert contact.status_code == 200 and contact.get_json()["phone"] == "+18095550177"
    bad = client.post("/api/stores/s-cr/credit/customers/c-new/contact", json={"email": "nope", "consent": True},
                      headers=h)
    assert bad.status_code == 400 and "not an e-mail address" in bad.get_json()["error"]
    body = {"customer_ids": ["c-new"], "tone": "friendly", "key": res["next_key"]}
    first = client.post(url, json=body, headers=h).get_json()
    again = client.post(url, json=body, headers=h).get_json()  # the double click
    assert first["sent"] == 1 and again["duplicate"] == 1 and again["sent"] == 0
    assert len(provider.requests) == 1 and provider.requests[0].form["To"] == "+18095550177"
    assert first["results"][0]["reminder"]["provider_id"] == again["results"][0]["reminder"]["provider_id"]
    # the customer's page shows it: who, channel, status, the provider's id
    html = client.get("/stores/s-cr/credit/customers/c-new").get_data(as_text=True)
    row = re.search(r'<tr data-reminder="[^"]+" data-status="sent">(.*?)</tr>', html, re.S).group(1)
    assert "SMS" in row and "+18095550177" in row and "ann" in row and first["results"][0]["reminder"][
        "provider_id"] in row
    table = client.get("/api/stores/s-cr/credit/reminders?customer=c-new").get_json()
    assert [r["status"] for r in table["rows"]] == ["sent"]
    csv = client.get("/api/stores/s-cr/credit/reminders?format=csv")
    assert csv.status_code == 200 and b"+18095550177" in csv.data


def test_a_failure_is_shown_and_sent_again_from_the_customers_page(app: Flask, servers) -> None:
    _mailbox, provider = servers
    client, token = login(app, "ann")
    h = {"X-CSRFToken": token}
    provider.fail = (500, {"code": 20500, "message": "Internal Server Error"})
    res = client.post("/api/stores/s-cr/credit/reminders",
                      json={"customer_ids": ["c-late"], "channel": "whatsapp", "key": "w-1"}, headers=h).get_json()
    assert res["failed"] == 1
    html = client.get("/stores/s-cr/credit/customers/c-late").get_data(as_text=True)
    assert 'data-status="failed"' in html and "HTTP 500" in html and "Internal Server Error" in html
    retry = re.search(r'class="small retry" data-url="([^"]+)"', html).group(1)
    provider.fail = None
    assert client.post(retry, json={}).status_code == 400  # no CSRF token
    done = client.post(retry, json={}, headers=h).get_json()
    assert done["status"] == "sent" and done["reminder"]["attempts"] == 2
    assert provider.requests[-1].path == f"/v21.0/{WA_PHONE_ID}/messages"
    html = client.get("/stores/s-cr/credit/customers/c-late").get_data(as_text=True)
    assert 'data-status="sent"' in html and 'data-status="failed"' not in html


def test_only_owners_of_the_store_send(app: Flask, servers) -> None:
    _mailbox, provider = servers
    body = {"customer_ids": ["c-late"], "key": "x-1"}
    val, vtoken = login(app, "val")
    assert val.post("/api/stores/s-cr/credit/reminders", json=body, headers={"X-CSRFToken": vtoken}).status_code == 403
    assert val.get("/stores/s-cr/credit/customers/c-late").status_code == 403
    bob, btoken = login(app, "bob")
    assert bob.post("/api/stores/s-cr/credit/reminders", json=body, headers={"X-CSRFToken": btoken}).status_code == 404
    assert bob.get("/stores/s-cr/credit/customers/c-late").status_code == 404
    ann, _token = login(app, "ann")
    assert ann.post("/api/stores/s-cr/credit/reminders", json=body).status_code == 400  # no CSRF token
    assert ann.get("/stores/s-cr/credit/customers/c-nobody").status_code == 404
    assert provider.requests == []


def test_cli_sends_one_reminder(engine: Engine, servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tillsight_cli.main import main

    mailbox, provider = servers
    config = tmp_path / "hub.yaml"
    config.write_text(yaml.safe_dump({"hub": {"database_url": str(engine.url)}, "outbound": {
        "default_region": "DO",
        "sms": {"enabled": True, "base_url": provider.url, "account_sid": SMS_SID, "from_number": "+18095550000"},
        "email": {"enabled": True, "host": "127.0.0.1", "port": mailbox.port, "security": "none",
                  "from_address": "cobros@colmado-ana.do"}}}), encoding="utf-8")
    monkeypatch.setenv("TILLSIGHT__OUTBOUND__SMS__AUTH_TOKEN", SMS_TOKEN)
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["hub", "credit", "send", "--store", "s-cr", "--customer", "c-carmen", "--channel", "email",
                     "--config", str(config), "--json"]) == 0
    doc = json.loads(out.getvalue().strip().splitlines()[-1])
    assert doc["status"] == "sent" and doc["channel"] == "email"
    assert mailbox.messages[0]["To"].addresses[0].addr_spec == "carmen.pena@example.do"
    # the same customer again within the week: refused, exit 1, nothing sent
    with redirect_stdout(io.StringIO()):
        assert main(["hub", "credit", "send", "--store", "s-cr", "--customer", "c-carmen", "--config",
                     str(config)]) == 1
    assert len(mailbox.messages) == 1 and provider.requests == []
    # a failed SMS, sent again from the command line
    provider.fail = (500, {"message": "Internal Server Error"})
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["hub", "credit", "send", "--store", "s-cr", "--customer", "c-late", "--channel", "sms",
                     "--config", str(config), "--json"]) == 1
    failed = json.loads(out.getvalue().strip().splitlines()[-1])
    assert failed["status"] == "failed" and "HTTP 500" in failed["reason"]
    provider.fail = None
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["hub", "credit", "send", "--store", "s-cr", "--retry", failed["reminder"]["reminder_id"],
                     "--config", str(config)]) == 0
    assert "Luis Late: sent by sms" in out.getvalue() and len(provider.requests) == 2
