"""The appliance's web app: Flask application factory with one blueprint per screen.

| blueprint | who | what |
|---|---|---|
| ``auth`` | everyone | login (PIN or password), logout |
| ``live`` | cashier+ | live tray view, MJPEG stream, health |
| ``cashier`` | cashier+ | the till: basket, corrections, payment, receipt, shifts, refunds |
| ``dashboard`` | owner | today's sales, charts, alerts, stock, credit, device health, insights |
| ``manage`` | owner | catalogue, staff, settings, customers, stock count |
| ``teach`` | supervisor+ | "Teach a product": the product on the tray, its views approved into the store's gallery |

Every route requires a login and a role (``edge.web.security.require``; ``create_app`` refuses a
route without one), every unsafe request carries a CSRF token, and nothing is loaded from outside
the device (the strict headers of ``runtime.web_guard``, the same as the hub's).
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import Flask, Response, jsonify, redirect, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as Redirect

from edge.auth.service import AuthError
from edge.checkout.errors import ApprovalRequired, CheckoutError
from edge.store.errors import NotFoundError, StoreError, StoreUnavailableError, ValidationError
from edge.web.context import WebContext
from edge.web.forms import BadInput
from edge.web.security import current_user, guard, wants_json
from i18n import gettext
from i18n.web import RequestLocale
from i18n.web import install as install_i18n
from runtime.web_guard import install_security_headers

log = logging.getLogger(__name__)

# the routes that take enrolment photos (edge.web.manage_products), allowed a larger body
PHOTO_UPLOAD_ENDPOINTS = frozenset({"manage.product_photos_upload", "manage.api_product_photos"})


def create_app(context: WebContext, secret_key: str | None = None, secure_cookies: bool = False,
               session_hours: float = 12.0, testing: bool = False) -> Flask:
    from edge.web.auth_views import auth_blueprint, home_for
    from edge.web.cashier import cashier_blueprint
    from edge.web.dashboard import dashboard_blueprint
    from edge.web.live import live_blueprint
    from edge.web.manage import manage_blueprint
    from edge.web.manage_products import PHOTO_UPLOAD_LIMIT
    from edge.web.teach import teach_blueprint

    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(
        SECRET_KEY=secret_key or secrets.token_hex(32), SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_SECURE=secure_cookies,
        SESSION_COOKIE_NAME="tillsight_session", PERMANENT_SESSION_LIFETIME=timedelta(hours=session_hours),
        WTF_CSRF_TIME_LIMIT=None, WTF_CSRF_SSL_STRICT=secure_cookies, JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=1024 * 1024, TESTING=testing)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["tillsight.ctx"] = context
    if context.live is not None:
        app.extensions["tillsight.live"] = context.live

    @app.before_request
    def _upload_limit() -> None:
        """Enrolment photos may exceed the 1 MB every other request is held to; set before CSRFProtect
        (registered next) reads the form."""
        if request.endpoint in PHOTO_UPLOAD_ENDPOINTS:
            request.max_content_length = PHOTO_UPLOAD_LIMIT

    def _request_locale() -> RequestLocale:
        """The logged-in person's language, else the store's; the store's zone and currency."""
        store_settings = context.store.settings.get()
        user = current_user()
        language = (context.store.users.language(user.id) if user is not None else None) or store_settings.language
        return RequestLocale(language, store_settings.timezone, store_settings.currency)

    install_i18n(app, _request_locale)  # first of the request hooks: a refusal already answers in the language
    CSRFProtect(app)
    for bp in (auth_blueprint, live_blueprint, cashier_blueprint, dashboard_blueprint, manage_blueprint,
               teach_blueprint):
        app.register_blueprint(bp)

    @app.get("/")
    def home() -> Redirect:
        user = current_user()
        if user is None:
            return redirect(url_for("auth.login_page"))
        return redirect(home_for(user.role))

    guard.check_routes(app, "edge.web.security.require")

    @app.context_processor
    def _inject() -> dict:
        return {"current_user": current_user(), "store_settings": context.store.settings.get()}

    def _error(status: int, message: str) -> tuple[Response, int] | tuple[str, int]:
        if wants_json():
            return jsonify(error=message), status
        from flask import render_template
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return _error(400, gettext("security token missing or expired; reload the page"))

    @app.errorhandler(ApprovalRequired)
    def _approval(exc: ApprovalRequired):
        if wants_json():
            return jsonify(error=str(exc), approval_required=True), 403
        return _error(403, str(exc))

    @app.errorhandler(StoreUnavailableError)
    def _storage(exc: StoreUnavailableError):
        log.error("storage failure: %s", exc)
        return _error(507, str(exc))

    # refusals whose message is shown as is (Flask picks the handler of the most specific class)
    for exc_type, status in ((BadInput, 400), (CheckoutError, 409), (AuthError, 403), (ValidationError, 400),
                             (NotFoundError, 404), (StoreError, 400)):
        app.register_error_handler(exc_type, lambda exc, status=status: _error(status, str(exc)))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return _error(exc.code or 500, exc.description or exc.name)

    install_security_headers(app)  # no CDN, nothing framed, nothing sniffed, no plug-ins
    return app
