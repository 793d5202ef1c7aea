"""A paho MQTT v5 client for a hub process: credentials and TLS from ``MqttConfig``."""

from __future__ import annotations

import ssl

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firmware_config.schema import MqttConfig


def new_client(client_id: str, mq: MqttConfig, manual_ack: bool = False) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5,
                         manual_ack=manual_ack)
    if mq.username:
        client.username_pw_set(mq.username, mq.password.get_secret_value() if mq.password else None)
    if mq.tls.enabled:
        client.tls_set(ca_certs=str(mq.tls.ca_file) if mq.tls.ca_file else None,
                       certfile=str(mq.tls.cert_file) if mq.tls.cert_file else None,
                       keyfile=str(mq.tls.key_file) if mq.tls.key_file else None,
                       cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.reconnect_delay_set(min(1, int(mq.reconnect_min_s) or 1), max(1, int(mq.reconnect_max_s)))
    return client
