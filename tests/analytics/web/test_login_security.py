"""Login security on the hub (issue 26): wrong passwords are throttled per user and client, so nobody
can keep the only operator out, and logout ends the session on the server."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from analytics.web.accounts import HubUsers
from tests.analytics.web.conftest import csrf_token
from tests.analytics.web.seed import PASSWORDS


class Browser:
    """A test client at one address that sends its CSRF token with every post."""

    def __init__(self, app: Flask, address: str) -> None:
        self.client: FlaskClient = app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = address
        self.token = csrf_token(self.client)

    def login(self, user_id: str, password: str):
        return self.client.post("/api/login", json={"user_id": user_id, "password": password},
                                headers={"X-CSRFToken": self.token})

    def post(self, url: str):
        return self.client.post(url, json={}, headers={"X-CSRFToken": self.token})


def users(app: Flask) -> HubUsers:
    return app.extensions["tillsight.hub"].users


def test_nobody_can_keep_the_operator_out_by_guessing(app: Flask) -> None:
    attacker = Browser(app, "203.0.113.9")
    for _ in range(12):
        attacker.login("op", "wrong-password-1")
    refused = attacker.login("op", PASSWORDS["op"])
    assert refused.status_code == 401 and "too many failed attempts" in refused.get_json()["error"]
    assert "op" not in refused.get_json()["error"].replace("from", "")  # the account is not named
    assert Browser(app, "198.51.100.4").login("op", PASSWORDS["op"]).status_code == 200


def test_a_spread_attack_slows_everyone_but_the_hub_host(app: Flask) -> None:
    for n in range(60):
        assert Browser(app, f"203.0.113.{n}").login("op", "wrong-password-1").status_code == 401
    assert Browser(app, "198.51.100.4").login("op", PASSWORDS["op"]).status_code == 401
    assert Browser(app, "127.0.0.1").login("op", PASSWORDS["op"]).status_code == 200


def test_counters_reset_on_success_and_after_a_quiet_hour(app: Flask, clock: dict) -> None:
    browser = Browser(app, "198.51.100.4")
    for _ in range(5):
        browser.login("ann", "wrong-password-1")
    clock["now"] += timedelta(seconds=3)
    assert browser.login("ann", PASSWORDS["ann"]).status_code == 200
    assert browser.login("ann", "wrong-password-1").get_json()["error"] == "unknown user or wrong password"
    for _ in range(6):
        browser.login("ann", "wrong-password-1")
    assert "too many failed attempts" in browser.login("ann", PASSWORDS["ann"]).get_json()["error"]
    clock["now"] += timedelta(hours=1, seconds=1)
    assert browser.login("ann", "wrong-password-1").get_json()["error"] == "unknown user or wrong password"


def test_saving_the_user_clears_the_counters(app: Flask, clock: dict) -> None:
    browser = Browser(app, "198.51.100.4")
    for _ in range(8):
        browser.login("ann", "wrong-password-1")
    assert browser.login("ann", PASSWORDS["ann"]).status_code == 401
    ann = users(app).find("ann")
    assert ann is not None and ann.failed_attempts == 5 and ann.locked_until is not None  # waits are not tries
    users(app).save("ann", ann.name, ann.role, now=clock["now"])  # what ``tillsight hub web users`` does
    assert browser.login("ann", PASSWORDS["ann"]).status_code == 200


def test_a_copied_session_cookie_is_refused_after_logout(app: Flask) -> None:
    browser = Browser(app, "198.51.100.4")
    assert browser.login("ann", PASSWORDS["ann"]).status_code == 200
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = browser.client.get_cookie(name)
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie(name, cookie.value)
    assert copy.get("/api/me").status_code == 200
    assert browser.post("/api/logout").status_code == 200
    assert copy.get("/api/me").status_code == 401
    again = Browser(app, "198.51.100.4")
    assert again.login("ann", PASSWORDS["ann"]).status_code == 200
    assert again.client.get("/api/me").get_json()["user"]["id"] == "ann"


def test_saving_the_user_from_another_process_clears_the_counters(app: Flask, hub_engine, clock: dict) -> None:
    browser = Browser(app, "198.51.100.4")
    for _ in range(8):
        browser.login("ann", "wrong-password-1")
    assert browser.login("ann", PASSWORDS["ann"]).status_code == 401
    elsewhere = HubUsers(hub_engine)  # the shell's ``tillsight hub user add``, its own throttle
    ann = elsewhere.find("ann")
    assert ann is not None
    elsewhere.save("ann", ann.name, ann.role, now=clock["now"] + timedelta(seconds=1))
    assert browser.login("ann", PASSWORDS["ann"]).status_code == 200
