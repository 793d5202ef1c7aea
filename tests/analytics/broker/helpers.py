"""Helpers for the broker security tests: a real Mosquitto running exactly the configuration,
password file and ACL that ``analytics.broker`` renders, and a small synchronous MQTT v5 probe."""

from __future__ import annotations

import grp
import os
import pwd
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine

from analytics.broker import service
from analytics.broker.mosquitto_conf import BrokerConf, TlsListener, render_conf
from analytics.broker.service import BrokerSettings
from analytics.db import make_engine, migrate
from tests.support.mosquitto import MosquittoBroker

PREFIX = "tillsight/v1"
NOT_AUTHORIZED = 0x87
BAD_CREDENTIALS = 0x86


def _mosquitto_user() -> str | None:
    """The user a root-started Mosquitto drops to (None when the tests do not run as root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("mosquitto")
        grp.getgrnam("mosquitto")
    except KeyError:
        return None
    return "mosquitto"


BROKER_USER = _mosquitto_user()


def broker_state_dir(path: Path) -> Path:
    """A folder the broker process may write (its log and persistence)."""
    path.mkdir(parents=True, exist_ok=True)
    if BROKER_USER:
        os.chown(path, pwd.getpwnam(BROKER_USER).pw_uid, grp.getgrnam(BROKER_USER).gr_gid)
    return path


class RenderedBroker(MosquittoBroker):
    """A test broker whose configuration is ``render_conf``'s output: a plain listener, or a TLS
    listener, on the free port the test harness picked."""

    def __init__(self, state_dir: Path, settings: BrokerSettings, tls: TlsListener | None = None) -> None:
        super().__init__(broker_state_dir(state_dir))
        self.settings = settings
        self.tls_listener = replace(tls, port=self.port) if tls else None

    def config_text(self) -> str:
        folder = self.settings.folder
        return render_conf(BrokerConf(password_file=folder.passwords.resolve(), acl_file=folder.acl.resolve(),
                                      plain_port=None if self.tls_listener else self.port,
                                      tls=self.tls_listener, persistence_dir=self.dir,
                                      log_dest=f"file {self.log_path}", autosave_interval_s=1))

    def reload(self) -> None:
        """SIGHUP, as ``systemctl reload mosquitto`` does: re-read the password file and ACL."""
        assert self.proc is not None
        self.proc.send_signal(1)


@dataclass
class Fleet:
    """A hub database with registered devices, their broker files, and the passwords issued."""

    settings: BrokerSettings
    engine: Engine
    db_url: str
    passwords: dict[str, str] = field(default_factory=dict)  # username -> password

    def add(self, store_id: str, device_id: str, group: str = "default") -> str:
        issued, _ = service.add_device(self.engine, self.settings, store_id, device_id, group)
        self.passwords[issued.device.mqtt_username] = issued.password
        return issued.device.mqtt_username

    def hub_password(self, user: str = "hub") -> str:
        secret, _ = service.set_hub_password(self.engine, self.settings, user)
        self.passwords[user] = secret
        return secret


def make_fleet(tmp_path: Path, shared_dir: Path, hub_users: tuple[str, ...] = ("hub",)) -> Fleet:
    settings = BrokerSettings(dir=shared_dir / "broker", prefix=PREFIX, hub_users=hub_users,
                              file_group=BROKER_USER, iterations=1000)
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = make_engine(url)
    migrate(engine)
    return Fleet(settings, engine, url)


@dataclass(frozen=True)
class ClientTls:
    ca_file: Path
    cert_file: Path | None = None
    key_file: Path | None = None


class Probe:
    """One MQTT v5 client, driven synchronously: connect, publish (returns the PUBACK reason code),
    subscribe (returns the SUBACK reason codes), and everything it received."""

    def __init__(self, broker: MosquittoBroker, username: str | None = None, password: str | None = None,
                 tls: ClientTls | None = None, client_id: str | None = None) -> None:
        self.broker = broker
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"probe-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)
        if username is not None:
            self.client.username_pw_set(username, password)
        if tls is not None:
            self.client.tls_set(ca_certs=str(tls.ca_file), certfile=str(tls.cert_file) if tls.cert_file else None,
                                keyfile=str(tls.key_file) if tls.key_file else None, cert_reqs=ssl.CERT_REQUIRED,
                                tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.reconnect_delay_set(30, 60)  # a test reconnects on purpose only
        self.messages: list[tuple[str, bytes, bool]] = []
        self.connack: int | None = None
        self.disconnected = threading.Event()
        self._connack = threading.Event()
        self._lock = threading.Lock()
        self._acks: dict[int, int] = {}
        self._subacks: dict[int, list[int]] = {}
        self._done = threading.Condition(self._lock)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe

    # callbacks (paho's thread)
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connack = reason_code.value
        self._connack.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.disconnected.set()

    def _on_message(self, client, userdata, msg) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._done:
            self._acks[mid] = reason_code.value
            self._done.notify_all()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        with self._done:
            self._subacks[mid] = [rc.value for rc in reason_codes]
            self._done.notify_all()

    def connect(self, timeout_s: float = 5.0) -> int | None:
        """The CONNACK reason code (0 = accepted), or None when the connection closed without one.
        A TLS failure in the handshake raises ``ssl.SSLError``."""
        self.client.connect(self.broker.host, self.broker.port, keepalive=10)
        self.client.loop_start()
        deadline = time.monotonic() + timeout_s
        while not self._connack.wait(0.05):
            if self.disconnected.is_set():
                break
            if time.monotonic() > deadline:
                raise TimeoutError("no CONNACK")
        if self.connack != 0:
            self.client.loop_stop()
        return self.connack

    def refused(self, timeout_s: float = 5.0) -> bool:
        """True when the broker does not let this client in (TLS failure, no CONNACK, or a refusal)."""
        try:
            return self.connect(timeout_s) != 0
        except (OSError, TimeoutError):  # ssl.SSLError is an OSError
            return True

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False, timeout_s: float = 5.0) -> int:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        with self._done:
            if not self._done.wait_for(lambda: info.mid in self._acks, timeout_s):
                raise TimeoutError(f"no PUBACK for {topic}")
            return self._acks[info.mid]

    def subscribe(self, *topics: str, timeout_s: float = 5.0) -> list[int]:
        _, mid = self.client.subscribe([(t, 1) for t in topics])
        with self._done:
            if not self._done.wait_for(lambda: mid in self._subacks, timeout_s):
                raise TimeoutError("no SUBACK")
            return self._subacks[mid]

    def received(self) -> list[tuple[str, bytes, bool]]:
        with self._lock:
            return list(self.messages)

    def close(self) -> None:
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()
