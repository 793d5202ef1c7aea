"""The MQTT client factory and SUBACK-aware subscriptions, against a real Mosquitto."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from firmware_config import load_config
from firmware_config.schema import MqttConfig
from runtime.mqtt import Subscriptions, Will, new_client, reconnect_delays
from tests.support.mosquitto import MosquittoBroker
from tests.support.wait import wait_for


def mqtt_config(host: str = "127.0.0.1", port: int = 1883, **settings: object) -> MqttConfig:
    return load_config(None, env={}, overrides={"mqtt": {"host": host, "port": port, **settings}}).mqtt


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_reconnect_delays_follow_the_configuration() -> None:
    assert reconnect_delays(mqtt_config(reconnect_min_s=5, reconnect_max_s=90)) == (5, 90)
    assert reconnect_delays(mqtt_config(reconnect_min_s=0.1, reconnect_max_s=1)) == (1, 1)  # paho counts seconds
    assert reconnect_delays(mqtt_config(reconnect_min_s=2.5, reconnect_max_s=2.5)) == (3, 3)


def test_a_client_waits_reconnect_min_s_between_attempts() -> None:
    """The hub's old factory passed min(1, reconnect_min_s): every retry came after 1 s whatever the setting."""
    mq = mqtt_config(port=free_port(), reconnect_min_s=2, reconnect_max_s=60)  # nobody listens there
    client = new_client("retry-probe", mq)
    attempts: list[float] = []
    client.on_connect_fail = lambda *args: attempts.append(time.monotonic())
    client.connect_async(mq.host, mq.port)
    client.loop_start()
    try:
        wait_for(lambda: len(attempts) >= 2, 10, "two connection attempts")
    finally:
        client.loop_stop()
    assert attempts[1] - attempts[0] >= 1.9


def test_credentials_and_last_will_come_from_the_factory(broker: MosquittoBroker) -> None:
    mq = mqtt_config(broker.host, broker.port)
    watcher = new_client("will-watcher", mq)
    subs = Subscriptions([("wills/#", 1)], name="watcher")
    subs.attach(watcher)
    wills: list[bytes] = []
    watcher.on_connect = lambda c, *args: subs.subscribe(c)
    watcher.on_message = lambda c, u, msg: wills.append(bytes(msg.payload))
    watcher.connect(mq.host, mq.port)
    watcher.loop_start()
    dying = new_client("dying", mq, will=Will("wills/dying", b"offline", retain=False))
    connected = threading.Event()
    dying.on_connect = lambda *args: connected.set()
    try:
        assert subs.wait(10), "the watcher's subscription was not granted"
        dying.connect(mq.host, mq.port, keepalive=5)
        dying.loop_start()
        assert connected.wait(10)
        dying.loop_stop()
        dying.socket().close()  # vanish without a DISCONNECT: the broker publishes the Last Will
        wait_for(lambda: wills == [b"offline"], 20, "the Last Will")
    finally:
        watcher.loop_stop()


def test_subscriptions_are_ready_only_after_the_suback_and_again_after_a_reconnect(broker: MosquittoBroker) -> None:
    mq = mqtt_config(broker.host, broker.port, reconnect_min_s=1, reconnect_max_s=1)
    client = new_client("subscriber", mq)
    subs = Subscriptions([("a/#", 1), ("$share/g/b/+", 1)], name="subscriber")
    subs.attach(client)
    connected = threading.Event()
    acks_seen_at_connect: list[int] = []

    def on_connect(c: mqtt.Client, *args: object) -> None:
        subs.subscribe(c)
        acks_seen_at_connect.append(subs.granted)
        assert not subs.ready.is_set()  # connected, but nothing granted yet
        connected.set()

    client.on_connect = on_connect
    client.on_disconnect = lambda *args: subs.lost()
    client.connect(mq.host, mq.port, clean_start=True)
    client.loop_start()
    try:
        assert connected.wait(10)
        assert subs.wait(10) and subs.granted == 1 and subs.refused == []
        connected.clear()
        broker.kill()
        wait_for(lambda: not subs.ready.is_set(), 10, "readiness cleared on the disconnect")
        broker.start()
        assert connected.wait(20), "no reconnect"
        assert subs.wait(10), "the subscriptions were not made again on the reconnect"
        assert subs.granted == 2 and acks_seen_at_connect == [0, 1]
    finally:
        client.loop_stop()


class _FakeClient:
    def __init__(self) -> None:
        self.sent: list[list[tuple[str, int]]] = []

    def subscribe(self, topics: list[tuple[str, int]]) -> tuple[int, int]:
        self.sent.append(topics)
        return mqtt.MQTT_ERR_SUCCESS, len(self.sent)


def test_a_refused_subscription_keeps_the_client_not_ready(caplog: pytest.LogCaptureFixture) -> None:
    client = _FakeClient()
    subs = Subscriptions([("mine/#", 1), ("theirs/#", 1)], name="ingest")
    subs.subscribe(client)  # type: ignore[arg-type]
    granted, refused = ReasonCode(PacketTypes.SUBACK, identifier=1), ReasonCode(PacketTypes.SUBACK, "Not authorized")
    subs.on_subscribe(None, None, 99, [granted, granted], None)  # type: ignore[arg-type] - another SUBACK
    assert not subs.ready.is_set()
    subs.on_subscribe(None, None, 1, [granted, refused], None)  # type: ignore[arg-type]
    assert not subs.ready.is_set()
    assert subs.refused == [("theirs/#", "Not authorized")]
    assert "the broker refused theirs/# (Not authorized)" in caplog.text
    subs.subscribe(client)  # the next connection tries again, from scratch
    subs.on_subscribe(None, None, 2, [granted, granted], None)  # type: ignore[arg-type]
    assert subs.ready.is_set() and subs.refused == []
    assert client.sent == [[("mine/#", 1), ("theirs/#", 1)]] * 2


def test_no_topics_is_ready_at_once() -> None:
    subs = Subscriptions()
    subs.subscribe(_FakeClient())  # type: ignore[arg-type]
    assert subs.ready.is_set()

