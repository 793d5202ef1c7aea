"""Login security on the appliance (issue 26): an owner logs in only by password, wrong PINs are
throttled per person and client without locking anyone out, and logout ends the session on the server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from edge.auth.service import Authenticator
from edge.checkout.service import CheckoutService
from edge.store import Store
from edge.web.context import WebContext
from tests.edge.web.conftest import CREDENTIALS, csrf_token
from tests.edge.web.test_cashier_api import BEANS, RICE, open_shift, sell

START = datetime(2026, 11, 21, 14, 0, tzinfo=UTC)  # 10:00 in Santo Domingo
TILL = "10.0.0.5"
OTHER = "10.0.0.66"


@pytest.fixture
def clock() -> dict[str, datetime]:
    return {"now": START}


@pytest.fixture
def web_context(store: Store, clock: dict[str, datetime]) -> WebContext:
    auth = Authenticator(store.users, clock=lambda: clock["now"])
    checkout = CheckoutService(store, auth, "s-001", "till-1")
    return WebContext(store=store, auth=auth, checkout=checkout, store_id="s-001", device_id="till-1")


class Browser:
    """A test client at one address that sends its CSRF token with every post."""

    def __init__(self, app: Flask, address: str) -> None:
        self.client: FlaskClient = app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = address
        self.token = csrf_token(self.client)

    def login(self, user_id: str, **secret: str):
        return self.client.post("/api/login", json={"user_id": user_id, **secret},
                                headers={"X-CSRFToken": self.token})

    def get(self, url: str):
        return self.client.get(url)

    def post(self, url: str, json: dict | None = None):
        return self.client.post(url, json=json, headers={"X-CSRFToken": self.token})


def pin(user_id: str) -> str:
    return CREDENTIALS[user_id][0]


# -- 1. an owner logs in only with the password -----------------------------------------------------
def test_an_owner_cannot_log_in_with_the_pin(app: Flask) -> None:
    browser = Browser(app, TILL)
    owner_pin, owner_password = CREDENTIALS["owner"]
    resp = browser.login("owner", pin=owner_pin)
    assert resp.status_code == 401 and "password" in resp.get_json()["error"]
    assert browser.client.get("/api/me").status_code == 401
    form = browser.client.post("/login", data={"user_id": "owner", "pin": owner_pin, "csrf_token": browser.token})
    assert form.status_code == 401 and browser.client.get("/api/me").status_code == 401
    resp = browser.login("owner", password=owner_password)
    assert resp.status_code == 200 and resp.get_json()["user"]["role"] == "owner"


def test_the_owners_pin_still_approves_a_refund(app: Flask) -> None:
    ana = Browser(app, TILL)
    assert ana.login("ana", pin=pin("ana")).status_code == 200
    open_shift(ana)
    done = sell(ana, [(RICE, 1), (BEANS, 1)])
    resp = ana.post("/api/refunds", json={"receipt_no": done["receipt_no"], "items": {RICE: 1}, "reason": "torn",
                                          "approver_id": "owner", "approver_pin": pin("owner")})
    assert resp.status_code == 200, resp.get_json()


# -- 2. throttling, not lock-out -------------------------------------------------------------------
def test_someone_elses_wrong_pins_do_not_keep_the_supervisor_out(app: Flask) -> None:
    attacker = Browser(app, OTHER)
    for _ in range(12):
        attacker.login("maria", pin="1111")
    refused = attacker.login("maria", pin=pin("maria"))
    assert refused.status_code == 401 and "too many failed attempts" in refused.get_json()["error"]
    assert "María" not in refused.get_json()["error"] and "maria" not in refused.get_json()["error"]
    assert Browser(app, TILL).login("maria", pin=pin("maria")).status_code == 200


def test_waits_grow_are_shown_in_store_time_and_end(app: Flask, clock: dict[str, datetime]) -> None:
    browser = Browser(app, TILL)
    for _ in range(4):
        assert browser.login("luis", pin="1111").get_json()["error"] == "unknown user or wrong PIN/password"
    fifth = browser.login("luis", pin="1111").get_json()["error"]
    local = (START + timedelta(seconds=2)).astimezone(ZoneInfo("America/Santo_Domingo")).strftime("%H:%M")
    assert "locked out until " + local in fifth and "in 2 seconds" in fifth and local == "10:00"
    clock["now"] += timedelta(seconds=3)
    sixth = browser.login("luis", pin="1111").get_json()["error"]
    assert "in 4 seconds" in sixth  # the wait doubles with each failure past the free ones
    clock["now"] += timedelta(seconds=5)
    assert browser.login("luis", pin=pin("luis")).status_code == 200


def test_counters_reset_on_success_and_after_a_quiet_hour(app: Flask, clock: dict[str, datetime]) -> None:
    browser = Browser(app, TILL)
    for _ in range(5):
        browser.login("luis", pin="1111")
    clock["now"] += timedelta(seconds=3)
    assert browser.login("luis", pin=pin("luis")).status_code == 200
    # after the right PIN, one typo is just a typo (the old lock-out locked again at once)
    assert browser.login("luis", pin="1111").get_json()["error"] == "unknown user or wrong PIN/password"
    for _ in range(5):
        browser.login("luis", pin="1111")
    clock["now"] += timedelta(hours=1, seconds=1)
    assert browser.login("luis", pin="1111").get_json()["error"] == "unknown user or wrong PIN/password"


def test_a_cashier_cannot_lock_the_supervisor_out_through_the_approval_box(app: Flask) -> None:
    ana = Browser(app, TILL)
    assert ana.login("ana", pin=pin("ana")).status_code == 200
    open_shift(ana)
    done = sell(ana, [(RICE, 1)])
    body = {"receipt_no": done["receipt_no"], "items": {RICE: 1}, "reason": "torn", "approver_id": "maria"}
    for _ in range(12):
        assert ana.post("/api/refunds", json={**body, "approver_pin": "1111"}).status_code == 403
    assert Browser(app, TILL).login("maria", pin=pin("maria")).status_code == 200  # same till, her own login


def test_an_attack_from_many_addresses_still_leaves_the_owner_a_way_in(app: Flask) -> None:
    for n in range(60):  # past the per-person ceiling (50), each address within its free failures
        assert Browser(app, f"10.1.0.{n}").login("owner", password="not-it-at-all").status_code == 401
    other = Browser(app, "10.0.0.7").login("owner", password=CREDENTIALS["owner"][1])
    assert other.status_code == 401 and "too many failed attempts" in other.get_json()["error"]
    at_the_till = Browser(app, "127.0.0.1").login("owner", password=CREDENTIALS["owner"][1])
    assert at_the_till.status_code == 200


# -- 3. logout ends the session on the server ------------------------------------------------------
def test_a_copied_session_cookie_is_refused_after_logout(app: Flask) -> None:
    browser = Browser(app, TILL)
    assert browser.login("ana", pin=pin("ana")).status_code == 200
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = browser.client.get_cookie(name)
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie(name, cookie.value)
    assert copy.get("/api/me").status_code == 200  # the copy works while the session lives
    assert browser.post("/api/logout", json={}).status_code == 200
    assert copy.get("/api/me").status_code == 401
    assert copy.get("/till").status_code == 302  # the page sends it to the login screen
    again = Browser(app, TILL)
    assert again.login("ana", pin=pin("ana")).status_code == 200 and again.client.get("/api/me").status_code == 200
