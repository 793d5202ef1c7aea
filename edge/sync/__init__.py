"""The device's MQTT sync agent: drains the outbox to the broker (QoS 1, marked sent on PUBACK),
keeps a retained online/offline status with a Last Will, publishes telemetry, and re-queues sales
the hub asks for again.  Runs as its own process: ``tillsight sync run``."""

from contracts.topics import DeviceTopics
from edge.sync.agent import SyncAgent

__all__ = ["DeviceTopics", "SyncAgent"]
