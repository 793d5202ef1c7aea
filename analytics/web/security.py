"""Login sessions and roles for the hub web app.

* The signed session cookie carries only the user id and a stamp of the user's role and password
  hash; the user (role, stores, active) is read from the database on every request, so a role
  change, a password change or a deactivation ends existing sessions at once.
* ``@require("viewer" | "owner" | "operator")`` guards a view: pages redirect to the login page,
  ``/api/`` answers 401 / 403 JSON.  ``create_app`` refuses to start if any route lacks a guard
  (except the ones listed in ``PUBLIC_ENDPOINTS``).
* CSRF: Flask-WTF's ``CSRFProtect`` on every unsafe method; pages carry the token in
  ``<meta name="csrf-token">`` and forms in a hidden ``csrf_token`` field.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, g, jsonify, redirect, request, session, url_for

from analytics.web.accounts import ROLE_RANK, HubUser
from analytics.web.context import hub

F = TypeVar("F", bound=Callable[..., Any])

# endpoints that answer without a login (the login itself and static files)
PUBLIC_ENDPOINTS = frozenset({"static", "auth.login_page", "auth.login_submit", "auth.api_login", "auth.logout_submit",
                              "auth.api_logout", "auth.api_me"})


def current_user() -> HubUser | None:
    if "hub_user" in g:
        return g.hub_user
    user = None
    uid = session.get("uid")
    if uid:
        found = hub().users.find(uid)
        if found is not None and found.active and session.get("stamp") == found.stamp:
            user = found
        else:
            session.clear()
    g.hub_user = user
    return user


def login(user: HubUser) -> None:
    token = session.get("csrf_token")  # the page's CSRF token stays valid across the login
    session.clear()
    if token:
        session["csrf_token"] = token
    session.permanent = True
    session["uid"] = user.user_id
    session["stamp"] = user.stamp
    g.hub_user = user
    g.pop("hub_scope", None)


def logout() -> None:
    session.clear()
    g.hub_user = None
    g.pop("hub_scope", None)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def require(role: str) -> Callable[[F], F]:
    """Guard a view: the user must be logged in and hold ``role`` or a higher one."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if wants_json():
                    return jsonify(error="log in first"), 401
                return redirect(url_for("auth.login_page", next=request.full_path.rstrip("?")))
            if not user.at_least(role):
                abort(403, description=f"this needs the {role} role")
            return view(*args, **kwargs)

        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def unguarded_endpoints(app: Any) -> list[str]:
    """Endpoints that are neither public nor wrapped by :func:`require` (a programming error)."""
    out = []
    for endpoint, view in app.view_functions.items():
        if endpoint in PUBLIC_ENDPOINTS:
            continue
        if getattr(view, "required_role", None) is None:
            out.append(endpoint)
    return sorted(out)
