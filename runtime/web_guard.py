"""The web login guard both web apps use: roles, sessions, the route check, the response headers.

* :class:`RoleRanking`: a side's roles from lowest to highest (device: cashier < supervisor <
  owner; hub: viewer < owner < operator); a role "at least" another ranks as high or higher.
* :class:`LoginGuard`: the signed session cookie carries only the user id and a *session stamp*
  (:func:`session_stamp` over the role and the credential hashes).  The user is read from the
  side's store on every request, and a stamp that no longer matches (the role, the PIN or the
  password changed) or an inactive user ends the session at once.  ``require(role)`` guards a
  view: pages redirect to the login page, ``/api/`` answers 401 / 403 JSON.
  Logout ends the session on the server too: ``end_sessions(user)`` raises the user's *session
  epoch*, which the side folds into the stamp, so a copied cookie is refused after logout (and
  every other session of that user ends with it).
  ``check_routes(app)`` refuses an app with a route that is neither guarded nor public.
* :func:`install_security_headers`: one strict policy for both apps (no CDN, nothing framed,
  nothing sniffed, no plug-ins, no caching of pages or JSON); a response to an HTTPS request marks
  every cookie ``Secure`` and sends HSTS (``runtime.tls`` decides when a web app serves HTTPS).

The side binds the guard to its users (``edge/web/security.py``, ``analytics/web/security.py``).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

from flask import Flask, Response, abort, g, jsonify, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

F = TypeVar("F", bound=Callable[..., Any])


class GuardedUser(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def active(self) -> bool: ...


U = TypeVar("U", bound=GuardedUser)


class RoleRanking(Mapping[str, int]):
    """Roles in rank order (lowest first): ``ranking["owner"]`` is its rank, 1 for the lowest."""

    def __init__(self, roles: Sequence[str]) -> None:
        if len(set(roles)) != len(roles) or not roles:
            raise ValueError(f"roles must be distinct and non-empty: {roles!r}")
        self.roles = tuple(roles)
        self._rank = {role: rank for rank, role in enumerate(self.roles, start=1)}

    def __getitem__(self, role: str) -> int:
        return self._rank[role]

    def __iter__(self) -> Iterator[str]:
        return iter(self.roles)

    def __len__(self) -> int:
        return len(self.roles)

    def at_least(self, have: str, need: str) -> bool:
        """``have`` ranks as high as ``need`` or higher (an unknown ``have`` ranks below everything)."""
        return self._rank.get(have, 0) >= self[need]

    def check(self, role: str) -> str:
        if role not in self._rank:
            raise ValueError(f"unknown role {role!r} (one of {', '.join(self.roles)})")
        return role


def session_stamp(role: str, *credentials: str | None) -> str:
    """A short digest of what a session was granted under: the role and every credential hash.
    A session whose stamp no longer matches the user's ends (role change, new PIN or password)."""
    text = "\0".join([role, *(c or "" for c in credentials)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


class LoginGuard(Generic[U]):
    """Sessions and role checks for one web app, over that side's users.

    ``find(user_id)`` reads a user (None if there is none), ``user_id(user)`` names it and
    ``stamp(user)`` gives its current :func:`session_stamp` (including the user's session epoch);
    ``end_sessions(user)`` raises that epoch at logout.  ``on_change`` runs after a login or a
    logout (to drop per-request caches)."""

    def __init__(self, roles: RoleRanking, *, find: Callable[[str], U | None], user_id: Callable[[U], str],
                 stamp: Callable[[U], str], public_endpoints: Iterable[str], g_name: str = "user",
                 login_endpoint: str = "auth.login_page", on_change: Callable[[], None] | None = None,
                 end_sessions: Callable[[U], None] | None = None) -> None:
        self.roles = roles
        self.public_endpoints = frozenset(public_endpoints)
        self._find = find
        self._user_id = user_id
        self._stamp = stamp
        self._g_name = g_name
        self._login_endpoint = login_endpoint
        self._on_change = on_change
        self._end_sessions = end_sessions

    # -- the session -----------------------------------------------------------------------------
    def current_user(self) -> U | None:
        if self._g_name in g:
            cached: U | None = g.get(self._g_name)
            return cached
        user = None
        uid = session.get("uid")
        if uid:
            found = self._find(uid)
            if found is not None and found.active and session.get("stamp") == self._stamp(found):
                user = found
            else:
                session.clear()
        setattr(g, self._g_name, user)
        return user

    def login(self, user: U) -> None:
        token = session.get("csrf_token")  # the page's CSRF token stays valid across the login
        session.clear()
        if token:
            session["csrf_token"] = token
        session.permanent = True
        session["uid"] = self._user_id(user)
        session["stamp"] = self._stamp(user)
        setattr(g, self._g_name, user)
        if self._on_change is not None:
            self._on_change()

    def logout(self) -> None:
        """End the session here and on the server: the same cookie, replayed, is refused."""
        user = self.current_user()
        if user is not None and self._end_sessions is not None:
            self._end_sessions(user)
        session.clear()
        setattr(g, self._g_name, None)
        if self._on_change is not None:
            self._on_change()

    def at_least(self, user: GuardedUser, role: str) -> bool:
        return self.roles.at_least(user.role, role)

    # -- the routes ------------------------------------------------------------------------------
    def require(self, role: str) -> Callable[[F], F]:
        """Guard a view: the user must be logged in and hold ``role`` or a higher one."""
        self.roles.check(role)

        def decorator(view: F) -> F:
            @functools.wraps(view)
            def wrapped(*args: Any, **kwargs: Any) -> Any:
                user = self.current_user()
                if user is None:
                    if wants_json():
                        return jsonify(error="log in first"), 401
                    return redirect(url_for(self._login_endpoint, next=request.full_path.rstrip("?")))
                if not self.roles.at_least(user.role, role):
                    abort(403, description=f"this needs the {role} role")
                return view(*args, **kwargs)

            wrapped.required_role = role  # type: ignore[attr-defined]
            return wrapped  # type: ignore[return-value]

        return decorator

    def unguarded_endpoints(self, app: Flask) -> list[str]:
        """Endpoints that are neither public nor wrapped by :meth:`require` (a programming error)."""
        return sorted(endpoint for endpoint, view in app.view_functions.items()
                      if endpoint not in self.public_endpoints and getattr(view, "required_role", None) is None)

    def check_routes(self, app: Flask, where: str) -> None:
        """Refuse to build an app with an unguarded route; ``where`` names the guard to use."""
        missing = self.unguarded_endpoints(app)
        if missing:
            raise RuntimeError(f"web routes without a role guard ({where}): {missing}")


# -- response headers ----------------------------------------------------------------------------
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
NO_STORE_TYPES = ("text/html", "application/json")


HSTS = "max-age=31536000"  # a browser that reached the app over HTTPS keeps using HTTPS for it


def secure_cookies(resp: Response) -> None:
    """Mark every cookie of the response ``Secure`` (a page that came over HTTPS never hands out a
    cookie the browser would send over plain HTTP)."""
    cookies = resp.headers.getlist("Set-Cookie")
    if not cookies:
        return
    resp.headers.remove("Set-Cookie")
    for cookie in cookies:
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        resp.headers.add("Set-Cookie", cookie if "secure" in attributes else f"{cookie}; Secure")


def security_headers(resp: Response) -> Response:
    """Set the headers every response carries (a view may set its own first); over HTTPS, every
    cookie is ``Secure`` and the browser is told to stay on HTTPS."""
    for name, value in SECURITY_HEADERS.items():
        resp.headers.setdefault(name, value)
    if resp.mimetype in NO_STORE_TYPES:
        resp.headers.setdefault("Cache-Control", "no-store")
    if request and request.is_secure:
        secure_cookies(resp)
        resp.headers.setdefault("Strict-Transport-Security", HSTS)
    return resp


class HttpsAwareSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, whose cookie is ``Secure`` whenever the request came over
    HTTPS (Flask writes the session cookie after every ``after_request`` function has run)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or (request and request.is_secure))


def install_security_headers(app: Flask) -> None:
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = HttpsAwareSessions()
    app.after_request(security_headers)
