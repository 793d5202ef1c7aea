"""TLS with a test CA made by ``analytics.broker.certs``: the real sync agent delivers sales to a
real Mosquitto over TLS (also with a client certificate when the broker requires one), the ingest
reads them over TLS, and clients trusting another CA, or without the required certificate, are
refused."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from analytics.broker import certs
from analytics.broker.mosquitto_conf import TlsListener
from analytics.db import tables as t
from analytics.ingest import IngestWorker
from edge.sync import SyncAgent
from tests.analytics.broker.helpers import (
    BROKER_USER,
    ClientTls,
    Fleet,
    Probe,
    RenderedBroker,
    make_fleet,
)
from tests.support.device import record_sales, seeded_store
from tests.support.fixtures import make_config
from tests.support.hubdb import count
from tests.support.wait import wait_for

A = "s-001.till-1"


@dataclass(frozen=True)
class Pki:
    ca: certs.CertAuthority
    server: certs.CertFiles
    device: certs.CertFiles  # client certificate of s-001.till-1
    other_ca: certs.CertAuthority  # a CA the broker does not trust
    other_device: certs.CertFiles  # a client certificate from that CA


@pytest.fixture
def pki(tmp_path: Path, shared_dir: Path) -> Pki:
    ca = certs.create_ca(shared_dir / "ca")
    server = certs.issue_cert(ca, "broker", shared_dir / "tls", server=True, hosts=["127.0.0.1", "localhost"],
                              group=BROKER_USER)
    device = certs.issue_cert(ca, A, tmp_path / "device-tls")
    other = certs.create_ca(tmp_path / "other-ca", common_name="Someone else's CA")
    other_device = certs.issue_cert(other, A, tmp_path / "other-tls")
    return Pki(ca, server, device, other, other_device)


@pytest.fixture
def fleet(tmp_path: Path, shared_dir: Path) -> Fleet:
    f = make_fleet(tmp_path, shared_dir)
    f.add("s-001", "till-1")
    f.hub_password()
    return f


def tls_broker(shared_dir: Path, fleet: Fleet, pki: Pki, require_certificate: bool) -> RenderedBroker:
    listener = TlsListener(0, pki.ca.files.cert, pki.server.cert, pki.server.key,
                           require_certificate=require_certificate)
    return RenderedBroker(shared_dir / "state", fleet.settings, tls=listener).start()


@pytest.fixture
def tls_only(shared_dir: Path, fleet: Fleet, pki: Pki) -> Iterator[RenderedBroker]:
    b = tls_broker(shared_dir, fleet, pki, require_certificate=False)
    try:
        yield b
    finally:
        b.kill()


@pytest.fixture
def mutual_tls(shared_dir: Path, fleet: Fleet, pki: Pki) -> Iterator[RenderedBroker]:
    b = tls_broker(shared_dir, fleet, pki, require_certificate=True)
    try:
        yield b
    finally:
        b.kill()


def deliver_sales(tmp_path: Path, broker: RenderedBroker, fleet: Fleet, pki: Pki, client_cert: bool) -> None:
    """The hub's ingest and a device's sync agent, both over TLS; five sales must arrive."""
    tls = {"enabled": True, "ca_file": str(pki.ca.files.cert)}
    hub_tls = dict(tls)
    device_tls = dict(tls)
    if client_cert:
        hub = certs.issue_cert(pki.ca, "hub", tmp_path / "hub-tls")
        hub_tls.update(cert_file=str(hub.cert), key_file=str(hub.key))
        device_tls.update(cert_file=str(pki.device.cert), key_file=str(pki.device.key))
    hub_cfg = make_config(broker, tmp_path, username="hub", password=fleet.passwords["hub"], tls=hub_tls)
    dev_cfg = make_config(broker, tmp_path, username=A, password=fleet.passwords[A], tls=device_tls)
    worker = IngestWorker(hub_cfg.hub.database_url, hub_cfg.mqtt, client_id="hub-tls", settings=hub_cfg.hub)
    store = seeded_store(tmp_path / "device" / "store.db")
    agent = SyncAgent(store, dev_cfg)
    worker.start()
    try:
        wait_for(worker.ready.is_set, 10, "the ingest worker subscribed over TLS")
        agent.start()
        record_sales(store, 5)
        wait_for(lambda: count(fleet.engine, t.transactions) == 5 and store.outbox.backlog() == 0, 15,
                 "five sales delivered over TLS")
    finally:
        agent.stop()
        worker.stop()
        store.close()


def test_sync_agent_delivers_sales_over_tls_with_the_test_ca(tmp_path: Path, tls_only: RenderedBroker,
                                                             fleet: Fleet, pki: Pki) -> None:
    deliver_sales(tmp_path, tls_only, fleet, pki, client_cert=False)


def test_sync_agent_delivers_with_a_client_certificate_when_the_broker_requires_one(
        tmp_path: Path, mutual_tls: RenderedBroker, fleet: Fleet, pki: Pki) -> None:
    deliver_sales(tmp_path, mutual_tls, fleet, pki, client_cert=True)


def test_a_client_trusting_another_ca_is_refused_and_the_device_keeps_its_sales(
        tmp_path: Path, tls_only: RenderedBroker, fleet: Fleet, pki: Pki, caplog: pytest.LogCaptureFixture) -> None:
    probe = Probe(tls_only, A, fleet.passwords[A], tls=ClientTls(pki.other_ca.files.cert))
    with pytest.raises(ssl.SSLCertVerificationError):
        probe.connect()
    cfg = make_config(tls_only, tmp_path, username=A, password=fleet.passwords[A],
                      tls={"enabled": True, "ca_file": str(pki.other_ca.files.cert)})
    store = seeded_store(tmp_path / "device" / "store.db")
    agent = SyncAgent(store, cfg)
    agent.start()
    try:
        record_sales(store, 2)
        wait_for(lambda: sum("cannot reach broker" in r.getMessage() for r in caplog.records) >= 3, 30,
                 "several refused connection attempts")
        assert not agent.connected.is_set() and agent.connections == 0
        assert store.outbox.backlog() == 2
    finally:
        agent.stop()
        store.close()
    # and the right CA but plain MQTT on the TLS port gets nowhere either
    plain = Probe(tls_only, A, fleet.passwords[A])
    try:
        assert plain.refused(timeout_s=3)
    finally:
        plain.close()


def test_without_the_required_client_certificate_a_device_is_refused(mutual_tls: RenderedBroker, fleet: Fleet,
                                                                    pki: Pki) -> None:
    for what, tls in (("no certificate", ClientTls(pki.ca.files.cert)),
                      ("a certificate from another CA", ClientTls(pki.ca.files.cert, pki.other_device.cert,
                                                                   pki.other_device.key))):
        probe = Probe(mutual_tls, A, fleet.passwords[A], tls=tls)
        try:
            assert probe.refused(timeout_s=3), what
        finally:
            probe.close()
    ok = Probe(mutual_tls, A, fleet.passwords[A], tls=ClientTls(pki.ca.files.cert, pki.device.cert, pki.device.key))
    try:
        assert ok.connect() == 0
    finally:
        ok.close()
