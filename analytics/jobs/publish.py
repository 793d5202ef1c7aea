"""Publish a store's insights, retained with QoS 1, on ``{prefix}/{store}/{device}/insights`` for
every device of the store (those the broker has heard from, ``devices``, and those registered,
``device_registry``), so a till that connects later still gets the latest."""

from __future__ import annotations

import json
import logging
import socket
import threading
from typing import Any

from sqlalchemy import Engine, select

from analytics.db import fleet_tables as fleet
from analytics.db import tables as t
from contracts import ContractError, topics, validate
from contracts.validation import INSIGHTS
from firmware_config.schema import MqttConfig
from runtime.mqtt import new_client

log = logging.getLogger(__name__)


class PublishError(RuntimeError):
    """The broker could not be reached or did not acknowledge every message."""


def store_devices(engine: Engine, store_id: str) -> list[str]:
    with engine.connect() as conn:
        heard = set(conn.execute(select(t.devices.c.device_id).where(t.devices.c.store_id == store_id)).scalars())
        registered = set(conn.execute(select(fleet.device_registry.c.device_id)
                                      .where(fleet.device_registry.c.store_id == store_id)).scalars())
    return sorted(heard | registered)


def insights_topic(prefix: str, store_id: str, device_id: str) -> str:
    return topics.device_topic(prefix, store_id, device_id, topics.INSIGHTS)


def publish_documents(mq: MqttConfig, messages: list[tuple[str, dict[str, Any]]], client_id: str | None = None,
                      timeout_s: float = 15.0) -> list[str]:
    """Publish each (topic, document) retained with QoS 1 and wait for every PUBACK."""
    if not messages:
        return []
    client = new_client(client_id or f"hub-insights-{socket.gethostname()}"[:128], mq)
    connected = threading.Event()
    failure: list[str] = []

    def on_connect(c: Any, userdata: Any, flags: Any, reason: Any, props: Any = None) -> None:
        if getattr(reason, "is_failure", False):
            failure.append(str(reason))
        connected.set()

    client.on_connect = on_connect
    try:
        client.connect(mq.host, mq.port, keepalive=mq.keepalive_s)
    except OSError as exc:
        raise PublishError(f"cannot reach the MQTT broker at {mq.host}:{mq.port}: {exc}") from None
    client.loop_start()
    try:
        if not connected.wait(timeout_s) or failure:
            raise PublishError(f"the MQTT broker refused the connection: {failure[0] if failure else 'timeout'}")
        infos = [(topic, client.publish(topic, json.dumps(doc, separators=(",", ":")), qos=1, retain=True))
                 for topic, doc in messages]
        done = []
        for topic, info in infos:
            info.wait_for_publish(timeout_s)
            if not info.is_published():
                raise PublishError(f"no PUBACK for {topic} within {timeout_s} s")
            done.append(topic)
        return done
    finally:
        client.disconnect()
        client.loop_stop()


def publish_insights(engine: Engine, mq: MqttConfig, store_id: str, doc: dict[str, Any],
                     client_id: str | None = None) -> list[str]:
    """Publish ``doc`` (checked against ``tillsight.insights/1`` first) to every device of ``store_id``;
    returns the topics (empty: no devices)."""
    try:
        validate(INSIGHTS, doc)
    except ContractError as exc:
        raise PublishError(f"the insights document breaks its contract, not published: {exc}") from None
    devices = store_devices(engine, store_id)
    if not devices:
        log.info("insights for %s not published: the store has no devices", store_id)
        return []
    topics = publish_documents(mq, [(insights_topic(mq.topic_prefix, store_id, d), doc) for d in devices], client_id)
    log.info("insights for %s published to %d devices", store_id, len(topics))
    return topics
