"""Fixtures of the written-insights tests: a hub database with one store's synthetic sales and an
analytics run (seeded once, copied per test), the store's credit customers, the stand-in
chat-completions server and an AIService pointed at it."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from analytics.db import make_engine
from analytics.llm import AIService
from firmware_config import load_config
from tests.analytics.narratives.support import seed_credit_store, seed_sales_store
from tests.support.llm_server import ChatServer, llm_server  # noqa: F401 - pytest fixture


@pytest.fixture(scope="session")
def seeded_narratives_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("narratives-seed") / "hub.db"
    engine = make_engine(f"sqlite:///{path}")
    seed_sales_store(engine, f"sqlite:///{path}")
    seed_credit_store(engine, f"sqlite:///{path}")
    engine.dispose()
    return path


@pytest.fixture
def engine(seeded_narratives_file: Path, tmp_path: Path) -> Iterator[Engine]:
    path = tmp_path / "hub.db"
    shutil.copyfile(seeded_narratives_file, path)
    eng = make_engine(f"sqlite:///{path}")
    yield eng
    eng.dispose()


AIFactory = Callable[..., AIService]


@pytest.fixture
def make_ai(engine: Engine, llm_server: ChatServer) -> AIFactory:  # noqa: F811
    """``make_ai(**llm)`` -> an AIService on the stand-in server (1 s time-out, no retries)."""

    def _make(**llm: object) -> AIService:
        settings: dict[str, object] = {"base_url": llm_server.base_url, "timeout_s": 1.0, "max_retries": 0,
                                       "backoff_s": 0.01, "breaker_failures": 50}
        settings.update(llm)
        return AIService.from_config(engine, load_config(None, env={}, overrides={"llm": settings}))

    return _make
