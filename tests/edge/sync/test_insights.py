"""The hub's insights reach the store dashboard through the sync agent (retained message)."""

from __future__ import annotations

import json
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from edge.sync import SyncAgent
from tests.support.device import seeded_store
from tests.support.fixtures import make_config
from tests.support.mosquitto import MosquittoBroker
from tests.support.wait import wait_for

pytestmark = pytest.mark.slow

TOPIC = "tillsight/v1/s-001/till-1/insights"


def _publish_retained(broker: MosquittoBroker, payload: bytes) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="hub-insights-test",
                         protocol=mqtt.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.publish(TOPIC, payload, qos=1, retain=True).wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


def test_retained_insights_are_stored_for_the_dashboard_and_junk_is_ignored(tmp_path: Path,
                                                                           broker: MosquittoBroker) -> None:
    cfg = make_config(broker, tmp_path)
    store = seeded_store(tmp_path / "device" / "store.db")
    insights = {"generated_at": "2026-11-21T06:00:00Z", "source": "computed",
                "headline": "Saturday sales up 12%", "items": [{"title": "Rice", "text": "Reorder 5 lb bags"}]}
    _publish_retained(broker, json.dumps(insights).encode())  # published before the device connects
    agent = SyncAgent(store, cfg)
    agent.start()
    try:
        wait_for(lambda: store.insights.latest() is not None, 20, "the insights on the device")
        got = store.insights.latest()
        assert got["headline"] == "Saturday sales up 12%" and got["items"] == insights["items"]
        _publish_retained(broker, b"not json at all")
        _publish_retained(broker, json.dumps({**insights, "headline": "Newer"}).encode())
        wait_for(lambda: store.insights.latest()["headline"] == "Newer", 20, "the newer insights")
    finally:
        agent.stop()
        store.close()
