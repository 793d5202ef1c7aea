"""The ACL, password file and broker config that ``analytics.broker`` renders, enforced by a real
Mosquitto: a device writes only its own topics and reads only its own and its group's desired
state; wrong or missing credentials are refused; rotation and removal take effect on reload; the
hub's ingest works through the ACL with its shared subscription."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from analytics.broker import service
from analytics.db import tables as t
from analytics.ingest import IngestWorker
from edge.sync import SyncAgent
from tests.analytics.broker.helpers import (
    BAD_CREDENTIALS,
    NOT_AUTHORIZED,
    PREFIX,
    Fleet,
    Probe,
    RenderedBroker,
    make_fleet,
)
from tests.support.device import record_sales, seeded_store
from tests.support.fixtures import make_config
from tests.support.hubdb import count, device
from tests.support.wait import wait_for

A, B, C = "s-001.till-1", "s-002.till-1", "s-001.till-2"  # A and C: group north, B: group south


@pytest.fixture
def fleet(tmp_path: Path, shared_dir: Path) -> Fleet:
    f = make_fleet(tmp_path, shared_dir)
    f.add("s-001", "till-1", "north")
    f.add("s-002", "till-1", "south")
    f.add("s-001", "till-2", "north")
    f.hub_password()
    return f


@pytest.fixture
def mosquitto(fleet: Fleet, shared_dir: Path) -> Iterator[RenderedBroker]:
    b = RenderedBroker(shared_dir / "state", fleet.settings).start()
    try:
        yield b
    finally:
        b.kill()


@pytest.fixture
def probes(mosquitto: RenderedBroker, fleet: Fleet) -> Iterator:
    made: list[Probe] = []

    def connect(username: str, password: str | None = None) -> Probe:
        p = Probe(mosquitto, username, password if password is not None else fleet.passwords[username])
        made.append(p)
        assert p.connect() == 0, f"{username} was refused"
        return p

    yield connect
    for p in made:
        p.close()


def topic(rest: str) -> str:
    return f"{PREFIX}/{rest}"


def test_a_device_cannot_write_another_devices_topics_or_the_hubs(probes) -> None:
    hub = probes("hub")
    hub.subscribe(topic("#"))
    a = probes(A)
    assert a.publish(topic("s-001/till-1/tx"), b"own sale") == 0
    assert a.publish(topic("s-001/till-1/credit"), b"own credit event") == 0
    forged = {
        "s-002/till-1/tx": False, "s-001/till-2/tx": False,  # another store's device, and its own store's other till
        "s-002/till-1/credit": False, "s-001/till-2/credit": False,  # customers and repayments of another till
        "s-002/till-1/status": True, "s-002/till-1/reported": True, "s-002/till-1/alert": False,
        "s-001/till-1/desired": True, "fleet/north/desired": True, "fleet/artifacts/abc123/0": True,
        "s-002/till-1/resend": False, "s-001/till-1/insights": True,
    }
    codes = {rest: a.publish(topic(rest), b"forged", retain=retain) for rest, retain in forged.items()}
    assert codes == dict.fromkeys(forged, NOT_AUTHORIZED)  # the broker tells the device: not authorised
    assert a.publish("elsewhere/x", b"forged") == NOT_AUTHORIZED
    # the broker delivers one sender's messages in order: once a last allowed message from the
    # device is in, anything forged that had been let through would be in before it
    assert a.publish(topic("s-001/till-1/status"), b"last") == 0
    wait_for(lambda: any(m[0] == topic("s-001/till-1/status") for m in hub.received()), 5, "the device's last message")
    assert hub.received() == [(topic("s-001/till-1/tx"), b"own sale", False),
                              (topic("s-001/till-1/credit"), b"own credit event", False),
                              (topic("s-001/till-1/status"), b"last", False)]
    # nothing forged was retained either: a fresh subscriber sees no retained message at all (the
    # broker sends retained messages right after the SUBACK, so before a message published after it)
    late = probes("hub")
    late.subscribe(topic("#"))
    assert hub.publish(topic("hub/marker"), b"after the subscription") in (0, 0x10)
    wait_for(lambda: late.received() != [], 5, "the marker")
    assert late.received() == [(topic("hub/marker"), b"after the subscription", False)]


def test_a_device_reads_only_its_own_and_its_groups_desired_state_and_the_artifacts(probes) -> None:
    hub = probes("hub")
    retained = ["s-001/till-1/desired", "s-001/till-1/insights", "s-002/till-1/desired", "s-002/till-1/insights",
                "s-001/till-2/desired", "fleet/north/desired", "fleet/south/desired", "fleet/artifacts/abc123/0"]
    for rest in retained:
        assert hub.publish(topic(rest), rest.encode(), retain=True) in (0, 0x10)
    a = probes(A)
    # explicit subscriptions to others' state, and wildcards: the broker may grant the SUBACK,
    # but it delivers only what the ACL lets the device read
    a.subscribe(topic("s-002/till-1/desired"), topic("fleet/south/desired"), topic("s-001/till-2/desired"),
                topic("s-002/till-1/tx"), topic("#"), "#")
    a.subscribe(topic("s-001/till-1/desired"), topic("fleet/north/desired"), topic("fleet/artifacts/#"),
                topic("s-001/till-1/resend"))
    live = ["s-002/till-1/resend", "s-002/till-1/desired", "fleet/south/desired", "s-001/till-1/resend",
            "s-002/till-1/tx", "s-001/till-2/insights", "fleet/artifacts/abc123/1"]
    for rest in live:
        hub.publish(topic(rest), rest.encode())
    allowed = {topic(r) for r in ("s-001/till-1/desired", "s-001/till-1/insights", "fleet/north/desired",
                                  "fleet/artifacts/abc123/0", "s-001/till-1/resend", "fleet/artifacts/abc123/1")}
    wait_for(lambda: {m[0] for m in a.received()} >= allowed, 5, "the device's own and group state")
    time.sleep(0.3)
    got = {m[0] for m in a.received()}
    assert got == allowed, f"unexpected: {sorted(got - allowed)}"
    assert all(payload == t_.removeprefix(PREFIX + "/").encode() for t_, payload, _ in a.received())


def test_wrong_password_anonymous_and_unknown_users_are_refused(mosquitto: RenderedBroker, fleet: Fleet) -> None:
    attempts = {"wrong password": (A, "not-the-password-at-all"),
                "another device's password": (A, fleet.passwords[B]),
                "anonymous": (None, None),
                "unknown user": ("s-009.till-1", fleet.passwords[A])}
    for what, (user, password) in attempts.items():
        p = Probe(mosquitto, user, password)
        try:
            assert p.connect() in (BAD_CREDENTIALS, NOT_AUTHORIZED), what
        finally:
            p.close()


def test_rotating_or_removing_a_device_takes_effect_when_the_broker_reloads(
        probes, mosquitto: RenderedBroker, fleet: Fleet) -> None:
    a, b, c = probes(A), probes(B), probes(C)
    settings = replace(fleet.settings, reload_command=("kill", "-HUP", str(mosquitto.proc.pid)))
    issued, _ = service.rotate_device(fleet.engine, settings, "s-001", "till-1")
    service.remove_device(fleet.engine, settings, "s-002", "till-1")
    assert service.reload_broker(settings)
    assert a.disconnected.wait(5) and b.disconnected.wait(5)  # logged in with credentials no longer valid
    for user, password in ((A, fleet.passwords[A]), (B, fleet.passwords[B])):
        p = Probe(mosquitto, user, password)
        assert p.connect() in (BAD_CREDENTIALS, NOT_AUTHORIZED)
        p.close()
    assert probes(A, issued.password).publish(topic("s-001/till-1/tx"), b"x") in (0, 0x10)
    assert not c.disconnected.is_set() and c.publish(topic("s-001/till-2/tx"), b"y") in (0, 0x10)


def test_ingest_and_sync_agent_work_through_the_acl(tmp_path: Path, mosquitto: RenderedBroker, fleet: Fleet) -> None:
    hub_cfg = make_config(mosquitto, tmp_path, username="hub", password=fleet.passwords["hub"])
    assert hub_cfg.hub.database_url == fleet.db_url
    worker = IngestWorker(hub_cfg.hub.database_url, hub_cfg.mqtt, client_id="hub-acl", settings=hub_cfg.hub)
    worker.start()
    dev_cfg = make_config(mosquitto, tmp_path, username=A, password=fleet.passwords[A])
    store = seeded_store(tmp_path / "device" / "store.db")
    agent = SyncAgent(store, dev_cfg)
    try:
        wait_for(worker.ready.is_set, 10, "the broker granted the ingest worker's subscriptions")
        agent.start()
        assert record_sales(store, 5) == 5
        wait_for(lambda: count(fleet.engine, t.transactions) == 5 and store.outbox.backlog() == 0, 15,
                 "five sales stored at the hub")
        wait_for(lambda: (device(fleet.engine, "s-001", "till-1") or {}).get("online"), 5, "the device's status")
        assert count(fleet.engine, t.dead_letters) == 0
    finally:
        agent.stop()
        worker.stop()
        store.close()


def test_a_device_configured_as_another_cannot_deliver_as_it(tmp_path: Path, mosquitto: RenderedBroker,
                                                             fleet: Fleet) -> None:
    hub_cfg = make_config(mosquitto, tmp_path, username="hub", password=fleet.passwords["hub"])
    worker = IngestWorker(hub_cfg.hub.database_url, hub_cfg.mqtt, client_id="hub-acl", settings=hub_cfg.hub)
    worker.start()
    # B's credentials, but A's store and device ids: every sale is refused and stays in the outbox
    dev_cfg = make_config(mosquitto, tmp_path, username=B, password=fleet.passwords[B])
    store = seeded_store(tmp_path / "device" / "store.db")
    agent = SyncAgent(store, dev_cfg)
    try:
        wait_for(worker.ready.is_set, 10, "the broker granted the ingest worker's subscriptions")
        agent.start()
        record_sales(store, 3)
        wait_for(lambda: agent.published >= 3, 10, "the agent tried")
        time.sleep(0.5)
        assert store.outbox.backlog() == 3 and agent.acked == 0
        assert count(fleet.engine, t.transactions) == 0
    finally:
        agent.stop()
        worker.stop()
        store.close()
