"""Login and logout (pages and JSON), and the account page where a user picks the language of their
pages (English, Spanish, French, or the store's).  Failed logins are throttled per user and client
address (``analytics.web.accounts``); logout ends the session on the server too."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest

from analytics.web.accounts import HubUser, LoginRefused
from analytics.web.context import hub, now
from analytics.web.pages import Page
from analytics.web.security import current_user, login, logout, require
from i18n import LANGUAGE_NAMES, current_language
from i18n import gettext as _
from i18n.web import language_choice

blueprint = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    if not target or not isinstance(target, str):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def client_address() -> str:
    return request.remote_addr or "unknown"


def user_json(user: HubUser) -> dict[str, object]:
    return {"id": user.user_id, "name": user.name, "role": user.role, "all_stores": user.all_stores,
            "stores": list(user.stores), "language": user.language}


@blueprint.get("/account")
@require("viewer")
def account_page() -> str:
    user = current_user()
    return render_template("account.html", user=user, saved=request.args.get("saved") == "1", error=None,
                           language_name=LANGUAGE_NAMES[current_language()])


@blueprint.post("/account")
@require("viewer")
def account_submit() -> ResponseReturnValue:
    """Save the user's language ("" follows the store's); the next page is shown in it."""
    user = current_user()
    assert user is not None  # require() saw to it
    try:
        hub().users.set_language(user.user_id, language_choice(request.form.get("language")), now=now())
    except ValueError as exc:
        return render_template("account.html", user=user, saved=False, error=str(exc),
                               language_name=LANGUAGE_NAMES[current_language()]), 400
    return redirect(url_for("auth.account_page", saved="1"))


@blueprint.post("/api/me/language")
@require("viewer")
def api_set_language() -> Response:
    """``{"language": "es" | "fr" | "en" | ""}``: the user's page language ("" = the store's)."""
    user = current_user()
    assert user is not None
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("language", ""), str):
        raise BadRequest(_("send a JSON object {language}"))
    try:
        hub().users.set_language(user.user_id, language_choice(body.get("language")), now=now())
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return jsonify(user=user_json(hub().users.find(user.user_id) or user))


@blueprint.get("/login")
def login_page() -> str:
    return render_template("login.html", next=_safe_next(request.args.get("next")) or "", user_id="")


@blueprint.post("/login")
def login_submit() -> ResponseReturnValue:
    data = request.form
    user_id = (data.get("user_id") or "").strip()[:64]
    try:
        user = hub().users.authenticate(user_id, data.get("password") or "", now=now(), client=client_address())
    except LoginRefused as exc:
        return render_template("login.html", error=str(exc), user_id=user_id,
                               next=_safe_next(data.get("next")) or ""), 401
    login(user)
    return redirect(_safe_next(data.get("next")) or url_for("home.index"))


@blueprint.post("/logout")
def logout_submit() -> ResponseReturnValue:
    logout()
    return redirect(url_for("auth.login_page"))


@blueprint.post("/api/login")
def api_login() -> Response | tuple[Response, int]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest(_("the body must be a JSON object with user_id and password"))
    user_id, password = body.get("user_id"), body.get("password")
    if not isinstance(user_id, str) or not isinstance(password, str):
        raise BadRequest(_("user_id and password must be text"))
    try:
        user = hub().users.authenticate(user_id[:64], password, now=now(), client=client_address())
    except LoginRefused as exc:
        return jsonify(error=str(exc)), 401
    login(user)
    return jsonify(user=user_json(user))


@blueprint.post("/api/logout")
def api_logout() -> Response:
    logout()
    return jsonify(ok=True)


@blueprint.get("/api/me")
def api_me() -> Response | tuple[Response, int]:
    user = current_user()
    if user is None:
        return jsonify(error="log in first"), 401
    return jsonify(user=user_json(user))


page = Page(blueprint)
