"""The MQTT client factory both sides use, and subscriptions that are ready only after their SUBACK.

:func:`new_client` makes a paho MQTT v5 client from ``MqttConfig``: credentials, TLS, the reconnect
delays (``reconnect_min_s`` .. ``reconnect_max_s``, whole seconds) and, when given, a Last Will.  The
device's sync agent, the hub's ingest workers, the fleet publisher and the insights publisher all get
their client here, so a broker setting means the same thing on every side.

:class:`Subscriptions` is Home Assistant's model of a subscription: it is made again on every
(re)connect, and it is *ready* only once the broker's SUBACK for it came back granting it.  A client
that says "connected" before that may miss the first messages (a shared-subscription group with no
granted member makes the broker answer PUBACK "no matching subscribers").  ``ready`` is an event a
process (and a test) waits on; it is cleared on every disconnect.
"""

from __future__ import annotations

import logging
import math
import ssl
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from firmware_config.schema import MqttConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Will:
    """The message the broker publishes for a client that vanishes (the retained ``status``)."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


def reconnect_delays(mq: MqttConfig) -> tuple[int, int]:
    """paho's reconnect delays in whole seconds: ``reconnect_min_s`` rounded up (at least 1), and
    ``reconnect_max_s`` rounded up (never below the minimum)."""
    low = max(1, math.ceil(mq.reconnect_min_s))
    return low, max(low, math.ceil(mq.reconnect_max_s))


def configure_client(client: mqtt.Client, mq: MqttConfig) -> None:
    """Credentials, TLS and reconnect delays from the configuration."""
    if mq.username:
        client.username_pw_set(mq.username, mq.password.get_secret_value() if mq.password else None)
    if mq.tls.enabled:
        client.tls_set(ca_certs=str(mq.tls.ca_file) if mq.tls.ca_file else None,
                       certfile=str(mq.tls.cert_file) if mq.tls.cert_file else None,
                       keyfile=str(mq.tls.key_file) if mq.tls.key_file else None,
                       cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    low, high = reconnect_delays(mq)
    client.reconnect_delay_set(low, high)


def new_client(client_id: str, mq: MqttConfig, *, manual_ack: bool = False, will: Will | None = None,
               max_inflight: int | None = None) -> mqtt.Client:
    """A paho MQTT v5 client (callback API 2) configured from ``mq``; nothing is connected yet."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5,
                         manual_ack=manual_ack)
    configure_client(client, mq)
    if will is not None:
        client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
    if max_inflight is not None:
        client.max_inflight_messages_set(max_inflight)
    return client


class Subscriptions:
    """Topic filters a client keeps subscribed, and whether the broker has granted every one.

    Call :meth:`subscribe` from the client's ``on_connect`` (every connection, since a broker that
    lost its state has forgotten them), :meth:`attach` once so SUBACKs reach :meth:`on_subscribe`,
    and :meth:`lost` from ``on_disconnect``.  ``ready`` is set when the SUBACKs for the latest
    connection's subscriptions have all come back granted; a refused one (an ACL, a bad filter) is
    logged and keeps ``ready`` clear.
    """

    def __init__(self, topics: Iterable[tuple[str, int]] = (), *, name: str = "mqtt client") -> None:
        self.name = name
        self.topics: list[tuple[str, int]] = list(topics)
        self.ready = threading.Event()
        self.refused: list[tuple[str, str]] = []  # (topic filter, the broker's reason) of the last SUBACK
        self.granted = 0  # SUBACKs that granted everything they answered, since start
        self._pending: dict[int, list[str]] = {}
        self._lock = threading.Lock()

    def add(self, topic: str, qos: int = 1) -> None:
        """One more filter, subscribed from the next connection on."""
        self.topics.append((topic, qos))

    def attach(self, client: mqtt.Client) -> None:
        client.on_subscribe = self.on_subscribe

    def subscribe(self, client: mqtt.Client) -> None:
        """Subscribe to every topic (one SUBSCRIBE packet); ``ready`` waits for its SUBACK."""
        with self._lock:
            self.ready.clear()
            self._pending.clear()
            self.refused = []
            if not self.topics:
                self.ready.set()
                return
            result, mid = client.subscribe(list(self.topics))
            if result != mqtt.MQTT_ERR_SUCCESS or mid is None:
                log.warning("%s: could not send its subscriptions (%s); they are made on the next connection",
                            self.name, result)
                return
            self._pending[mid] = [topic for topic, _ in self.topics]

    def on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: list[ReasonCode],
                     properties: Any) -> None:
        with self._lock:
            topics = self._pending.pop(mid, None)
            if topics is None:
                return  # a SUBACK of an earlier connection
            refused = [(topic, str(code)) for topic, code in zip(topics, reason_codes, strict=False)
                       if code.is_failure]
            if refused:
                self.refused.extend(refused)
                log.error("%s: the broker refused %s", self.name,
                          ", ".join(f"{topic} ({why})" for topic, why in refused))
                return
            self.granted += 1
            if not self._pending and not self.refused:
                log.debug("%s: every subscription granted", self.name)
                self.ready.set()

    def lost(self) -> None:
        """The connection is gone: nothing is subscribed until the next SUBACK."""
        with self._lock:
            self.ready.clear()
            self._pending.clear()

    def wait(self, timeout_s: float | None = None) -> bool:
        return self.ready.wait(timeout_s)
