"""Fixtures for the credit tests: the four known credit histories on SQLite and PostgreSQL, and
the stand-in chat-completions server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from analytics.db import make_engine
from tests.analytics.credit.support import four_customers
from tests.support.fixtures import postgres_cluster  # noqa: F401 - pytest fixture
from tests.support.hubdb import hub_database_url
from tests.support.llm_server import llm_server  # noqa: F401 - pytest fixture


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty hub database on SQLite and on PostgreSQL."""
    engine = make_engine(hub_database_url(request.param, tmp_path, request, prefix="credit"))
    yield engine
    engine.dispose()


@pytest.fixture
def credit_engine(any_engine: Engine) -> Engine:
    """The four customers of tests/analytics/credit/support.py, on both backends."""
    four_customers().write(any_engine)
    return any_engine


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'credit.db'}")
    four_customers().write(engine)
    yield engine
    engine.dispose()
