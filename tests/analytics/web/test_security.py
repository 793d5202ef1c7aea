"""Security of the hub web app: a login on every route, roles, CSRF, lock-out, hashed passwords,
sessions that end when the account changes, and the strict content policy."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from analytics.db.web_tables import hub_users
from analytics.web import create_app
from analytics.web.accounts import AccountError, HubUsers
from analytics.web.pages import NavItem, Page
from tests.analytics.web.conftest import csrf_token
from tests.analytics.web.seed import DEPLOY_MODEL, PASSWORDS, A

URL_ARGS = {"store_id": A, "deployment_id": DEPLOY_MODEL, "filename": "hub.css", "customer_id": "cust-1"}


def get_urls(app: Flask) -> list[tuple[str, str]]:
    """(endpoint, URL) of every GET route, with sample arguments filled in."""
    out = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" in rule.methods:
                out.append((rule.endpoint, url_for(rule.endpoint, **{a: URL_ARGS[a] for a in rule.arguments})))
    return out


def test_every_route_needs_a_login(app: Flask) -> None:
    client = app.test_client()
    urls = get_urls(app)
    assert len(urls) >= 15
    public = {"static", "i18n.static", "auth.login_page", "auth.api_me"}  # i18n.static: the translations' script
    for endpoint, url in urls:
        if endpoint in public:
            continue
        resp = client.get(url)
        if url.startswith("/api/"):
            assert resp.status_code == 401, (url, resp.status_code)
            assert resp.get_json()["error"] == "log in first"
        else:
            assert resp.status_code == 302 and "/login?next=" in resp.headers["Location"], (url, resp.status_code)
    assert client.get("/api/me").status_code == 401
    # unsafe routes too (pages added later included): with a valid CSRF token but no login,
    # nothing but the login and logout answers
    token = csrf_token(client)
    with app.test_request_context():
        from flask import url_for

        unsafe = [(r.endpoint, url_for(r.endpoint, **{a: URL_ARGS.get(a, "x") for a in r.arguments}), m)
                  for r in app.url_map.iter_rules() for m in ("POST", "PUT", "PATCH", "DELETE") if m in r.methods]
    for endpoint, url, method in unsafe:
        if endpoint.startswith("auth."):
            continue
        resp = client.open(url, method=method, json={}, headers={"X-CSRFToken": token})
        assert resp.status_code in (401, 302), (method, url, resp.status_code)


def test_a_route_without_a_role_guard_stops_the_app(hub_engine) -> None:
    from flask import Blueprint

    bp = Blueprint("careless", __name__)

    @bp.get("/careless")
    def careless() -> str:
        return "anyone"

    with pytest.raises(RuntimeError, match=r"careless\.careless"):
        create_app(hub_engine, secret_key="x", extra_pages=[Page(bp)])


def test_an_added_page_gets_nav_and_guard(hub_engine, clock) -> None:
    from flask import Blueprint

    from analytics.web.security import require

    bp = Blueprint("trend", __name__)

    @bp.get("/trend")
    @require("owner")
    def index() -> str:
        return "the trend"

    @bp.get("/stores/<store_id>/trend")
    @require("viewer")
    def per_store(store_id: str) -> str:
        return store_id

    app = create_app(hub_engine, secret_key="x", clock=lambda: clock["now"], testing=True, extra_pages=[
        Page(bp, nav=(NavItem("Trend", "trend.index", "owner", order=30),
                      NavItem("Store trend", "trend.per_store", "viewer", per_store=True)))])
    client = app.test_client()
    token = csrf_token(client)
    client.post("/api/login", json={"user_id": "val", "password": PASSWORDS["val"]}, headers={"X-CSRFToken": token})
    home = client.get("/").get_data(as_text=True)
    assert 'href="/trend"' not in home  # a viewer is below the owner role
    assert client.get("/trend").status_code == 403
    store = client.get(f"/stores/{A}").get_data(as_text=True)
    assert f'href="/stores/{A}/trend">Store trend</a>' in store
    client.post("/api/login", json={"user_id": "ann", "password": PASSWORDS["ann"]}, headers={"X-CSRFToken": token})
    assert 'href="/trend"' in client.get("/").get_data(as_text=True)
    assert client.get("/trend").get_data(as_text=True) == "the trend"


def test_roles(login_as) -> None:
    owner = login_as("ann")
    for url in ("/fleet", f"/fleet/deployments/{DEPLOY_MODEL}"):
        resp = owner.get(url)
        assert resp.status_code == 403 and "operator role" in resp.get_data(as_text=True)
    for url in ("/api/fleet", "/api/fleet/devices", "/api/fleet/deployments?format=csv"):
        resp = owner.get(url)
        assert resp.status_code == 403 and resp.get_json()["error"] == "this needs the operator role"
    assert 'href="/fleet"' not in owner.get("/").get_data(as_text=True)
    operator = login_as("op")
    assert operator.get("/fleet").status_code == 200
    assert 'href="/fleet"' in operator.get("/").get_data(as_text=True)
    assert operator.get("/api/me").get_json()["user"] == {"id": "op", "name": "Olga Operator", "role": "operator",
                                                          "all_stores": True, "stores": [], "language": None}


def test_csrf_token_is_required(app: Flask) -> None:
    client = app.test_client()
    resp = client.post("/login", data={"user_id": "op", "password": PASSWORDS["op"]})
    assert resp.status_code == 400 and "security token" in resp.get_data(as_text=True)
    resp = client.post("/api/login", json={"user_id": "op", "password": PASSWORDS["op"]})
    assert resp.status_code == 400 and "security token" in resp.get_json()["error"]
    token = csrf_token(client)
    assert client.post("/api/login", json={"user_id": "op", "password": PASSWORDS["op"]},
                       headers={"X-CSRFToken": token}).status_code == 200
    assert client.post("/logout").status_code == 400  # logging someone out needs the token too
    assert client.get("/api/me").status_code == 200
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/api/me").status_code == 401


def test_form_login_redirects_only_inside_the_site(app: Flask) -> None:
    client = app.test_client()
    token = csrf_token(client)
    bad = client.post("/login", data={"user_id": "op", "password": "wrong-password", "csrf_token": token})
    assert bad.status_code == 401 and "unknown user or wrong password" in bad.get_data(as_text=True)
    resp = client.post("/login", data={"user_id": "op", "password": PASSWORDS["op"], "csrf_token": token,
                                       "next": "//evil.example/x"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": token})
    token = csrf_token(client)
    resp = client.post("/login", data={"user_id": "OP", "password": PASSWORDS["op"], "csrf_token": token,
                                       "next": "/fleet"})
    assert resp.headers["Location"] == "/fleet"


def test_repeated_failures_slow_the_client_then_the_right_password_works(app: Flask, clock: dict) -> None:
    client = app.test_client()
    token = csrf_token(client)

    def attempt(password: str):
        return client.post("/api/login", json={"user_id": "ann", "password": password},
                           headers={"X-CSRFToken": token})

    for _ in range(4):
        assert attempt("not-the-password").get_json()["error"] == "unknown user or wrong password"
    resp = attempt("not-the-password")
    assert resp.status_code == 401 and "too many failed attempts" in resp.get_json()["error"]
    resp = attempt(PASSWORDS["ann"])  # even the right password waits, for seconds, not minutes
    assert resp.status_code == 401 and "try again in 2 seconds" in resp.get_json()["error"]
    clock["now"] += timedelta(seconds=3)
    assert attempt(PASSWORDS["ann"]).status_code == 200
    user = app.extensions["tillsight.hub"].users.find("ann")
    assert user.failed_attempts == 0 and user.locked_until is None


def test_passwords_are_stored_as_scrypt_hashes(hub_engine) -> None:
    with hub_engine.connect() as conn:
        hashes = {row[0]: row[1] for row in conn.execute(select(hub_users.c.user_id, hub_users.c.password_hash))}
    assert hashes["op"].startswith("scrypt:") and PASSWORDS["op"] not in hashes["op"]
    users = HubUsers(hub_engine)
    with pytest.raises(AccountError, match="at least 10 characters"):
        users.save("new", "New", "owner", password="short", stores=[A])
    with pytest.raises(AccountError, match="role must be one of"):
        users.save("new", "New", "admin", password="long-enough-pass", stores=[A])
    with pytest.raises(AccountError, match="needs a password"):
        users.save("new", "New", "owner", stores=[A])
    with pytest.raises(AccountError, match="store id"):
        users.save("new", "New", "owner", password="long-enough-pass", stores=["S 1"])
    assert users.find("new") is None


def test_a_changed_account_ends_its_sessions(app: Flask, login_as) -> None:
    owner = login_as("ann")
    assert owner.get("/api/me").status_code == 200
    users = app.extensions["tillsight.hub"].users
    users.save("ann", "Ann Owner", "owner", password="a-brand-new-pass")  # a new password
    assert owner.get("/api/me").status_code == 401
    assert owner.get("/api/stores").status_code == 401
    viewer = login_as("val")
    users.save("val", "Val Viewer", "viewer", active=False)
    assert viewer.get("/").status_code == 302
    with pytest.raises(AssertionError):
        login_as("val")  # a deactivated user cannot log in


def test_pages_follow_the_content_policy(login_as) -> None:
    op = login_as("op")
    for url in ("/", "/fleet", f"/stores/{A}", f"/fleet/deployments/{DEPLOY_MODEL}", "/login"):
        resp = op.get(url)
        assert resp.status_code == 200, url
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
        html = resp.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))", html), f"inline script on {url}"
        assert not re.search(r"\sstyle=", html) and "<style" not in html, f"inline style on {url}"
        assert not re.search(r"""(src|href)=["']https?://""", html), f"external resource on {url}"
        assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["Cache-Control"] == "no-store"
    chart = op.get("/static/vendor/chart.umd.min.js")
    assert chart.status_code == 200 and len(chart.data) > 100_000


def test_session_cookie_is_hardened(hub_engine) -> None:
    app = create_app(hub_engine, secret_key="x", secure_cookies=True, session_hours=2)
    client = app.test_client()
    html = client.get("/login", base_url="https://hub.example").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    resp = client.post("/api/login", json={"user_id": "op", "password": PASSWORDS["op"]},
                       headers={"X-CSRFToken": token, "Referer": "https://hub.example/login"},
                       base_url="https://hub.example")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Strict" in cookie
    assert app.permanent_session_lifetime == timedelta(hours=2)


def test_the_session_key_is_kept_in_the_database_when_none_is_configured(hub_engine) -> None:
    first = create_app(hub_engine)
    second = create_app(hub_engine)
    assert first.secret_key == second.secret_key and len(first.secret_key) == 64
