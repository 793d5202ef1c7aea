"""The session-signing key when the configuration gives none: generated once and kept in the hub
database (``hub_web_state``), so logins survive a restart and every web worker behind the same
database accepts the same cookies."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy import Engine, Insert, select
from sqlalchemy.dialects import postgresql, sqlite

from analytics.db.web_tables import hub_web_state
from analytics.web.accounts import iso, utc_now

log = logging.getLogger(__name__)

NAME = "session_key"


def stored_session_key(engine: Engine) -> str:
    with engine.begin() as conn:
        values = {"name": NAME, "value": secrets.token_hex(32), "created_at": iso(utc_now())}
        stmt: Insert  # each dialect's INSERT ... ON CONFLICT DO NOTHING
        if conn.dialect.name == "postgresql":
            stmt = postgresql.insert(hub_web_state).values(**values).on_conflict_do_nothing()
        elif conn.dialect.name == "sqlite":
            stmt = sqlite.insert(hub_web_state).values(**values).on_conflict_do_nothing()
        else:
            raise RuntimeError(f"unsupported hub database dialect {conn.dialect.name!r}")
        if conn.execute(stmt.returning(hub_web_state.c.name)).first() is not None:
            log.info("generated the hub web session key (kept in the hub database)")
        return str(conn.execute(select(hub_web_state.c.value).where(hub_web_state.c.name == NAME)).scalar_one())
