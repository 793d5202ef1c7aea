"""The hub's fleet messages on the broker: artifact chunks and ``desired`` documents, all retained
QoS 1, each waited on until the broker's PUBACK (a refused PUBACK, e.g. an ACL denial, is an
error, not a silent drop).

Topics (under ``mqtt.topic_prefix``): ``fleet/artifacts/{sha256}/{index}`` (raw bytes of one
chunk), ``{store}/{device}/desired`` and ``fleet/{group}/desired`` (``tillsight.desired/1``).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy import Engine

import contracts
from analytics.fleet import desired
from analytics.fleet.errors import FleetError
from analytics.fleet.manifests import chunk_count
from contracts import topics
from firmware_config.schema import MqttConfig
from runtime.mqtt import new_client

log = logging.getLogger(__name__)

Message = tuple[str, bytes]


class RetainedSink(Protocol):
    """Where retained fleet messages go (the broker, through :class:`FleetPublisher`)."""

    prefix: str

    def publish_retained(self, messages: Sequence[Message]) -> None: ...


def chunk_topic(prefix: str, sha256: str, index: int) -> str:
    return topics.artifact_chunk(prefix, sha256, index)


def device_desired_topic(prefix: str, store_id: str, device_id: str) -> str:
    return topics.device_topic(prefix, store_id, device_id, topics.DESIRED)


def group_desired_topic(prefix: str, group: str) -> str:
    return topics.group_desired(prefix, group)


class FleetPublisher:
    """One MQTT v5 connection of the hub's fleet commands (credentials and TLS from ``mqtt``)."""

    def __init__(self, mq: MqttConfig, client_id: str | None = None, timeout_s: float = 60.0) -> None:
        self.mq = mq
        self.prefix = mq.topic_prefix
        self.timeout_s = timeout_s
        self.client_id = client_id or f"hub-fleet-{socket.gethostname()}-{os.getpid()}"[:128]
        self._client: mqtt.Client | None = None
        self._connected = threading.Event()
        self._connect_error: str | None = None
        self._failed: dict[int, str] = {}
        self._lock = threading.Lock()

    # --- connection -------------------------------------------------------------------------------

    def connect(self) -> FleetPublisher:
        client = new_client(self.client_id, self.mq)
        client.max_inflight_messages_set(64)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        where = f"{self.mq.host}:{self.mq.port}"
        try:
            client.connect(self.mq.host, self.mq.port, keepalive=self.mq.keepalive_s)
        except (OSError, ValueError) as exc:
            raise FleetError(f"cannot reach the broker at {where}: {exc}") from None
        client.loop_start()
        self._client = client
        if not self._connected.wait(min(self.timeout_s, 30.0)) or self._connect_error:
            reason = self._connect_error or "no answer"
            self.close()
            raise FleetError(f"the broker at {where} did not accept the fleet publisher: {reason}")
        return self

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.disconnect()
            finally:
                self._client.loop_stop()
                self._client = None
            self._connected.clear()

    def __enter__(self) -> FleetPublisher:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: ReasonCode,
                    properties: Any) -> None:
        if reason_code.is_failure:
            self._connect_error = str(reason_code)
        else:
            self._connect_error = None
        self._connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: ReasonCode,
                       properties: Any) -> None:
        if reason_code.is_failure:
            log.warning("fleet publisher disconnected: %s", reason_code)

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason_code: ReasonCode,
                    properties: Any) -> None:
        if reason_code.is_failure:
            with self._lock:
                self._failed[mid] = str(reason_code)

    # --- publishing -------------------------------------------------------------------------------

    def publish_retained(self, messages: Sequence[Message]) -> None:
        """Publish each (topic, payload) retained with QoS 1 and wait for every PUBACK."""
        if self._client is None:
            raise FleetError("the fleet publisher is not connected")
        sent: list[tuple[str, mqtt.MQTTMessageInfo]] = []
        for topic, payload in messages:
            info = self._client.publish(topic, payload, qos=1, retain=True)
            if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
                raise FleetError(f"cannot publish {topic}: {mqtt.error_string(info.rc)}")
            sent.append((topic, info))
        for topic, info in sent:  # the timeout runs from the previous acknowledgement
            try:
                info.wait_for_publish(self.timeout_s)
            except (RuntimeError, ValueError) as exc:
                raise FleetError(f"publishing {topic}: {exc}") from None
            if not info.is_published():
                raise FleetError(f"the broker did not acknowledge {topic} within {self.timeout_s:.0f}s "
                                 f"({len(sent)} messages sent); is it reachable?")
            with self._lock:
                failure = self._failed.pop(info.mid, None)
            if failure is not None:
                raise FleetError(f"the broker refused {topic}: {failure} (check the hub user's ACL)")


def publish_chunks(sink: RetainedSink, sha256: str, data: bytes, chunk_size: int) -> int:
    """Publish an artifact as retained chunks; returns the number of chunks."""
    count = chunk_count(len(data), chunk_size)
    messages = [(chunk_topic(sink.prefix, sha256, i), data[i * chunk_size:(i + 1) * chunk_size])
                for i in range(count)]
    sink.publish_retained(messages)
    log.info("published artifact %s: %d bytes in %d chunks of %d", sha256[:12], len(data), count, chunk_size)
    return count


def publish_desired(engine: Engine, sink: RetainedSink, devices: Iterable[tuple[str, str]],
                    groups: Iterable[str], now: datetime) -> int:
    """Recompute the desired documents of these devices and groups from the database and publish
    them; returns the number of documents published."""
    messages: list[Message] = []
    with engine.connect() as conn:
        for store_id, device_id in sorted(set(devices)):
            doc = desired.desired_document(desired.device_manifests(conn, store_id, device_id), now)
            messages.append((device_desired_topic(sink.prefix, store_id, device_id), _encode(doc)))
        for group in sorted(set(groups)):
            doc = desired.desired_document(desired.group_manifests(conn, group), now)
            messages.append((group_desired_topic(sink.prefix, group), _encode(doc)))
    if messages:
        sink.publish_retained(messages)
        log.info("published %d desired document(s)", len(messages))
    return len(messages)


def republish_all(engine: Engine, sink: RetainedSink, now: datetime) -> int:
    """Publish the desired document of every device and group any deployment has reached (after a
    broker lost its retained messages, or when a publish failed half-way)."""
    with engine.connect() as conn:
        devices, groups = desired.released_devices(conn), desired.deployed_groups(conn)
    return publish_desired(engine, sink, devices, groups, now)


def _encode(doc: dict[str, Any]) -> bytes:
    contracts.validate(desired.DESIRED_SCHEMA, doc)
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")
