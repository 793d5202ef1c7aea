"""The hub web app as a process: ``tillsight hub web --config FILE``.  Migrates the hub database,
then serves the app with waitress (a production WSGI server) until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta
from types import FrameType

from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from analytics.db import make_engine, migrate
from analytics.db.web_tables import hub_users
from analytics.web import create_app
from analytics.web.accounts import LoginPolicy
from firmware_config import ConfigError, TillsightConfig, load_config

log = logging.getLogger(__name__)


def build_app(cfg: TillsightConfig, engine: Engine) -> Flask:
    from analytics.llm import AIService

    web = cfg.hub_web
    return create_app(engine, secret_key=web.secret_key.get_secret_value() if web.secret_key else None,
                      secure_cookies=web.secure_cookies, session_hours=web.session_hours,
                      ai=AIService.from_config(engine, cfg),
                      policy=LoginPolicy(web.lockout_failures, timedelta(minutes=web.lockout_minutes)))


def serve(config_path: str | None, host: str | None = None, port: int | None = None) -> int:
    """Run until SIGTERM or SIGINT; returns the exit status (2 = bad config or database)."""
    from waitress import create_server

    overrides: dict = {}
    if host:
        overrides.setdefault("hub_web", {})["host"] = host
    if port is not None:
        overrides.setdefault("hub_web", {})["port"] = port
    try:
        cfg = load_config(config_path, overrides=overrides)
        engine = make_engine(cfg.hub.database_url)
        migrate(engine)
        app = build_app(cfg, engine)
        with engine.connect() as conn:
            users = conn.execute(select(func.count()).select_from(hub_users)).scalar_one()
    except (ConfigError, SQLAlchemyError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    server = create_server(app, host=cfg.hub_web.host, port=cfg.hub_web.port, threads=cfg.hub_web.threads,
                           ident="tillsight-hub")
    log.info("Tillsight hub web app serving on http://%s:%s (Ctrl-C to stop)", cfg.hub_web.host,
             server.effective_port)
    if not users:
        log.warning("no hub users yet: create an operator with "
                    "`tillsight hub user add --id ID --name NAME --role operator`")
    stop = threading.Event()

    def _shutdown(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: stopping the hub web app", signal.Signals(signum).name)
        stop.set()
        server.close()

    signal.signal(signal.SIGTERM, _shutdown)
    signal.signal(signal.SIGINT, _shutdown)
    try:
        server.run()
    except OSError:
        if not stop.is_set():
            raise
    finally:
        engine.dispose()
    return 0
