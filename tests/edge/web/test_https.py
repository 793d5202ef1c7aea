"""The till's pages over HTTPS (issue 26): a cashier logs in with a PIN through a real TLS client, and
the session cookie that comes back is ``Secure``, so it never crosses the shop LAN in clear."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from firmware_config.schema import WebTlsConfig
from runtime.serve import wsgi_server
from runtime.tls import web_tls


@pytest.fixture
def served_https(app: Flask, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    files = web_tls("0.0.0.0", WebTlsConfig(), tmp_path / "tls", "web")  # a LAN bind: HTTPS out of the box
    assert files is not None
    server, port = wsgi_server(app, "127.0.0.1", 0, tls=files, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{port}", files.cert
    server.close()
    thread.join(10)


def test_a_pin_login_over_https_gets_a_secure_session_cookie(served_https: tuple[str, Path]) -> None:
    base, cert = served_https
    with requests.Session() as client:
        verify = str(cert)  # per request: a session-wide verify loses to REQUESTS_CA_BUNDLE
        page = client.get(f"{base}/login", verify=verify, timeout=10)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert token, "no CSRF token on the login page"
        resp = client.post(f"{base}/api/login", json={"user_id": "ana", "pin": "1357"},
                           headers={"X-CSRFToken": token.group(1)}, verify=verify, timeout=10)
        assert resp.status_code == 200, resp.text
        cookies = resp.raw.headers.getlist("Set-Cookie")
        assert cookies and all("; Secure" in c and "HttpOnly" in c for c in cookies), cookies
        assert all(c.secure for c in client.cookies)
        assert client.get(f"{base}/till", verify=verify, timeout=10).status_code == 200  # the session works over HTTPS
