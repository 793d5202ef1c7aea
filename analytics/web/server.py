"""The hub web app as a process: ``tillsight hub web --config FILE`` (``tillsight-hub-web.service``).

Migrates the hub database, then serves the app with waitress (a production WSGI server) until
SIGTERM or Ctrl-C.  It tells systemd it is ready once it listens (``Type=notify``), and the service
watchdog pings only while the server answers its own loopback requests (``runtime.selfcheck``):
a server whose every thread hangs is restarted."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from analytics.db import make_engine, migrate
from analytics.db.web_tables import hub_users
from analytics.web import create_app
from analytics.web.accounts import LoginPolicy
from firmware_config import ConfigError, TillsightConfig, load_config
from runtime.notify import ProgressProbe, ServiceNotifier, ServiceSupervisor
from runtime.selfcheck import HttpSelfCheck
from runtime.serve import run_until_signal, wsgi_server
from runtime.tls import fingerprint, web_tls

log = logging.getLogger(__name__)


def build_app(cfg: TillsightConfig, engine: Engine) -> Flask:
    from analytics.llm import AIService
    from analytics.web.pricing import install_price_push

    web = cfg.hub_web
    app = create_app(engine, secret_key=web.secret_key.get_secret_value() if web.secret_key else None,
                     secure_cookies=web.secure_cookies, session_hours=web.session_hours,
                     ai=AIService.from_config(engine, cfg),
                     policy=LoginPolicy(web.lockout_failures, timedelta(minutes=web.lockout_minutes)))
    install_price_push(app, cfg)  # approved prices go to the tills at once when this hub holds the signing key
    from analytics.web.credit_reminders import install_reminders

    install_reminders(app, cfg)  # collection reminders by e-mail, SMS and WhatsApp (the outbound section)
    return app


def serve(config_path: str | None, host: str | None = None, port: int | None = None) -> int:
    """Run until SIGTERM or SIGINT; returns the exit status (2 = bad config or database)."""
    overrides: dict = {}
    if host:
        overrides.setdefault("hub_web", {})["host"] = host
    if port is not None:
        overrides.setdefault("hub_web", {})["port"] = port
    try:
        cfg = load_config(config_path, overrides=overrides)
        # HTTPS on any address but loopback (runtime.tls); plain HTTP on the LAN is refused
        tls = web_tls(cfg.hub_web.host, cfg.hub_web.tls, Path(cfg.data_dir) / "tls", "hub-web")
        engine = make_engine(cfg.hub.database_url)
        migrate(engine)
        app = build_app(cfg, engine)
        with engine.connect() as conn:
            users = conn.execute(select(func.count()).select_from(hub_users)).scalar_one()
    except (ConfigError, SQLAlchemyError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    server, bound_port = wsgi_server(app, cfg.hub_web.host, cfg.hub_web.port, tls=tls, threads=cfg.hub_web.threads,
                                     ident="tillsight-hub")
    base = f"{'https' if tls else 'http'}://{cfg.hub_web.host}:{bound_port}"
    log.info("Tillsight hub web app serving on %s (Ctrl-C to stop)%s", base,
             f"; certificate SHA-256 {fingerprint(tls.cert)}" if tls else "")
    if not users:
        log.warning("no hub users yet: create an operator with "
                    "`tillsight hub user add --id ID --name NAME --role operator`")
    # The watchdog pings while the server answers its own requests (a loopback GET of the login page).
    notifier = ServiceNotifier.from_env()
    selfcheck = HttpSelfCheck(cfg.hub_web.host, bound_port, "/login", tls=tls is not None,
                              interval_s=notifier.watchdog_s / 4 if notifier.watchdog_s else 5.0)
    service = ServiceSupervisor([ProgressProbe("web server", selfcheck)], notifier=notifier,
                                status=lambda: f"serving on {base}; {selfcheck.answers} self-checks answered")
    if notifier.watchdog_s:
        selfcheck.start()
    service.ready(f"serving on {base}")
    try:
        # waitress's loop raises OSError on the socket closed under it: the normal way out
        run_until_signal(server.run, server.close, what="the hub web app", service=service,
                         expected_on_stop=(OSError,))
    finally:
        selfcheck.stop()
        service.close()
        engine.dispose()
    return 0
