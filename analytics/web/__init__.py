"""The hub web app: Flask application factory; one blueprint per page (``pages.PAGES``).

| blueprint | who | what |
|---|---|---|
| ``auth`` | everyone | login (user id + password), logout, ``/api/login``, ``/api/me`` |
| ``home`` | viewer+ | the stores the user may see: today's and the last 7 days' sales, devices online |
| ``stores`` | viewer+ | one store: devices, daily sales, recent sales, alerts (dead letters: operators) |
| ``fleet`` | operator | every device (online, versions, backlog, update progress) and every deployment |
| ``dead_letters`` | operator | the messages the ingest could not store: reason, time, store and device |
| ``trend_page``, ``customers_page``, ``products_page`` | viewer+ | a store's analytics: forecasts, heat map, |
|  |  | segments, churn, reorder |
| ``pricing_page`` | viewer+ (owner+ decides) | price suggestions, guard rails, approvals, the signed price push |
| ``insights`` | viewer+ | narratives (fact-checked), personas, alert explanations, product descriptions |
| ``ask`` | viewer+ | questions about a store, answered by fixed store-scoped tools |
| ``credit`` | owner+ | credit customers: risk, collections, messages, reminders sent (``credit_reminders``) |
| ``ai_usage`` | owner+ | AI credits, caps and the ledger (operators top up) |

Times are shown in the store's own time (the row's store, else the page's; UTC only where no store
is known: fleet-wide deployments); the APIs and exports keep ISO-8601 UTC.

Every route requires a login and a role (``security.require``; ``create_app`` refuses a route
without one), every query is limited to the user's stores (``tenancy``), every unsafe request
carries a CSRF token, and nothing is loaded from outside the hub (strict CSP, no CDN).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import pass_context
from sqlalchemy import Engine
from werkzeug.exceptions import HTTPException

from analytics.web import formatting
from analytics.web.accounts import HubUsers, LoginPolicy, utc_now
from analytics.web.context import HubWebContext
from analytics.web.datatable import render_cell, with_format
from analytics.web.pages import PAGES, NavItem, Page, load_pages
from analytics.web.queries.stores import store_zones
from analytics.web.security import current_user, guard, wants_json
from analytics.web.tenancy import current_scope
from runtime.web_guard import install_security_headers

if TYPE_CHECKING:
    from analytics.llm import AIService

log = logging.getLogger(__name__)


def create_app(engine: Engine, secret_key: str | None = None, secure_cookies: bool = False,
               session_hours: float = 12.0, policy: LoginPolicy | None = None,
               clock: Callable[[], datetime] | None = None, extra_pages: Iterable[Page] = (),
               testing: bool = False, ai: AIService | None = None) -> Flask:
    """Build the app over a migrated hub database.  ``secret_key=None`` uses the key kept in the
    database (``session_key``)."""
    if secret_key is None:
        from analytics.web.session_key import stored_session_key

        secret_key = stored_session_key(engine)
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(
        SECRET_KEY=secret_key, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=secure_cookies, SESSION_COOKIE_NAME="tillsight_hub_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=session_hours), WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=secure_cookies, MAX_CONTENT_LENGTH=256 * 1024, TESTING=testing)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    context = HubWebContext(engine=engine, users=HubUsers(engine, policy), clock=clock or utc_now, ai=ai)
    app.extensions["tillsight.hub"] = context
    CSRFProtect(app)

    pages = [*load_pages(PAGES), *extra_pages]
    for page in pages:
        app.register_blueprint(page.blueprint)
    nav: list[NavItem] = sorted((item for page in pages for item in page.nav), key=lambda i: i.order)
    app.extensions["tillsight.hub.nav"] = nav
    guard.check_routes(app, "analytics.web.security.require")

    @pass_context
    def _when(ctx: Any, value: str | None, zone: str | None = None) -> str:
        """``{{ t|when }}``: in the page's store time (``store_zone``), ``{{ t|when(zone) }}`` in another's."""
        return formatting.when(value, zone or ctx.get("store_zone"))

    # languages (issue 28): each request in the user's language, else the store's (analytics.web.language);
    # installed before the hub's own filters, whose money/when follow the same language
    from analytics.web.language import request_locale
    from i18n.web import install as install_languages

    install_languages(app, request_locale)
    app.jinja_env.globals.update(cell=render_cell, with_format=with_format)
    app.jinja_env.filters.update(money=formatting.money, when=_when, pct=formatting.pct,
                                 size=formatting.size)

    @app.context_processor
    def _inject() -> dict:
        user = current_user()
        visible = [i for i in nav if user is not None and user.at_least(i.role)]
        now = context.clock()
        # store time everywhere a person reads a time: the zones of the user's stores, and the one of
        # the store the page is about (its URL's store_id)
        zones: dict[str, str] = {}
        if user is not None:
            with context.connect() as conn:
                zones = store_zones(conn, current_scope())
        store_id = (request.view_args or {}).get("store_id") or request.args.get("store")
        return {"current_user": user, "nav_items": [i for i in visible if not i.per_store],
                "store_tabs": [i for i in visible if i.per_store], "now": now,
                "ago": lambda value: formatting.ago(value, now),
                "store_zones": zones, "store_zone": zones.get(store_id) if isinstance(store_id, str) else None}

    def _error(status: int, message: str):
        if wants_json():
            return jsonify(error=message), status
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return _error(400, f"security token missing or expired ({exc.description}); reload the page")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return _error(exc.code or 500, exc.description or exc.name)

    install_security_headers(app)
    return app


__all__ = ["NavItem", "Page", "create_app"]
