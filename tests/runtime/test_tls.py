"""HTTPS on the shop LAN (``runtime.tls``, ``runtime.serve``, ``runtime.web_guard``): a LAN bind serves
HTTPS out of the box with a certificate made once, plain HTTP is refused anywhere but loopback, and a
page that came over HTTPS hands out only ``Secure`` cookies."""

from __future__ import annotations

import datetime as dt
import http.client
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask, make_response, session

from firmware_config.schema import WebTlsConfig
from runtime.serve import wsgi_server
from runtime.tls import PlainHttpRefused, TlsFiles, ensure_self_signed, fingerprint, is_loopback, web_tls
from runtime.web_guard import install_security_headers


def _app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict")
    install_security_headers(app)

    @app.get("/login")
    def login() -> object:
        session["uid"] = "ana"
        resp = make_response("logged in")
        resp.set_cookie("lang", "es")
        return resp

    return app


@pytest.fixture
def https(tmp_path: Path) -> Iterator[tuple[str, TlsFiles]]:
    files = web_tls("127.0.0.1", WebTlsConfig(mode="on"), tmp_path / "tls", "web")
    assert files is not None
    server, port = wsgi_server(_app(), "127.0.0.1", 0, tls=files, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{port}", files
    server.close()
    thread.join(10)


def test_a_real_client_over_tls_gets_secure_cookies_only(https: tuple[str, TlsFiles]) -> None:
    base, files = https
    resp = requests.get(f"{base}/login", verify=str(files.cert), timeout=10)  # the certificate is checked
    assert resp.status_code == 200 and resp.text == "logged in"
    cookies = resp.raw.headers.getlist("Set-Cookie")
    assert {c.split("=")[0] for c in cookies} == {"session", "lang"}
    assert all("; Secure" in c for c in cookies), cookies
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_tls_port_does_not_answer_in_clear(https: tuple[str, TlsFiles]) -> None:
    port = int(https[0].rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/login")
        answer = conn.getresponse()
        assert answer.status == 400 and b"logged in" not in answer.read()  # cheroot: "plain HTTP to HTTPS port"
    except (ConnectionError, http.client.HTTPException):
        pass  # or it just hangs up
    finally:
        conn.close()


def test_a_client_that_does_not_trust_the_certificate_is_refused(https: tuple[str, TlsFiles]) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{https[0]}/login", verify=True, timeout=10)  # the system CAs never signed it


def test_plain_http_keeps_cookies_as_configured_on_loopback() -> None:
    client = _app().test_client()
    resp = client.get("/login")
    assert resp.status_code == 200 and all("Secure" not in c for c in resp.headers.getlist("Set-Cookie"))
    assert "Strict-Transport-Security" not in resp.headers


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "till-1.local", "::"])
def test_plain_http_on_the_lan_is_refused(host: str, tmp_path: Path) -> None:
    with pytest.raises(PlainHttpRefused, match="in clear"):
        web_tls(host, WebTlsConfig(mode="off"), tmp_path, "web")
    with pytest.raises(PlainHttpRefused):
        wsgi_server(_app(), host, 0)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_loopback_stays_plain_http_unless_asked(host: str, tmp_path: Path) -> None:
    assert is_loopback(host)
    assert web_tls(host, WebTlsConfig(), tmp_path, "web") is None
    assert web_tls(host, WebTlsConfig(mode="on"), tmp_path, "web") is not None


def test_a_lan_bind_gets_https_with_a_certificate_made_once(tmp_path: Path) -> None:
    first = web_tls("0.0.0.0", WebTlsConfig(), tmp_path / "tls", "web")
    assert first is not None and first.key.stat().st_mode & 0o777 == 0o600
    again = web_tls("0.0.0.0", WebTlsConfig(), tmp_path / "tls", "web")
    assert again == first and fingerprint(again.cert) == fingerprint(first.cert)  # a browser keeps trusting it
    ctx = ssl.create_default_context(cafile=str(first.cert))
    assert ctx.cert_store_stats()["x509"] == 1


def test_the_certificate_is_made_again_when_it_nears_expiry_or_lacks_a_name(tmp_path: Path) -> None:
    names = ["localhost", "127.0.0.1"]
    old = ensure_self_signed(tmp_path, "web", names, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=820))
    stale = fingerprint(old.cert)
    renewed = ensure_self_signed(tmp_path, "web", names)
    assert fingerprint(renewed.cert) != stale
    kept = fingerprint(renewed.cert)
    assert fingerprint(ensure_self_signed(tmp_path, "web", names).cert) == kept
    assert fingerprint(ensure_self_signed(tmp_path, "web", [*names, "192.168.1.20"]).cert) != kept


def test_a_configured_pair_is_used_and_a_broken_one_named(tmp_path: Path) -> None:
    made = ensure_self_signed(tmp_path / "ca", "till", ["localhost"])
    cfg = WebTlsConfig(mode="auto", cert_file=made.cert, key_file=made.key)
    assert web_tls("0.0.0.0", cfg, tmp_path / "unused", "web") == made
    assert not (tmp_path / "unused").exists()
    other = ensure_self_signed(tmp_path / "other", "till", ["localhost"])
    with pytest.raises(ValueError, match="cannot use the HTTPS certificate"):
        web_tls("0.0.0.0", WebTlsConfig(cert_file=made.cert, key_file=other.key), tmp_path, "web")


def test_sigterm_stops_the_https_server_as_it_stops_the_plain_one(tmp_path: Path) -> None:
    """The stop comes from a signal handler (``run_until_signal``), which may interrupt the server's
    own loop at any point: it must still end, every time."""
    import os
    import signal
    import time

    from runtime.serve import run_until_signal

    files = web_tls("127.0.0.1", WebTlsConfig(mode="on"), tmp_path / "tls", "web")
    assert files is not None
    for _ in range(3):
        server, port = wsgi_server(_app(), "127.0.0.1", 0, tls=files, threads=2)
        answered = threading.Event()

        def ask_then_signal(port: int = port, answered: threading.Event = answered) -> None:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    requests.get(f"https://127.0.0.1:{port}/login", verify=str(files.cert), timeout=5)
                    answered.set()
                    break
                except requests.exceptions.ConnectionError:
                    time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=ask_then_signal, daemon=True).start()
        started = time.monotonic()
        assert run_until_signal(server.run, server.close, what="https", expected_on_stop=(OSError,)).is_set()
        assert answered.is_set() and time.monotonic() - started < 20


def test_the_watchdogs_self_check_asks_the_https_server_over_tls(https: tuple[str, TlsFiles]) -> None:
    from runtime.selfcheck import HttpSelfCheck

    port = int(https[0].rsplit(":", 1)[1])
    check = HttpSelfCheck("0.0.0.0", port, "/login", tls=True, timeout_s=5)
    assert check.check() and check() == 1
