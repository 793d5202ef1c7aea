"""Fixtures for the hub web app: a seeded two-tenant hub database (SQLite, copied per test from one
seeded file), the app on a pinned clock, logged-in clients, and the app served by waitress."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from analytics.db import make_engine
from analytics.web import create_app
from tests.analytics.web.seed import NOW, PASSWORDS, seed_hub, seed_users
from tests.support.fixtures import postgres_cluster  # noqa: F401 - pytest fixture
from tests.support.hubdb import hub_database_url


@pytest.fixture(scope="session")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hub-seed") / "hub.db"
    engine = make_engine(f"sqlite:///{path}")
    seed_hub(engine)
    seed_users(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture
def hub_engine(seeded_file: Path, tmp_path: Path) -> Iterator[Engine]:
    path = tmp_path / "hub.db"
    shutil.copyfile(seeded_file, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> dict:
    """``clock["now"]`` is the app's "now"; a test may move it."""
    return {"now": NOW}


@pytest.fixture
def app(hub_engine: Engine, clock: dict) -> Flask:
    return create_app(hub_engine, secret_key="test-secret", clock=lambda: clock["now"], testing=True)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    m = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


class Session:
    """A logged-in test client that sends the CSRF token with every unsafe request."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.token = token

    def get(self, url: str, **kw):
        return self.client.get(url, **kw)

    def post(self, url: str, json=None, data=None, **kw):
        headers = {"X-CSRFToken": self.token, **kw.pop("headers", {})}
        return self.client.post(url, json=json, data=data, headers=headers, **kw)


@pytest.fixture
def login_as(app: Flask) -> Callable[[str], Session]:
    """``login_as("op" | "ann" | "bob" | "val" | "nobody")`` -> a logged-in Session."""

    def _login(user_id: str) -> Session:
        client = app.test_client()
        token = csrf_token(client)
        resp = client.post("/api/login", json={"user_id": user_id, "password": PASSWORDS[user_id]},
                           headers={"X-CSRFToken": token})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return Session(client, token)

    return _login


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty hub database on SQLite and on PostgreSQL (a throwaway cluster)."""
    url = hub_database_url(request.param, tmp_path, request, prefix="hubweb")
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app served in-process by waitress on a free port; yields its base URL."""
    from waitress import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(5)
