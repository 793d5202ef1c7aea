"""Hub web tables (SQLAlchemy Core, same ``metadata``): the people who log in to the hub, the
stores each may see, and the web app's own small state (its generated session-signing key).

Roles: ``operator`` (every store and the fleet), ``owner`` and ``viewer`` (only the stores listed
for them in ``hub_user_stores``).  Passwords are stored as werkzeug scrypt hashes."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from analytics.db.tables import metadata

hub_users = Table(
    "hub_users", metadata,
    Column("user_id", String(64), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("role", String(16), nullable=False),  # operator | owner | viewer
    Column("password_hash", Text, nullable=False),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", String(32)),  # ISO-8601 UTC; NULL = not locked
    Column("active", Boolean, nullable=False, default=True),
    Column("last_login_at", String(32)),
    Column("language", String(16)),  # en | es | fr; NULL: the language of the store shown (migration 16)
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

hub_user_stores = Table(
    "hub_user_stores", metadata,
    Column("user_id", String(64), nullable=False),
    Column("store_id", String(32), nullable=False),
    PrimaryKeyConstraint("user_id", "store_id"),
    Index("hub_user_stores_store", "store_id"),
)

# Small named values the web app keeps for itself (e.g. ``session_key`` when the configuration
# gives none, so every web worker behind one database signs sessions with the same key).
hub_web_state = Table(
    "hub_web_state", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
)

WEB_TABLES = (hub_users, hub_user_stores, hub_web_state)
