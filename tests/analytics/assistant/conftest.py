"""Fixtures for the assistant: the seeded hub database (SQLite, or SQLite and PostgreSQL with
``any_seeded``), the tool context of store A on the pinned clock, and an AIService pointed at the
stand-in chat-completions server with short time-outs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from analytics.assistant.tools import AskStore, ToolContext
from analytics.db import make_engine
from tests.analytics.assistant.seed import NOW, A, seed
from tests.support.fixtures import postgres_cluster  # noqa: F401 - pytest fixture
from tests.support.hubdb import hub_database_url
from tests.support.llm_server import ChatServer, llm_server  # noqa: F401 - pytest fixture


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    seed(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(hub_database_url(request.param, tmp_path, request, prefix="hubask"))
    seed(engine)
    yield engine
    engine.dispose()


def context(engine: Engine, store_id: str = A) -> ToolContext:
    return ToolContext(engine, AskStore.load(engine, store_id), NOW)


@pytest.fixture
def ctx(seeded: Engine) -> ToolContext:
    return context(seeded)


def make_ai(engine: Engine, server: ChatServer | None, **llm: object):
    from analytics.llm import AIService
    from firmware_config import load_config

    settings: dict[str, object] = {"timeout_s": 1.0, "max_retries": 0, "backoff_s": 0.0}
    if server is not None:
        settings["base_url"] = server.base_url
    settings.update(llm)
    return AIService.from_config(engine, load_config(None, env={}, overrides={"llm": settings}), clock=lambda: NOW)


@pytest.fixture
def ai(seeded: Engine, llm_server: ChatServer):  # noqa: F811
    return make_ai(seeded, llm_server)
