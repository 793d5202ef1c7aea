"""The demo's broker runs as production does (issue 26, ``analytics.broker.demo``): a real Mosquitto
started from the configuration ``tillsight demo`` writes refuses anonymous clients, and a device can
neither read another store's retained insights nor publish as another device."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics.broker.demo import DemoBroker, DemoDevice, prepare_demo_broker
from analytics.db import make_engine, migrate
from tests.analytics.broker.helpers import BAD_CREDENTIALS, NOT_AUTHORIZED, PREFIX, Probe
from tests.support.mosquitto import MosquittoBroker, free_port, mosquitto_available
from tests.support.wait import wait_for

pytestmark = pytest.mark.skipif(not mosquitto_available(), reason="mosquitto is not installed")

OURS, THEIRS = ("s-001", "till-1"), ("s-002", "till-1")
REFUSED = (BAD_CREDENTIALS, NOT_AUTHORIZED)  # Mosquitto answers a wrong password with either


class DemoMosquitto(MosquittoBroker):
    """Mosquitto started from the demo's own ``mosquitto.conf``."""

    def __init__(self, tmp_dir: Path, port: int, conf: Path) -> None:
        super().__init__(tmp_dir, port=port)
        self.demo_conf = conf

    def config_text(self) -> str:
        return self.demo_conf.read_text()


def _prepare(tmp_path: Path, port: int) -> DemoBroker:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    try:
        return prepare_demo_broker(engine, tmp_path / "broker", PREFIX, port,
                                   [DemoDevice(*OURS), DemoDevice(*THEIRS)], tmp_path / "mosquitto.log")
    finally:
        engine.dispose()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[DemoBroker, DemoMosquitto]]:
    port = free_port()
    prepared = _prepare(tmp_path, port)
    broker = DemoMosquitto(tmp_path / "run", port, prepared.conf).start()
    yield prepared, broker
    broker.kill()


@pytest.fixture
def connect(demo: tuple[DemoBroker, DemoMosquitto]) -> Iterator:
    made: list[Probe] = []

    def _connect(username: str | None, password: str | None) -> Probe:
        probe = Probe(demo[1], username, password)
        made.append(probe)
        return probe

    yield _connect
    for probe in made:
        probe.close()


def topic(store_device: tuple[str, str], leaf: str) -> str:
    return f"{PREFIX}/{store_device[0]}/{store_device[1]}/{leaf}"


def test_anonymous_clients_and_wrong_passwords_are_refused(demo, connect) -> None:
    prepared, _ = demo
    assert connect(None, None).refused()
    ours = prepared.device(*OURS)
    assert connect(ours.username, "not-the-password").connect() in REFUSED
    assert connect(ours.username, ours.password).connect() == 0
    assert connect(prepared.hub.username, prepared.hub.password).connect() == 0


def test_a_device_cannot_read_another_stores_retained_insights(demo, connect) -> None:
    prepared, _ = demo
    hub = connect(prepared.hub.username, prepared.hub.password)
    assert hub.connect() == 0
    for who in (OURS, THEIRS):
        assert hub.publish(topic(who, "insights"), f"insights of {who[0]}".encode(), retain=True) in (0, 0x10)
    ours = prepared.device(*OURS)
    device = connect(ours.username, ours.password)
    assert device.connect() == 0
    device.subscribe(topic(THEIRS, "insights"), f"{PREFIX}/#", "#")
    device.subscribe(topic(OURS, "insights"))  # its own: retained messages come right after this SUBACK
    wait_for(lambda: any(t == topic(OURS, "insights") for t, _, _ in device.received()), 5, "its own insights")
    assert all(t != topic(THEIRS, "insights") for t, _, _ in device.received()), device.received()
    assert b"insights of s-002" not in b"".join(p for _, p, _ in device.received())


def test_a_device_cannot_publish_as_another_device(demo, connect) -> None:
    prepared, _ = demo
    hub = connect(prepared.hub.username, prepared.hub.password)
    assert hub.connect() == 0
    hub.subscribe(f"{PREFIX}/#")
    ours = prepared.device(*OURS)
    device = connect(ours.username, ours.password)
    assert device.connect() == 0
    assert device.publish(topic(THEIRS, "tx"), b"forged sale") == NOT_AUTHORIZED
    assert device.publish(topic(THEIRS, "status"), b"forged status", retain=True) == NOT_AUTHORIZED
    assert device.publish(topic(OURS, "tx"), b"own sale") == 0
    wait_for(lambda: hub.received() != [], 5, "the device's own sale")
    assert hub.received() == [(topic(OURS, "tx"), b"own sale", False)]


def test_a_restart_issues_new_passwords_and_the_old_ones_stop_working(tmp_path: Path) -> None:
    port = free_port()
    first = _prepare(tmp_path, port)
    second = _prepare(tmp_path, port)  # the next `make demo`
    assert second.device(*OURS).password != first.device(*OURS).password
    broker = DemoMosquitto(tmp_path / "run", port, second.conf).start()
    try:
        old = Probe(broker, first.device(*OURS).username, first.device(*OURS).password)
        new = Probe(broker, second.device(*OURS).username, second.device(*OURS).password)
        assert old.connect() in REFUSED and new.connect() == 0
        old.close()
        new.close()
    finally:
        broker.kill()
