"""``SyncAgent``: drains the outbox to the broker.

One paho client per connection attempt (MQTT v5, ``clean_start=False`` with a session expiry, so
the broker keeps the session and anything queued for the device).  Outbox rows are published with
QoS 1 through a window of at most ``mqtt.inflight_max`` unacknowledged messages and marked sent, in
batches, only after the broker's PUBACK.  A PUBACK saying "no matching subscribers" (the hub's
ingest has no subscription yet, e.g. right after a broker lost its state) is treated as not
delivered: the row stays pending and is tried again shortly.

Threads: ``run()`` (the agent's own loop: publishing, acks, telemetry, health) and paho's network
thread, which only appends to thread-safe queues and sets events.
"""

from __future__ import annotations

import collections
import json
import logging
import ssl
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from contracts import validate
from contracts.timestamps import utc_now_text
from contracts.topics import DeviceTopics
from contracts.validation import STATUS
from edge.fleet.agent import FleetAgent
from edge.store import Store
from edge.store.errors import StoreError
from edge.store.outbox import OutboxMessage
from edge.sync import resend, telemetry
from edge.sync.gallery_sync import GallerySync
from edge.sync.health import BacklogMonitor, HealthAlerts
from firmware_config.schema import TillsightConfig
from runtime.backoff import Backoff
from runtime.mqtt import Subscriptions, Will, new_client

log = logging.getLogger(__name__)

NO_MATCHING_SUBSCRIBERS = 0x10
TICK_S = 0.1
HEALTH_EVERY_S = 1.0
CONNECT_TIMEOUT_S = 15.0
MARK_DELAY_S = 0.05


def _json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def status_payload(state: str, reason: str) -> bytes:
    """The retained ``tillsight.status/1`` document (also the Last Will)."""
    doc = {"schema": STATUS, "state": state, "at": utc_now_text(), "reason": reason}
    validate(STATUS, doc)
    return _json(doc)


