"""``IngestWorker``: one MQTT v5 client in a shared-subscription group, storing what it receives.

paho's network thread only queues messages.  The worker's writer thread takes them in batches (up
to ``hub.ingest_batch_max``, waiting at most ``hub.ingest_batch_wait_ms`` for more), checks each
against its contract, applies the batch in ONE database transaction with a few bulk statements
(``store.apply_batch``), commits, and only then acknowledges every message of the batch
(``manual_ack``).  A crash before the commit means the broker re-delivers; a
crash after the commit but before the ack means a duplicate, which the ``tx_id`` key ignores.
Messages that can never be stored (bad JSON, schema, topic/payload mismatch, a store or device
not registered on the hub: ``analytics.ingest.known``) become dead letters, are acknowledged and do
not stop the worker.  Database outages are retried, never acknowledged.

Readiness follows the broker, not the TCP connection: ``connected`` is set on CONNACK, ``ready``
only once the broker's SUBACK granted every subscription of this connection (``runtime.mqtt.
Subscriptions``; re-made on every reconnect, cleared on a disconnect).  Until then a device's sale
may find no subscriber.  ``turns`` counts the writer loop's turns (also while it waits out a
database outage): the service watchdog (``runtime.notify``) stops pinging systemd when it stops.

``on_commit`` (optional) is called in the writer thread right after each commit, before the acks,
with every message of the batch and its outcome: for measurements (``tillsight bench sync``) and
monitoring.  It must be quick; an exception in it is logged and does not stop the acks.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from analytics.db import make_engine, migrate
from analytics.ingest import contracts, resend
from analytics.ingest.known import unknown_devices, unknown_reason
from analytics.ingest.parse import READ_CONTRACTS, Parsed, Rejected, parse, subscriptions
from analytics.ingest.store import apply_batch, dead_letter, dead_letters
from contracts.timestamps import format_utc, utc_now_text
from firmware_config.schema import HubConfig, MqttConfig
from runtime.mqtt import Subscriptions, new_client
from runtime.notify import LoopCounter

log = logging.getLogger(__name__)

RESEND_CHECK_S = 2.0


def utc_now() -> str:
    return utc_now_text()


@dataclass
class IngestStats:
    received: int = 0
    acked: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # stored, duplicate, updated, ignored, dead
    batches: int = 0  # batches stored (one transaction each, or one per message after a database error)
    busy_s: float = 0.0  # writer thread time spent checking, storing and acknowledging batches


@dataclass(frozen=True)
class Incoming:
    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int
    received_at: float = field(default_factory=time.time)  # wall clock, when paho handed it over


# Called after each commit with (message, parsed or rejected, outcome) for every message of the batch.
CommitHook = Callable[[list[tuple[Incoming, Parsed | Rejected, str]]], None]


class IngestWorker:
    def __init__(self, db_url: str, mqtt_cfg: MqttConfig, group: str = "ingest", client_id: str | None = None,
                 settings: HubConfig | None = None, engine: Engine | None = None,
                 on_commit: CommitHook | None = None) -> None:
        self.settings = settings or HubConfig(database_url=db_url, ingest_group=group)
        self.mq = mqtt_cfg
        self.group = group
        self.prefix = mqtt_cfg.topic_prefix
        self.client_id = client_id or self.settings.ingest_client_id or f"hub-{group}-{socket.gethostname()}"
        self.engine = engine or make_engine(db_url)
        self.on_commit = on_commit
        self.stats = IngestStats()
        self.connected = threading.Event()  # CONNACK came back
        self.subscriptions = Subscriptions([(topic, 1) for topic in subscriptions(self.prefix, group)],
                                           name=f"ingest {self.client_id}")
        self.ready = self.subscriptions.ready  # ... and the broker granted every subscription
        self.turns = LoopCounter()  # the writer loop's progress, for the service watchdog
        self._queue: queue.Queue[Incoming] = queue.Queue()
        self._stop = threading.Event()
        self._ack_lock = threading.Lock()
        self._generation = 0
        self._next_resend = 0.0
        self._client: mqtt.Client | None = None
        self._thread: threading.Thread | None = None
        self._prepared = False

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=f"ingest-{self.client_id}", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def prepare(self) -> None:
        """Migrate the hub database and compile the contracts (raises SQLAlchemyError); once."""
        if self._prepared:
            return
        migrate(self.engine)
        contracts.warm(*READ_CONTRACTS)
        self._prepared = True

    def run(self) -> None:
        self.prepare()
        client = new_client(self.client_id, self.mq, manual_ack=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self.subscriptions.attach(client)
        self._client = client
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.settings.session_expiry_s
        props.ReceiveMaximum = self.settings.receive_maximum
        client.connect_async(self.mq.host, self.mq.port, keepalive=self.mq.keepalive_s, clean_start=False,
                             properties=props)
        client.loop_start()
        log.info("ingest worker %s (group %s) -> %s:%s", self.client_id, self.group, self.mq.host, self.mq.port)
        try:
            while not self._stop.is_set():
                self.turns.tick()
                batch = self._next_batch()
                if batch:
                    self._store_batch(batch)
                self._resend_tick()
        finally:
            client.disconnect()
            client.loop_stop()
            log.info("ingest worker %s stopped: received %d, acknowledged %d, %s", self.client_id,
                     self.stats.received, self.stats.acked, dict(self.stats.outcomes))

    # -- MQTT callbacks (paho's thread) ------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: ReasonCode,
                    properties: Any) -> None:
        if reason_code.is_failure:
            log.error("broker refused the ingest connection: %s", reason_code)
            return
        with self._ack_lock:
            self._generation += 1
        log.info("ingest %s connected (session present: %s)", self.client_id, flags.session_present)
        self.subscriptions.subscribe(client)  # ``ready`` once the SUBACK grants them
        self.connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: ReasonCode,
                       properties: Any) -> None:
        self.connected.clear()
        self.subscriptions.lost()
        if not self._stop.is_set():
            log.warning("ingest %s disconnected: %s", self.client_id, reason_code)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self._queue.put(Incoming(msg.topic, bytes(msg.payload), msg.mid, msg.qos, self._generation))

    # -- storing -----------------------------------------------------------------------------
    def _next_batch(self) -> list[Incoming]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.settings.ingest_batch_wait_ms / 1000
        while len(batch) < self.settings.ingest_batch_max:
            try:
                batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        self.stats.received += len(batch)
        return batch

    def _store_batch(self, batch: list[Incoming]) -> None:
        started = time.perf_counter()
        now = utc_now()
        parsed = [(m, parse(m.topic, m.payload, self.prefix)) for m in batch]
        # Keep each device's messages in arrival order, but lock devices in one order (no deadlocks).
        parsed.sort(key=lambda p: (p[1].store_id, p[1].device_id) if isinstance(p[1], Parsed) else ("", ""))
        delay = 0.5
        while not self._stop.is_set():
            try:
                outcomes = self._commit(parsed, now)
                break
            except (OperationalError, InterfaceError) as exc:
                log.error("hub database unavailable (%s); retrying in %.1f s, nothing acknowledged",
                          exc.orig or exc, delay)
                self._wait_ticking(delay)  # waiting out an outage is progress; a write that never returns is not
                delay = min(delay * 2, 30.0)
            except DBAPIError as exc:
                log.error("batch of %d failed (%s); storing one by one", len(parsed), exc.orig or exc)
                outcomes = [self._commit_one(m, p, now) for m, p in parsed]
                break
        else:
            return  # stopping: the broker re-delivers what was not acknowledged
        self.stats.batches += 1
        self.stats.outcomes.update(outcomes)
        if self.on_commit is not None:
            try:
                self.on_commit([(m, p, outcome) for (m, p), outcome in zip(parsed, outcomes, strict=True)])
            except Exception:  # an observer must not keep the batch from being acknowledged
                log.exception("the ingest's on_commit hook failed")
        self._ack([m for m, _ in parsed])
        self.stats.busy_s += time.perf_counter() - started

    def _wait_ticking(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            self.turns.tick()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._stop.wait(min(1.0, left))

    def _commit(self, parsed: list[tuple[Incoming, Parsed | Rejected]], now: str) -> list[str]:
        outcomes: list[str] = ["dead"] * len(parsed)
        good: list[tuple[int, Parsed]] = []
        letters: list[tuple[str, bytes, str]] = []
        with self.engine.begin() as conn:
            unknown = unknown_devices(conn, {(p.store_id, p.device_id) for _, p in parsed if isinstance(p, Parsed)})
            for i, (m, p) in enumerate(parsed):
                reason = p.reason if isinstance(p, Rejected) else \
                    unknown_reason(p.store_id, p.device_id) if (p.store_id, p.device_id) in unknown else None
                if reason is not None:
                    log.warning("dead letter from %s: %s", m.topic, reason)
                    letters.append((m.topic, m.payload, reason))
                elif isinstance(p, Parsed):
                    good.append((i, p))
            dead_letters(conn, letters, now)
            for (i, _), applied in zip(good, apply_batch(conn, [p for _, p in good], now), strict=True):
                outcomes[i] = applied.outcome
        return outcomes

    def _commit_one(self, m: Incoming, p: Parsed | Rejected, now: str) -> str:
        try:
            return self._commit([(m, p)], now)[0]
        except (OperationalError, InterfaceError):
            raise
        except DBAPIError as exc:
            reason = f"database rejected it: {exc.orig or exc}"
            with self.engine.begin() as conn:
                dead_letter(conn, m.topic, m.payload, reason, now)
            return "dead"

    def _ack(self, messages: list[Incoming]) -> None:
        client = self._client
        assert client is not None
        with self._ack_lock:
            for m in messages:
                if m.qos == 0:
                    continue
                if m.generation != self._generation:
                    continue  # received on an earlier connection: the broker re-delivers it
                client.ack(m.mid, m.qos)
                self.stats.acked += 1

    def _resend_tick(self) -> None:
        now_m = time.monotonic()
        if now_m < self._next_resend or self._client is None or not self.connected.is_set():
            return
        self._next_resend = now_m + RESEND_CHECK_S
        now = datetime.now(UTC)
        older = format_utc(now - timedelta(seconds=self.settings.resend_after_s))
        try:
            requests = resend.due_requests(self.engine, format_utc(now), older)
        except (OperationalError, InterfaceError) as exc:
            log.warning("cannot check sequence gaps: %s", exc.orig or exc)
            return
        for req in requests:
            log.info("asking %s/%s to resend sales %d..%d", req.store_id, req.device_id, req.from_seq, req.to_seq)
            self._client.publish(req.topic(self.prefix), req.payload(utc_now()), qos=1)
