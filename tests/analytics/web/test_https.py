"""The hub web app over HTTPS (issue 26): an operator logs in through a real TLS client and the session
cookie that comes back is ``Secure``; a hub bound to the network without TLS does not start."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from analytics.web.server import serve
from firmware_config.schema import WebTlsConfig
from runtime.serve import wsgi_server
from runtime.tls import web_tls
from tests.analytics.web.seed import PASSWORDS


@pytest.fixture
def served_https(app: Flask, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    files = web_tls("0.0.0.0", WebTlsConfig(), tmp_path / "tls", "hub-web")
    assert files is not None
    server, port = wsgi_server(app, "127.0.0.1", 0, tls=files, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{port}", files.cert
    server.close()
    thread.join(30)


def test_an_operator_login_over_https_gets_a_secure_session_cookie(served_https: tuple[str, Path]) -> None:
    base, cert = served_https
    verify = str(cert)
    with requests.Session() as client:
        page = client.get(f"{base}/login", verify=verify, timeout=10)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert token, "no CSRF token on the login page"
        resp = client.post(f"{base}/api/login", json={"user_id": "op", "password": PASSWORDS["op"]},
                           headers={"X-CSRFToken": token.group(1)}, verify=verify, timeout=10)
        assert resp.status_code == 200, resp.text
        cookies = resp.raw.headers.getlist("Set-Cookie")
        assert cookies and all("; Secure" in c for c in cookies), cookies
        assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_hub_on_the_network_with_tls_off_does_not_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = tmp_path / "hub.yaml"
    config.write_text(f"hub:\n  database_url: sqlite:///{tmp_path / 'hub.db'}\nhub_web:\n  tls:\n    mode: 'off'\n"
                      f"data_dir: {tmp_path / 'data'}\n")
    assert serve(str(config), host="0.0.0.0", port=8090) == 2  # refused before anything binds
    assert "in clear" in caplog.text
