"""Real local servers that speak the reminder providers' protocols, for the sending tests: an SMTP server
(aiosmtpd, with a login and addresses it refuses) and an HTTP server (``http.server`` in a thread) that answers
like Twilio's Messages API and the WhatsApp Cloud API, recording every request that arrives."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.support.mosquitto import free_port

SMTP_USER, SMTP_PASSWORD = "colmado", "smtp-pass-1"
SMS_SID, SMS_TOKEN = "AC0123456789", "sms-token-1"
WA_PHONE_ID, WA_TOKEN = "105550001", "wa-token-1"


@dataclass
class Mailbox:
    """What the SMTP server received; ``refuse`` holds addresses answered with 550."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    logins: list[str] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)


@contextmanager
def smtp_server(tls: ssl.SSLContext | None = None) -> Iterator[Mailbox]:
    """A real SMTP server on loopback; with ``tls`` it offers STARTTLS with that context and requires it."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    box = Mailbox(free_port())

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address in box.refuse:
                return "550 5.1.1 mailbox unavailable"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            box.messages.append(message_from_bytes(envelope.original_content, policy=default))  # type: ignore[arg-type]
            box.arrived.set()
            return "250 Message accepted for delivery"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == SMTP_USER \
            and auth_data.password.decode() == SMTP_PASSWORD
        if ok:
            box.logins.append(SMTP_USER)
        return AuthResult(success=ok)

    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port, authenticator=authenticator,
                            auth_require_tls=False, decode_data=False, tls_context=tls,
                            require_starttls=tls is not None)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8")).items()}

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Provider:
    """The stand-in SMS/WhatsApp API: ``fail`` = (status, JSON body) makes the next answers errors."""

    url: str
    requests: list[Request] = field(default_factory=list)
    fail: tuple[int, dict] | None = None
    arrived: threading.Event = field(default_factory=threading.Event)


@contextmanager
def provider_server() -> Iterator[Provider]:
    state = Provider("")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.requests.append(Request("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            n = len(state.requests)
            if state.fail is not None:
                status, answer = state.fail
                if self.path.endswith("/messages") and "error" not in answer:  # the Graph API's error shape
                    answer = {"error": {**answer, "type": "OAuthException"}}
            elif self.path.startswith("/2010-04-01/Accounts/"):
                status, answer = 201, {"sid": f"SM{n:032d}", "status": "queued", "error_code": None}
            elif self.path.endswith("/messages"):
                status, answer = 200, {"messaging_product": "whatsapp", "contacts": [{"wa_id": "x"}],
                                       "messages": [{"id": f"wamid.TEST{n}"}]}
            else:
                status, answer = 404, {"message": "no such resource"}
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            state.arrived.set()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def outbound_config(mailbox: Mailbox | None, provider: Provider | None, password_file: str | None = None,
                    email: dict[str, Any] | None = None, **extra: Any) -> Any:
    """The ``outbound`` section pointing every channel at the local servers (through the real loader)."""
    from firmware_config import load_config

    section: dict[str, Any] = dict(extra)
    if mailbox is not None:
        section["email"] = {"enabled": True, "host": "127.0.0.1", "port": mailbox.port, "security": "none",
                            "username": SMTP_USER, "from_address": "cobros@colmado-ana.do", "timeout_s": 10}
        if password_file:
            section["email"]["password_file"] = password_file
        section["email"].update(email or {})
    if provider is not None:
        section["sms"] = {"enabled": True, "base_url": provider.url, "account_sid": SMS_SID,
                          "from_number": "+18095550000", "timeout_s": 10}
        section["whatsapp"] = {"enabled": True, "base_url": provider.url, "phone_number_id": WA_PHONE_ID,
                               "timeout_s": 10}
    env = {"TILLSIGHT__OUTBOUND__SMS__AUTH_TOKEN": SMS_TOKEN, "TILLSIGHT__OUTBOUND__WHATSAPP__ACCESS_TOKEN": WA_TOKEN}
    if provider is None:
        env = {}
    if mailbox is not None and not password_file:
        env["TILLSIGHT__OUTBOUND__EMAIL__PASSWORD"] = SMTP_PASSWORD
    return load_config(None, env=env, overrides={"outbound": section}, fleet_overlay=False).outbound
