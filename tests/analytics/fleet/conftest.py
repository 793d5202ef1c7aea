"""Real Mosquitto and PostgreSQL for the fleet tests, and the hub database on both back ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from analytics.db import make_engine, migrate
from tests.support.fixtures import broker, postgres_cluster  # noqa: F401 - pytest fixtures
from tests.support.hubdb import hub_database_url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return hub_database_url(request.param, tmp_path, request, prefix="fleet")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    migrate(eng)
    yield eng
    eng.dispose()