class SyncAgent:
    def __init__(self, store: Store, cfg: TillsightConfig) -> None:
        missing = cfg.mqtt.tls.missing_files()
        if missing:
            raise ValueError("; ".join(missing))
        self.store = store
        self.cfg = cfg
        self.mq = cfg.mqtt
        self.topics = DeviceTopics(self.mq.topic_prefix, cfg.store.store_id, cfg.store.device_id)
        self.client_id = self.mq.client_id or f"{cfg.store.store_id}-{cfg.store.device_id}"
        self.window = self.mq.inflight_max
        self.backoff = Backoff(self.mq.reconnect_min_s, self.mq.reconnect_max_s)
        self.monitor = BacklogMonitor(self.mq.backlog_alert_count, self.mq.backlog_alert_age_s)
        self.health = HealthAlerts(store, cfg.store.store_id, cfg.store.device_id, self.monitor, utc_now_text())
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lost = threading.Event()
        self._acks: collections.deque[tuple[int, int]] = collections.deque()  # (mid, reason code)
        self._resends: collections.deque[bytes] = collections.deque()
        self._insights: collections.deque[bytes] = collections.deque()
        self._mid_to_id: dict[int, int] = {}
        self._inflight: set[int] = set()
        self._unmarked: list[int] = []
        self._first_unmarked_at = 0.0
        self._hold_until = 0.0
        self._next_telemetry = 0.0
        self._next_health = 0.0
        self._thread: threading.Thread | None = None
        self.published = 0
        self.acked = 0
        self.connections = 0
        self.on_tick: Callable[[], None] | None = None  # every turn of the loop (the service watchdog)
        # The fleet-update agent shares this connection (raises ValueError on unreadable keys/state).
        self.fleet = FleetAgent(cfg, self.topics) if cfg.fleet.enabled else None
        # The store gallery goes to the hub on the same connection, after the sales (edge/sync/gallery_sync.py).
        self.gallery = GallerySync(Path(cfg.data_dir) / "gallery", Path(cfg.data_dir) / "sync" / "gallery.json",
                                   self.topics)
        # What the hub sends the device; re-made on every connection, ready once the broker granted it.
        self.subscriptions = Subscriptions([(self.topics.resend, 1), (self.topics.insights, 1)], name="sync agent")
        if self.fleet is not None:
            for topic in self.fleet.subscriptions():
                self.subscriptions.add(topic, 1)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="sync-agent", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def run(self) -> None:
        """Connect, drain, reconnect with back-off; until ``request_stop``."""
        log.info("sync agent %s -> %s:%s (%s)", self.client_id, self.mq.host, self.mq.port, self.topics.prefix)
        if self.fleet is not None:
            self.fleet.start()
        try:
            self._connect_loop()
        finally:
            if self.fleet is not None:
                self.fleet.stop()
        log.info("sync agent stopped (published %d, acknowledged %d)", self.published, self.acked)

    def _connect_loop(self) -> None:
        while not self._stop.is_set():
            client = self._new_client()
            if self._connect(client):
                self.backoff.reset()
                try:
                    self._session(client)
                finally:
                    self._end_session(client)
            if not self._stop.is_set():
                delay = self.backoff.next_delay()
                log.info("reconnecting in %.1f s", delay)
                self._idle(delay)

    # -- connection --------------------------------------------------------------------------
    def _new_client(self) -> mqtt.Client:
        client = new_client(self.client_id, self.mq, max_inflight=self.window,
                            will=Will(self.topics.status, status_payload("offline", "connection lost")))
        self.subscriptions.attach(client)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    def _connect(self, client: mqtt.Client) -> bool:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.mq.session_expiry_s
        self._lost.clear()
        try:
            client.connect(self.mq.host, self.mq.port, keepalive=self.mq.keepalive_s, clean_start=False,
                           properties=props)
        except (OSError, ssl.SSLError) as exc:
            log.warning("cannot reach broker %s:%s: %s", self.mq.host, self.mq.port, exc)
            return False
        client.loop_start()
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while time.monotonic() < deadline and not self._stop.is_set():
            if self.connected.wait(TICK_S):
                return True
            if self._lost.is_set():
                break
            self._health_tick()
        client.loop_stop()
        return False

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: ReasonCode,
                    properties: Any) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            self._lost.set()
            return
        self.connections += 1
        log.info("connected to broker (session present: %s)", flags.session_present)
        self.subscriptions.subscribe(client)  # resend, insights, fleet: ``subscriptions.ready`` on SUBACK
        if self.fleet is not None:
            self.fleet.on_connected()
        self.gallery.on_connected()
        client.publish(self.topics.status, status_payload("online", "connected"), qos=1, retain=True)
        self.connected.set()
        self._wake.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: ReasonCode,
                       properties: Any) -> None:
        if self.connected.is_set():
            log.warning("disconnected from broker: %s", reason_code)
        self.connected.clear()
        self.subscriptions.lost()
        self._lost.set()
        self._wake.set()

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason_code: ReasonCode,
                    properties: Any) -> None:
        # Called by paho with its own locks held: only hand the ack over, never block here.
        self._acks.append((mid, reason_code.value))
        self._wake.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        payload = bytes(msg.payload)  # paho types it bytes | bytearray; bytes() of bytes is the same object
        if self.fleet is not None and self.fleet.handles(msg.topic):
            self.fleet.on_message(msg.topic, payload)
            self._wake.set()
        elif msg.topic == self.topics.resend:
            self._resends.append(payload)
            self._wake.set()
        elif msg.topic == self.topics.insights:
            self._insights.append(payload)
            self._wake.set()

    # -- one connected session ---------------------------------------------------------------
    def _session(self, client: mqtt.Client) -> None:
        self._next_telemetry = 0.0
        while not self._stop.is_set() and self.connected.is_set():
            self._wake.clear()
            self._handle_resends(client)
            self._handle_insights()
            self._flush_acks()
            if time.monotonic() >= self._hold_until:
                self._fill_window(client)
            self._telemetry_tick(client)
            if self.fleet is not None:
                self.fleet.tick(client)
            self.gallery.tick(client, busy=bool(self._inflight))
            self._health_tick()
            self._wake.wait(TICK_S)
        self._flush_acks(force=True)

    def _end_session(self, client: mqtt.Client) -> None:
        if self._stop.is_set() and self.connected.is_set():
            info = client.publish(self.topics.status, status_payload("offline", "shutdown"), qos=1, retain=True)
            try:
                info.wait_for_publish(timeout=3.0)
            except (RuntimeError, ValueError):
                log.warning("could not publish the offline status before shutting down")
            self._flush_acks(force=True)
            client.disconnect()
        client.loop_stop()
        self.connected.clear()
        self._flush_acks(force=True)
        # Unacknowledged rows stay pending in the outbox and go out again on the next connection.
        self._mid_to_id.clear()
        self._inflight.clear()
        self._acks.clear()

    def _fill_window(self, client: mqtt.Client) -> None:
        # Acknowledged rows waiting to be marked sent do not hold the window, but stay in
        # ``_inflight`` so that they are not read from the outbox again.
        room = self.window - (len(self._inflight) - len(self._unmarked))
        if room <= 0:
            return
        rows = [r for r in self.store.outbox.pending(limit=len(self._inflight) + room)
                if r.id not in self._inflight][:room]
        sent: list[int] = []
        for row in rows:
            if not self._publish_row(client, row):
                break
            sent.append(row.id)
        if sent:
            self.published += len(sent)
            self.store.outbox.record_attempt(sent)

    def _publish_row(self, client: mqtt.Client, row: OutboxMessage) -> bool:
        try:
            topic = self.topics.for_kind(row.kind)
        except ValueError:
            log.error("outbox row %d has unknown kind %r; left pending", row.id, row.kind)
            return True
        info = client.publish(topic, _json(row.payload), qos=1)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            log.debug("publish of outbox row %d not accepted: %s", row.id, info.rc)
            return False
        self._mid_to_id[info.mid] = row.id
        self._inflight.add(row.id)
        return True

    def _flush_acks(self, force: bool = False) -> None:
        """Resolve PUBACKs; mark rows sent in batches (half a window, or after MARK_DELAY_S, or
        when nothing else is in flight), since every mark is a durable write to the store."""
        undelivered = 0
        while self._acks:
            mid, code = self._acks.popleft()
            row_id = self._mid_to_id.pop(mid, None)
            if row_id is None:
                self.gallery.on_ack(mid, code)  # a gallery message, the status, or an earlier connection's
                continue
            if code == NO_MATCHING_SUBSCRIBERS or code >= 0x80:
                self._inflight.discard(row_id)
                undelivered += 1
            else:
                if not self._unmarked:
                    self._first_unmarked_at = time.monotonic()
                self._unmarked.append(row_id)
        if undelivered:
            delay = self.backoff.min_s
            log.warning("%d messages were not delivered (broker: no subscriber or refused); retrying in %.1f s",
                        undelivered, delay)
            self._hold_until = time.monotonic() + delay
        due = (force or len(self._unmarked) >= max(1, self.window // 2)
               or len(self._unmarked) == len(self._inflight)
               or time.monotonic() - self._first_unmarked_at >= MARK_DELAY_S)
        if self._unmarked and due:
            ids = self._unmarked
            try:
                self.store.outbox.mark_sent(ids)
            except Exception:  # the store reports why; the ids are retried next tick
                log.exception("could not mark %d outbox rows sent; will retry", len(ids))
                return
            self._unmarked = []
            self._inflight.difference_update(ids)
            self.acked += len(ids)

    def _handle_resends(self, client: mqtt.Client) -> None:
        while self._resends:
            payload = self._resends.popleft()
            try:
                request = resend.parse_request(payload)
            except (ValueError, json.JSONDecodeError) as exc:
                log.warning("ignoring a malformed resend request: %s", exc)
                continue
            answer = resend.answer(self.store, request, utc_now_text(), self.cfg.store.store_id,
                                   self.cfg.store.device_id)
            # QoS 1, not through the outbox: a lost answer is asked for again with the next request
            client.publish(self.topics.resend_answer, answer.to_payload(), qos=1)

    def _handle_insights(self) -> None:
        while self._insights:
            payload = self._insights.popleft()
            if not payload:  # a cleared retained message
                continue
            try:
                self.store.insights.save(payload)
                log.info("hub insights received (%d bytes)", len(payload))
            except StoreError as exc:
                log.warning("ignoring the hub's insights: %s", exc)

    # -- periodic work -----------------------------------------------------------------------
    def _telemetry_tick(self, client: mqtt.Client) -> None:
        now = time.monotonic()
        if now < self._next_telemetry:
            return
        self._next_telemetry = now + self.mq.telemetry_interval_s
        doc = telemetry.snapshot(self.store, self.cfg.store.store_id, self.cfg.store.device_id,
                                 Path(self.cfg.data_dir), datetime.now(UTC))
        client.publish(self.topics.telemetry, _json(doc), qos=0)

    def _health_tick(self) -> None:
        if self.on_tick is not None:
            self.on_tick()
        now = time.monotonic()
        if now < self._next_health:
            return
        self._next_health = now + HEALTH_EVERY_S
        moment = datetime.now(UTC)
        self.health.check(self.store.outbox.backlog(), telemetry.oldest_age_s(self.store, moment),
                          telemetry.utc_iso(moment))

    def _idle(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            self._health_tick()
            self._stop.wait(min(TICK_S * 5, max(0.0, deadline - time.monotonic())))
