"""The hub web app's login guard: ``runtime.web_guard.LoginGuard`` bound to the hub's users.

* The signed session cookie carries only the user id and a session stamp of the user's role and
  password hash; the user (role, stores, active) is read from the database on every request, so a
  role change, a password change or a deactivation ends existing sessions at once.
* ``@require("viewer" | "owner" | "operator")`` guards a view: pages redirect to the login page,
  ``/api/`` answers 401 / 403 JSON.  ``create_app`` refuses to start if any route lacks a guard
  (except the ones listed in ``PUBLIC_ENDPOINTS``).
* CSRF: Flask-WTF's ``CSRFProtect`` on every unsafe method; pages carry the token in
  ``<meta name="csrf-token">`` and forms in a hidden ``csrf_token`` field.
"""

from __future__ import annotations

from flask import g

from analytics.web.accounts import ROLES, HubUser
from analytics.web.context import hub
from runtime.web_guard import LoginGuard, RoleRanking, wants_json

# endpoints that answer without a login (the login itself and static files)
PUBLIC_ENDPOINTS = frozenset({"static", "auth.login_page", "auth.login_submit", "auth.api_login", "auth.logout_submit",
                              "auth.api_logout", "auth.api_me", "i18n.static"})


def _forget_scope() -> None:
    g.pop("hub_scope", None)  # the stores the previous user could see (``tenancy``)


def _end_sessions(user: HubUser) -> None:
    hub().users.end_sessions(user.user_id)  # logout: the session epoch rises, old cookies are refused


def find_user(user_id: str) -> HubUser | None:
    return hub().users.find(user_id)  # the request's app, read on every request


guard: LoginGuard[HubUser] = LoginGuard(RoleRanking(ROLES), find=find_user,
                                        user_id=lambda user: user.user_id, stamp=lambda user: user.stamp,
                                        public_endpoints=PUBLIC_ENDPOINTS, g_name="hub_user",
                                        on_change=_forget_scope, end_sessions=_end_sessions)
current_user = guard.current_user
login = guard.login
logout = guard.logout
require = guard.require

__all__ = ["PUBLIC_ENDPOINTS", "current_user", "guard", "login", "logout", "require", "wants_json"]
