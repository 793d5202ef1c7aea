"""Fixtures for the web app: a seeded store in a temp folder, the app, and logged-in clients."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from edge.auth.service import Authenticator
from edge.checkout.service import CheckoutService
from edge.demo.seed import DEMO_USERS, seed_store
from edge.store import Store
from edge.web import create_app
from edge.web.context import WebContext

CREDENTIALS = {u.id: (u.pin, u.password) for u in DEMO_USERS}
ROLE_USER = {"cashier": "ana", "supervisor": "maria", "owner": "owner"}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "store.db")
    seed_store(s)
    yield s
    s.close()


@pytest.fixture
def web_context(store: Store) -> WebContext:
    auth = Authenticator(store.users)
    checkout = CheckoutService(store, auth, "s-001", "till-1")
    return WebContext(store=store, auth=auth, checkout=checkout, store_id="s-001", device_id="till-1")


@pytest.fixture
def app(web_context: WebContext) -> Flask:
    return create_app(web_context, secret_key="test-secret", testing=True)


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

    def put(self, url: str, json=None, **kw):
        return self.client.put(url, json=json, headers={"X-CSRFToken": self.token}, **kw)

    def delete(self, url: str, **kw):
        return self.client.delete(url, headers={"X-CSRFToken": self.token}, **kw)


@pytest.fixture
def login_as(app: Flask) -> Callable[[str], Session]:
    """``login_as("cashier" | "supervisor" | "owner" | user_id)`` -> a logged-in Session."""

    def _login(who: str) -> Session:
        user_id = ROLE_USER.get(who, who)
        pin, password = CREDENTIALS[user_id]
        client = app.test_client()
        token = csrf_token(client)
        body = {"user_id": user_id, "password": password} if password else {"user_id": user_id, "pin": pin}
        resp = client.post("/api/login", json=body, headers={"X-CSRFToken": token})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return Session(client, token)

    return _login


@pytest.fixture
def served(app: Flask):
    """The app served in-process by waitress on a free port; yields its base URL."""
    from waitress import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(5)
