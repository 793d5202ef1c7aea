"""Fixtures for the language layer: the stand-in chat-completions server, a migrated hub database
(SQLite, or SQLite and PostgreSQL with ``any_engine``), a pinned UTC clock and a fake monotonic
clock for the breaker, and ``make_service(**llm)`` building an AIService from a real config."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from analytics.db import make_engine, migrate
from analytics.llm import AIService
from firmware_config import load_config
from tests.support.fixtures import postgres_cluster  # noqa: F401 - pytest fixture
from tests.support.hubdb import hub_database_url
from tests.support.llm_server import ChatServer, llm_server  # noqa: F401 - pytest fixture

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


class Clocks:
    """``now`` (UTC, for caps and the cache) and ``mono`` (seconds, for the breaker); ``sleeps``
    records every back-off the client asked for instead of sleeping."""

    def __init__(self) -> None:
        self.now = NOW
        self.mono = 1000.0
        self.sleeps: list[float] = []

    def utc(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated hub database on SQLite and on PostgreSQL (a throwaway cluster)."""
    eng = make_engine(hub_database_url(request.param, tmp_path, request, prefix="hubai"))
    migrate(eng)
    yield eng
    eng.dispose()


ServiceFactory = Callable[..., AIService]


def build_service(engine: Engine, server: ChatServer | None, clocks: Clocks, **llm: object) -> AIService:
    settings: dict[str, object] = {"timeout_s": 1.0, "max_retries": 1, "backoff_s": 0.05, "breaker_failures": 3,
                                   "breaker_reset_s": 30.0}
    if server is not None:
        settings["base_url"] = server.base_url
    settings.update(llm)
    cfg = load_config(None, env={}, overrides={"llm": settings})
    return AIService.from_config(engine, cfg, clock=clocks.utc, monotonic=clocks.monotonic, sleep=clocks.sleep)


@pytest.fixture
def make_service(engine: Engine, llm_server: ChatServer, clocks: Clocks) -> ServiceFactory:  # noqa: F811
    def _make(**llm: object) -> AIService:
        return build_service(engine, llm_server, clocks, **llm)

    return _make
