"""The hub database: SQLAlchemy Core tables, versioned migrations, one code path for SQLite and
PostgreSQL."""

from analytics.db.engine import make_engine
from analytics.db.migrations import SCHEMA_VERSION, migrate
from analytics.db.tables import metadata

__all__ = ["SCHEMA_VERSION", "make_engine", "metadata", "migrate"]
