"""The appliance's web app (Flask application factory with blueprints)."""

from __future__ import annotations

import secrets

from flask import Flask

from edge.web.live import LiveView, live_blueprint


def create_app(live: LiveView, secret_key: str | None = None) -> Flask:
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(SECRET_KEY=secret_key or secrets.token_hex(32), SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Strict", JSON_SORT_KEYS=False)
    app.extensions["tillsight.live"] = live
    app.register_blueprint(live_blueprint)

    @app.after_request
    def _security_headers(resp):  # no CDN, nothing framed, nothing sniffed
        resp.headers.setdefault("Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        return resp

    return app
