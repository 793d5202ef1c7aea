"""The appliance's login guard: ``runtime.web_guard.LoginGuard`` bound to the device's staff accounts.

* The signed session cookie carries only the user id and a session stamp of the user's role, PIN
  hash and password hash; the user is read from the store on every request, so a forged or stale
  role is never trusted, a deactivated user is out at once, and a role, PIN or password change ends
  every session made with the old one.
* ``@require("cashier" | "supervisor" | "owner")`` guards a view: pages redirect to the login
  screen, ``/api/`` answers 401/403 JSON.  ``create_app`` refuses a route that has no guard and is
  not in ``PUBLIC_ENDPOINTS``.
* CSRF: Flask-WTF's ``CSRFProtect`` on every unsafe method; pages carry the token in a
  ``<meta name="csrf-token">`` and scripts send it as ``X-CSRFToken``.
"""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import Forbidden

from edge.store.records import ROLES, User
from edge.web.context import ctx
from i18n import gettext
from runtime.web_guard import LoginGuard, RoleRanking, session_stamp, wants_json

# endpoints that answer without a login: the login itself, the home redirect and static files
PUBLIC_ENDPOINTS = frozenset({"static", "home", "auth.login_page", "auth.login_submit", "auth.logout_submit",
                              "auth.api_login", "auth.api_logout", "auth.api_me", "i18n.static"})


def user_stamp(user: User) -> str:
    """The session stamp of ``user`` as the store has it now (role, PIN hash, password hash, and the
    session epoch once they have logged out: logout ends every session made before it)."""
    users = ctx().store.users
    pin_hash, password_hash = users.hashes(user.id)
    epoch = users.session_epoch(user.id)
    return session_stamp(user.role, pin_hash, password_hash, *([str(epoch)] if epoch else []))


def end_sessions(user: User) -> None:
    ctx().store.users.end_sessions(user.id)  # logout: the session epoch rises, old cookies are refused


def find_user(user_id: str) -> User | None:
    return ctx().store.users.find(user_id)  # the request's store, read on every request


guard: LoginGuard[User] = LoginGuard(RoleRanking(ROLES), find=find_user, user_id=lambda user: user.id,
                                     stamp=user_stamp, public_endpoints=PUBLIC_ENDPOINTS, g_name="user",
                                     end_sessions=end_sessions)
current_user = guard.current_user
login = guard.login
logout = guard.logout
require = guard.require

__all__ = ["PUBLIC_ENDPOINTS", "current_user", "guard", "json_body", "login", "logout", "me", "require", "wants_json"]


def json_body() -> dict[str, Any]:
    """The request's JSON object (or form fields); a malformed body is a 400 with a message."""
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            from werkzeug.exceptions import BadRequest
            raise BadRequest(gettext("the body must be a JSON object"))
        return data
    return request.form.to_dict()


def me() -> User:
    """The logged-in user, for a route behind ``@require`` (which answers first when nobody is)."""
    user = current_user()
    if user is None:  # pragma: no cover - @require answers first
        raise Forbidden(gettext("log in first"))
    return user
