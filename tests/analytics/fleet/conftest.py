"""Real Mosquitto and PostgreSQL for the fleet tests, and the hub database on both back ends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from analytics.db import make_engine, migrate
from tests.support.fixtures import broker, postgres_cluster  # noqa: F401 - pytest fixtures


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    cluster = request.getfixturevalue("postgres_cluster")
    name = f"fleet_{uuid.uuid4().hex[:10]}"
    admin = make_engine(cluster.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return cluster.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    migrate(eng)
    yield eng
    eng.dispose()
