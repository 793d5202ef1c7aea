"""Login sessions, roles on every route, and the rules every response follows.

* The signed session cookie carries only the user id and a login stamp; the role is read from the
  store on every request, so a forged or stale role is never trusted and a deactivated user is
  out at once.
* ``@require("cashier" | "supervisor" | "owner")`` guards a view: pages redirect to the login
  screen, ``/api/`` answers 401/403 JSON.
* CSRF: Flask-WTF's ``CSRFProtect`` on every unsafe method; pages carry the token in a
  ``<meta name="csrf-token">`` and scripts send it as ``X-CSRFToken``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, jsonify, redirect, request, session, url_for

from edge.store.records import ROLE_RANK, User
from edge.web.context import ctx

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> User | None:
    if "user" in g:
        return g.user
    user = None
    uid = session.get("uid")
    if uid:
        found = ctx().store.users.find(uid)
        if found is not None and found.active and session.get("stamp") == found.role:
            user = found
        else:
            session.clear()
    g.user = user
    return user


def login(user: User) -> None:
    token = session.get("csrf_token")  # the page's CSRF token stays valid across the login
    session.clear()
    if token:
        session["csrf_token"] = token
    session.permanent = True
    session["uid"] = user.id
    session["stamp"] = user.role  # a role change logs the user out
    g.user = user


def logout() -> None:
    session.clear()
    g.user = None


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def require(role: str) -> Callable[[F], F]:
    if role not in ROLE_RANK:
        raise ValueError(role)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if wants_json():
                    return jsonify(error="log in first"), 401
                return redirect(url_for("auth.login_page", next=request.full_path.rstrip("?")))
            if not user.at_least(role):
                if wants_json():
                    return jsonify(error=f"this needs the {role} role"), 403
                return ("<!doctype html><title>Not allowed</title><h1>Not allowed</h1>"
                        f"<p>This page needs the {role} role.</p><p><a href='/'>Back</a></p>", 403)
            return view(*args, **kwargs)

        wrapped.required_role = role  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def json_body() -> dict[str, Any]:
    """The request's JSON object (or form fields); a malformed body is a 400 with a message."""
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            from werkzeug.exceptions import BadRequest
            raise BadRequest("the body must be a JSON object")
        return data
    return request.form.to_dict()
