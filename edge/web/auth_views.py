"""Login and logout: staff tiles with a PIN pad for cashiers and supervisors, a password for owners.

Failures are throttled per person and per client address (``edge.auth.service``); logout ends the
session on the server too (``runtime.web_guard``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from edge.auth.service import REFUSED, AuthError
from edge.store.records import User
from edge.web.context import ctx
from edge.web.forms import get_text
from edge.web.security import current_user, json_body, login, logout
from i18n import gettext as _

auth_blueprint = Blueprint("auth", __name__)


def home_for(role: str) -> str:
    return url_for("dashboard.index") if role == "owner" else url_for("cashier.index")


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@auth_blueprint.get("/login")
def login_page() -> str:
    staff = ctx().store.users.list(include_inactive=False)
    return render_template("login.html", staff=staff, next=_safe_next(request.args.get("next")) or "")


def client_address() -> str:
    """Who is trying: the caller's address (the till's own screen is loopback)."""
    return request.remote_addr or "unknown"


def _authenticate(data: dict[str, Any]) -> User:
    user_id = get_text(data, "user_id", 32)
    pin = data.get("pin") or ""
    password = data.get("password") or ""
    if not isinstance(pin, str) or not isinstance(password, str):
        raise AuthError(_(REFUSED))
    if password:
        return ctx().auth.login_password(user_id, password, client=client_address())
    return ctx().auth.login_pin(user_id, pin, client=client_address())


@auth_blueprint.post("/login")
def login_submit() -> ResponseReturnValue:
    data = request.form.to_dict()
    try:
        user = _authenticate(data)
    except AuthError as exc:
        staff = ctx().store.users.list(include_inactive=False)
        return render_template("login.html", staff=staff, error=str(exc), selected=data.get("user_id", ""),
                               next=_safe_next(data.get("next")) or ""), 401
    login(user)
    return redirect(_safe_next(data.get("next")) or home_for(user.role))


@auth_blueprint.post("/logout")
def logout_submit() -> ResponseReturnValue:
    logout()
    return redirect(url_for("auth.login_page"))


@auth_blueprint.post("/api/login")
def api_login() -> Response | tuple[Response, int]:
    try:
        user = _authenticate(json_body())
    except AuthError as exc:
        return jsonify(error=str(exc)), 401
    login(user)
    return jsonify(user={"id": user.id, "name": user.name, "role": user.role})


@auth_blueprint.post("/api/logout")
def api_logout() -> Response:
    logout()
    return jsonify(ok=True)


@auth_blueprint.get("/api/me")
def api_me() -> Response | tuple[Response, int]:
    user = current_user()
    if user is None:
        return jsonify(error=_("log in first")), 401
    return jsonify(user={"id": user.id, "name": user.name, "role": user.role})
