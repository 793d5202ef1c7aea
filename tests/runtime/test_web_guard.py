"""The web login guard both web apps use (``runtime.web_guard``), on a small Flask app of its own:
sessions end when the stamp changes, roles rank, unguarded routes are refused, every response
carries the strict headers.  The apps that bind it are tested in tests/edge/web and tests/analytics/web."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from flask import Blueprint, Flask, jsonify
from flask.testing import FlaskClient

from runtime.web_guard import (
    CSP,
    LoginGuard,
    RoleRanking,
    install_security_headers,
    session_stamp,
)

ROLES = RoleRanking(("clerk", "boss"))


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    active: bool = True
    secret_hash: str = "h1"


def make_app(people: dict[str, Person]) -> tuple[Flask, LoginGuard[Person]]:
    guard: LoginGuard[Person] = LoginGuard(
        ROLES, find=people.get, user_id=lambda p: p.name, stamp=lambda p: session_stamp(p.role, p.secret_hash),
        public_endpoints={"login", "login_page", "static"}, login_endpoint="login_page")
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", TESTING=True)

    @app.get("/login")
    def login_page() -> str:
        return "who are you?"

    @app.post("/login/<name>")
    def login(name: str) -> str:
        guard.login(people[name])
        return "in"

    @app.get("/api/books")
    @guard.require("clerk")
    def books() -> object:
        user = guard.current_user()
        return jsonify(user=user.name if user else None)

    @app.get("/payroll")
    @guard.require("boss")
    def payroll() -> str:
        return "payroll"

    install_security_headers(app)
    guard.check_routes(app, "test guard")
    return app, guard


def logged_in(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    assert client.post(f"/login/{name}").status_code == 200
    return client


def test_roles_rank_from_lowest_to_highest() -> None:
    assert ROLES.at_least("boss", "clerk") and ROLES.at_least("clerk", "clerk")
    assert not ROLES.at_least("clerk", "boss") and not ROLES.at_least("intruder", "clerk")
    assert dict(ROLES) == {"clerk": 1, "boss": 2}
    with pytest.raises(ValueError, match="unknown role"):
        ROLES.check("king")
    with pytest.raises(ValueError):
        RoleRanking(("a", "a"))


def test_the_stamp_changes_with_the_role_and_every_credential() -> None:
    base = session_stamp("cashier", "pin-hash", None)
    assert base == session_stamp("cashier", "pin-hash", None)
    assert len({base, session_stamp("owner", "pin-hash", None), session_stamp("cashier", "new-pin-hash", None),
                session_stamp("cashier", "pin-hash", "password-hash")}) == 4


def test_a_session_ends_when_its_stamp_no_longer_matches() -> None:
    people = {"ana": Person("ana", "clerk"), "rosa": Person("rosa", "boss")}
    app, _ = make_app(people)
    ana, rosa = logged_in(app, "ana"), logged_in(app, "rosa")
    assert ana.get("/api/books").get_json() == {"user": "ana"}
    people["ana"] = replace(people["ana"], secret_hash="h2")  # a new PIN
    assert ana.get("/api/books").status_code == 401
    assert ana.get("/api/books").status_code == 401  # the session was cleared, not just refused once
    assert rosa.get("/payroll").status_code == 200  # others' sessions are untouched
    people["rosa"] = replace(people["rosa"], active=False)
    assert rosa.get("/payroll").status_code == 302  # a page: to the login


def test_pages_redirect_and_api_answers_json() -> None:
    app, _ = make_app({"ana": Person("ana", "clerk")})
    anon = app.test_client()
    assert anon.get("/api/books").get_json() == {"error": "log in first"}
    page = anon.get("/payroll")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    ana = logged_in(app, "ana")
    assert ana.get("/payroll").status_code == 403


def test_an_unguarded_route_is_refused_at_start() -> None:
    app, guard = make_app({})
    bp = Blueprint("careless", __name__)

    @bp.get("/open")
    def open_door() -> str:
        return "anyone"

    app.register_blueprint(bp)
    assert guard.unguarded_endpoints(app) == ["careless.open_door"]
    with pytest.raises(RuntimeError, match=r"careless\.open_door"):
        guard.check_routes(app, "test guard")


def test_every_response_carries_the_strict_headers() -> None:
    app, _ = make_app({})
    client = app.test_client()
    for resp in (client.get("/api/books"), client.get("/nowhere"), client.get("/payroll")):
        assert resp.headers["Content-Security-Policy"] == CSP
        assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "same-origin"
    assert client.get("/api/books").headers["Cache-Control"] == "no-store"
    # the stricter of the two apps' old policies: no plug-ins, no blob: images, nothing inline
    assert "object-src 'none'" in CSP and "blob:" not in CSP and "unsafe-inline" not in CSP
