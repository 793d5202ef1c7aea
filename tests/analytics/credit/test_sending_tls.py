"""An e-mail reminder through a shop's own SMTP server whose certificate a private authority signed: with
``outbound.email.ca_file`` it is checked against that authority and arrives; without it the server is not
trusted, nothing is sent in clear and the failure is recorded with the reason."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from analytics.broker.certs import create_ca, issue_cert
from analytics.credit.sending.registry import build_senders
from analytics.credit.sending.service import ReminderService
from firmware_config import ConfigError
from tests.analytics.credit.outbound_servers import Mailbox, outbound_config, smtp_server
from tests.analytics.credit.support import NOW
from tests.analytics.credit.test_sending import OWNER, engine  # noqa: F401 - the shop's SQLite fixture


@pytest.fixture
def private_ca(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    ca = create_ca(tmp_path / "ca", common_name="Colmado Ana mail CA")
    files = issue_cert(ca, "mail", tmp_path / "ca", server=True, hosts=["127.0.0.1"])
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(files.cert, files.key)
    return tmp_path / "ca" / "ca.crt", server


@pytest.fixture
def tls_mailbox(private_ca: tuple[Path, ssl.SSLContext]) -> Iterator[Mailbox]:
    with smtp_server(tls=private_ca[1]) as box:
        yield box


def _service(db: Engine, mailbox: Mailbox, **email: object) -> ReminderService:
    cfg = outbound_config(mailbox, None, email={"security": "starttls", **email})
    return ReminderService(db, build_senders(cfg), cfg)


def test_a_reminder_goes_over_starttls_to_a_server_a_private_ca_signed(engine: Engine, tls_mailbox: Mailbox,  # noqa: F811
                                                                      private_ca: tuple[Path, ssl.SSLContext]) -> None:
    svc = _service(engine, tls_mailbox, ca_file=str(private_ca[0]))
    [out] = svc.send("s-cr", ["c-late"], tone="friendly", by=OWNER, key="k-tls", now=NOW, channel="email")
    assert out.status == "sent", out.reason
    assert tls_mailbox.arrived.wait(10) and tls_mailbox.envelopes[0][1] == ["luis@example.do"]


def test_without_the_authority_the_server_is_not_trusted(engine: Engine, tls_mailbox: Mailbox) -> None:  # noqa: F811
    svc = _service(engine, tls_mailbox)
    [out] = svc.send("s-cr", ["c-late"], tone="friendly", by=OWNER, key="k-untrusted", now=NOW, channel="email")
    assert out.status == "failed" and "certificate verify failed" in out.reason
    assert tls_mailbox.messages == []


def test_a_missing_authority_file_is_refused_naming_the_key(tmp_path: Path) -> None:
    with smtp_server() as box:
        with pytest.raises(ConfigError, match=r"outbound\.email.*ca_file"):
            outbound_config(box, None, email={"security": "starttls", "ca_file": str(tmp_path / "nope.pem")})
        with pytest.raises(ConfigError, match="ca_file needs security"):
            outbound_config(box, None, email={"ca_file": str(tmp_path / "nope.pem")})
