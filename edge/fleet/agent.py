"""``FleetAgent``: the device's update agent, riding on the sync agent's MQTT connection.

The sync agent hands it its messages (desired state and artifact chunks) and calls ``tick`` from
its loop, where the agent publishes ``reported`` and changes chunk subscriptions.  The update work
itself (download, verify, unpack, self-test, switch, health window, rollback) runs one update at a
time in the agent's own worker thread, so the sales outbox keeps flowing meanwhile.

Steps and outcomes are the contract's (docs/contracts.md, "Fleet updates").  State that must
survive a restart (trusted versions, what runs, results) is in ``fleet/state.json``; downloaded
chunks are on disk, so a download resumes where it stopped.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import queue
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from contracts import ContractError, validate
from contracts.prices import PriceList
from contracts.timestamps import utc_now_text
from contracts.topics import DeviceTopics
from edge.fleet.download import ArtifactMismatch, ChunkDownload
from edge.fleet.files import point_symlink, read_json, resolve_link, write_atomic
from edge.fleet.gallery import (
    GalleryInstallError,
    check_catalogue,
    check_merged,
    expected_embedder,
    forget_backup,
    merge_catalogue,
    own_examples,
    restore,
    store_gallery_dir,
)
from edge.fleet.heartbeat import ApplianceBeat, read_beat
from edge.fleet.install import InstallError, check_config_overlay, self_test_bundle, unpack_bundle
from edge.fleet.paths import FleetPaths
from edge.fleet.prices import PriceSchedule
from edge.fleet.state import KINDS, FleetState, Installed
from edge.fleet.verify import Manifest, ManifestRefused, check_manifest, load_public_keys
from edge.store.database import StoreDB
from firmware_config import TillsightConfig

log = logging.getLogger(__name__)

REPORT_EVERY_S = 0.5
BEAT_MAX_AGE_S = 10.0
SUBSCRIBE_BATCH = 64
SWITCHING_STEPS = ("switching", "awaiting_idle", "health_window", "rolling_back")


def utc_now() -> str:
    return utc_now_text()


class UpdateFailed(Exception):
    """An update that stops here; ``outcome`` is failed, refused or rolled_back."""

    def __init__(self, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


class Stopping(Exception):
    """The process is shutting down in the middle of an update (it resumes on the next start)."""


@dataclass(frozen=True)
class Chunk:
    sha256: str
    index: int
    data: bytes


class FleetAgent:
    def __init__(self, cfg: TillsightConfig, topics: DeviceTopics,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.cfg = cfg
        self.fleet = cfg.fleet
        self.topics = topics
        self.paths = FleetPaths(Path(cfg.data_dir))
        self.keys = load_public_keys(list(self.fleet.public_keys))
        self.state = FleetState.load(self.paths.state)
        setup = read_json(Path(cfg.detector.bundle) / "manifest.json") if \
            (Path(cfg.detector.bundle) / "manifest.json").exists() else None
        self._setup_bundle_version = str(setup.get("version")) if isinstance(setup, dict) else str(cfg.detector.bundle)
        self._lock = threading.Lock()  # guards state, _desired and the subscription wishes
        self._desired: dict[str, dict[str, Any] | None] = {"device": None, "group": None}
        self._desired_changed = threading.Event()
        self._chunks: queue.Queue[Chunk] = queue.Queue()
        self._want: tuple[str, frozenset[int]] | None = None  # (sha256, chunk indexes) to subscribe to
        self._subscribed: tuple[str, frozenset[int]] | None = None
        self._refusals_seen: set[tuple[int, str, str]] = set()
        self._dirty = True
        self._last_report = 0.0
        # Every step change is published, even when steps pass faster than the loop ticks.
        self._step_reports: collections.deque[dict[str, Any]] = collections.deque(maxlen=64)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # When pushed price changes fall due (edge/fleet/prices.py); a test gives its own clock.
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._store_db: StoreDB | None = None
        self._prices: PriceSchedule | None = None
        # Grows on every turn of the worker's loops, waiting ones included (a download that waits
        # for chunks, a switch that waits for the sale to end): the service watchdog's probe.
        self.turns = 0

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="fleet-agent", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._desired_changed.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    # -- called by the sync agent (paho's thread: enqueue only) -----------------------------------
    def subscriptions(self) -> list[str]:
        return [self.topics.desired, self.topics.group_desired(self.fleet.group)]

    def handles(self, topic: str) -> bool:
        return topic in (self.topics.desired, self.topics.group_desired(self.fleet.group)) or \
            self.topics.is_artifact_chunk(topic)

    def on_message(self, topic: str, payload: bytes) -> None:
        if self.topics.is_artifact_chunk(topic):
            parts = topic.rsplit("/", 2)
            try:
                self._chunks.put(Chunk(parts[-2], int(parts[-1]), bytes(payload)))
            except ValueError:
                log.warning("ignoring a chunk on an odd topic %s", topic)
            return
        source = "device" if topic == self.topics.desired else "group"
        doc = self._parse_desired(payload, topic)
        with self._lock:
            self._desired[source] = doc
        self._desired_changed.set()

    def on_connected(self) -> None:
        """A new connection: republish reported (DESIGN: the full reported state on every
        reconnect) and subscribe again to the chunks still missing, from the next ``tick``."""
        self._subscribed = None
        self._dirty = True
        self._last_report = 0.0

    # -- called by the sync agent's loop -------------------------------------------------------
    def tick(self, client: mqtt.Client) -> None:
        self._sync_subscriptions(client)
        while self._step_reports:
            if not self._publish_reported(client, self._step_reports[0]):
                return
            self._step_reports.popleft()
        now = time.monotonic()
        if self._dirty and now - self._last_report >= REPORT_EVERY_S:
            if self._publish_reported(client, self.reported()):
                self._dirty = False
                self._last_report = now

    def _publish_reported(self, client: mqtt.Client, doc: dict[str, Any]) -> bool:
        info = client.publish(self.topics.reported, json.dumps(doc, separators=(",", ":")).encode(), qos=1,
                              retain=True)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def _sync_subscriptions(self, client: mqtt.Client) -> None:
        with self._lock:
            want = self._want
        if want == self._subscribed:
            return
        old = self._subscribed
        if old is not None:
            gone = [self.topics.artifact_chunk(old[0], i) for i in sorted(old[1])
                    if want is None or want[0] != old[0] or i not in want[1]]
            for start in range(0, len(gone), SUBSCRIBE_BATCH):
                client.unsubscribe(gone[start:start + SUBSCRIBE_BATCH])
        if want is not None:
            new = [i for i in sorted(want[1]) if old is None or old[0] != want[0] or i not in old[1]]
            topics = [(self.topics.artifact_chunk(want[0], i), 1) for i in new]
            for start in range(0, len(topics), SUBSCRIBE_BATCH):
                client.subscribe(topics[start:start + SUBSCRIBE_BATCH])
        self._subscribed = want

    # -- reported ------------------------------------------------------------------------------
    def reported(self) -> dict[str, Any]:
        with self._lock:
            st = self.state
            doc = {"schema": "tillsight.reported/1", "store_id": self.cfg.store.store_id,
                   "device_id": self.cfg.store.device_id, "at": utc_now(), "group": self.fleet.group,
                   "model": self._running_report("model"), "config": self._running_report("config"),
                   "gallery": self._running_report("gallery"), "prices": self._running_report("prices"),
                   "update": dict(st.update) if st.update else None, "results": list(st.results),
                   "trusted": dict(st.trusted)}
        validate("tillsight.reported/1", doc)
        return doc

    def _running_report(self, kind: str) -> dict[str, Any] | None:
        running = self.state.running.get(kind)
        if running is not None:
            return running.reported()
        if kind == "model":
            # Not installed by the fleet: the bundle the device was set up with (fleet version 0).
            name = self._setup_bundle_version
            return {"version": 0, "name": name, "sha256": None, "bundle_version": name, "installed_at": None}
        return None

    def _set_step(self, m: Manifest, step: str, detail: str = "", progress: float = 0.0) -> None:
        with self._lock:
            new_step = not self.state.update or self.state.update["step"] != step
            self.state.update = {"kind": m.kind, "version": m.version, "deployment_id": m.deployment_id,
                                 "step": step, "progress": round(min(max(progress, 0.0), 1.0), 3),
                                 "detail": detail[:300], "at": utc_now()}
            if step != "downloading" or progress in (0.0, 1.0):
                self.state.save(self.paths.state)
        if new_step:
            self._step_reports.append(self.reported())
        self._dirty = True
        log.info("fleet %s v%d: %s %s", m.kind, m.version, step, detail)

    def _finish(self, m: Manifest, outcome: str, reason: str) -> None:
        with self._lock:
            self.state.update = None
            self.state.record(m.kind, m.version, m.deployment_id, outcome, reason, utc_now())
            self.state.save(self.paths.state)
        self._step_reports.append(self.reported())
        self._dirty = True
        (log.info if outcome == "succeeded" else log.warning)("fleet %s v%d: %s (%s)", m.kind, m.version,
                                                                outcome, reason)

    # -- choosing what to do -------------------------------------------------------------------
    def _parse_desired(self, payload: bytes, topic: str) -> dict[str, Any] | None:
        if not payload:
            return None  # a cleared retained message
        try:
            doc = json.loads(payload)
            validate("tillsight.desired/1", doc)
        except (ValueError, ContractError) as exc:
            log.warning("ignoring a malformed desired state on %s: %s", topic, exc)
            return None
        return doc

    def _candidates(self) -> list[Manifest]:
        """Per kind, the newest manifest to act on (model first); refusals are recorded."""
        with self._lock:
            docs = [d for d in self._desired.values() if d]
            trusted = dict(self.state.trusted)
            resume = dict(self.state.update) if self.state.update else None
        now = datetime.now(UTC)
        chosen: list[Manifest] = []
        for kind in KINDS:
            best: Manifest | None = None
            for doc in docs:
                raw = doc.get(kind)
                if not isinstance(raw, dict):
                    continue
                declared = raw.get("version")
                version = declared if isinstance(declared, int) else 0
                floor = trusted.get(kind, 0)
                resuming = bool(resume and resume["kind"] == kind and resume["version"] == version
                                and resume["deployment_id"] == raw.get("deployment_id"))
                if version <= floor and not resuming:
                    continue  # old news: seen again on every reconnect
                try:
                    m = check_manifest(raw, self.keys, self.cfg.store.store_id, self.cfg.store.device_id,
                                       self.fleet.group, now)
                except ManifestRefused as exc:
                    self._refuse(kind, version, str(raw.get("deployment_id", "?")), str(exc))
                    continue
                if m.kind != kind:
                    self._refuse(kind, version, m.deployment_id, f"a {m.kind} manifest in the {kind} slot")
                    continue
                if best is None or m.version > best.version:
                    best = m
            if best is not None:
                chosen.append(best)
        return chosen

    def _refuse(self, kind: str, version: int, deployment_id: str, reason: str) -> None:
        key = (version, deployment_id, reason)
        if key in self._refusals_seen:
            return
        self._refusals_seen.add(key)
        log.warning("fleet %s v%s refused: %s", kind, version, reason)
        with self._lock:
            self.state.record(kind, int(version), deployment_id[:36], "refused", reason, utc_now())
            self.state.save(self.paths.state)
        self._dirty = True

    # -- the worker ----------------------------------------------------------------------------
    def _work(self) -> None:
        self._recover_interrupted()
        try:
            while not self._stop.is_set():
                self.turns += 1
                self._apply_due_prices()
                self._desired_changed.wait(1.0)
                self._desired_changed.clear()
                if self._stop.is_set():
                    break
                if not self._work_once():
                    return
        finally:
            if self._store_db is not None:
                self._store_db.close()

    def _work_once(self) -> bool:
        """Act on the desired manifests once; False when shutting down in the middle of an update."""
        for m in self._candidates():
            if self._stop.is_set():
                break
            try:
                self._update(m)
            except Stopping:
                log.info("fleet %s v%d interrupted by shutdown; it resumes on the next start", m.kind,
                         m.version)
                return False
            except Exception as exc:  # an update must never kill the sync process
                log.exception("fleet %s v%d crashed", m.kind, m.version)
                self._finish(m, "failed", f"internal error: {type(exc).__name__}: {exc}")
                self._restore_running(m.kind)
        return True

    def _recover_interrupted(self) -> None:
        """After a restart in the middle of a switch, go back to the last known-good version; an
        update interrupted before its switch simply resumes (chunks are on disk)."""
        with self._lock:
            update = dict(self.state.update) if self.state.update else None
        if update is None or update["step"] not in SWITCHING_STEPS:
            if update is not None:
                self._desired_changed.set()
            return
        kind = update["kind"]
        log.warning("fleet %s v%d was interrupted while switching; restoring the previous version", kind,
                    update["version"])
        self._restore_running(kind)
        with self._lock:
            self.state.update = None
            self.state.record(kind, update["version"], update["deployment_id"], "rolled_back",
                              "interrupted by a restart while switching", utc_now())
            self.state.save(self.paths.state)
        self._dirty = True

    def _update(self, m: Manifest) -> None:
        with self._lock:
            self.state.trust(m.kind, m.version)
        self._set_step(m, "accepted", m.name)
        try:
            artifact = self._download(m)
            if m.kind == "model":
                self._update_model(m, artifact)
            elif m.kind == "gallery":
                self._update_gallery(m, artifact)
            elif m.kind == "prices":
                self._update_prices(m, artifact)
            else:
                self._update_config(m, artifact)
        except UpdateFailed as exc:
            self._finish(m, exc.outcome, exc.reason)
            self._discard(m)
        finally:
            with self._lock:
                self._want = None

    def _discard(self, m: Manifest) -> None:
        """Delete what a failed update left on disk (never the folder that runs)."""
        shutil.rmtree(self.paths.download_dir(m.sha256), ignore_errors=True)
        folder = self.paths.model_dir(m.version, m.sha256)
        if m.kind == "model" and folder.exists() and resolve_link(self.paths.current_model) != folder.resolve():
            shutil.rmtree(folder, ignore_errors=True)
        with self._lock:
            running = self.state.running.get("gallery")
        unpacked = self.paths.gallery_dir(m.version, m.sha256)
        if m.kind == "gallery" and unpacked.exists() and not (running and running.path == str(unpacked)):
            shutil.rmtree(unpacked, ignore_errors=True)

    def _download(self, m: Manifest) -> Path:
        dl = ChunkDownload(self.paths.download_dir(m.sha256), m.sha256, m.size, m.chunks, m.chunk_size)
        if not dl.artifact_path.exists():
            self._set_step(m, "downloading", f"{m.size} bytes in {m.chunks} chunks", dl.progress())
            last = 0.0
            while not dl.complete():
                self.turns += 1
                with self._lock:
                    self._want = (m.sha256, frozenset(dl.missing()))
                try:
                    chunk = self._chunks.get(timeout=0.5)
                except queue.Empty:
                    if self._stop.is_set():
                        raise Stopping() from None
                    continue
                if chunk.sha256 != m.sha256:
                    continue  # a late chunk of an earlier artifact
                dl.add(chunk.index, chunk.data)
                if time.monotonic() - last >= REPORT_EVERY_S or dl.complete():
                    last = time.monotonic()
                    self._set_step(m, "downloading", f"{len(dl.missing())} chunks to go", dl.progress())
            with self._lock:
                self._want = None
            self._set_step(m, "verifying", "size and SHA-256 against the signed manifest", 1.0)
            try:
                dl.assemble()
            except ArtifactMismatch as exc:
                raise UpdateFailed("refused", str(exc)) from None
        return dl.artifact_path

    # -- model ---------------------------------------------------------------------------------
    def _update_model(self, m: Manifest, artifact: Path) -> None:
        folder = self.paths.model_dir(m.version, m.sha256)
        self._set_step(m, "installing", f"unpacking beside the running model into {folder.name}")
        try:
            unpack_bundle(artifact, folder)
        except InstallError as exc:
            raise UpdateFailed("failed", str(exc)) from None
        self._set_step(m, "self_test", "loading the model and running its self-test")
        try:
            self_test_bundle(folder, self.cfg)
        except InstallError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise UpdateFailed("failed", f"self-test: {exc}") from None
        previous_dir = resolve_link(self.paths.current_model)
        self._set_step(m, "switching", "pointing the appliance at the new model")
        point_symlink(self.paths.current_model, folder)
        try:
            self._await_switch(m, lambda beat: beat.model_dir == str(folder.resolve()),
                               lambda beat: beat.model_error if beat.model_dir != str(folder.resolve()) else None)
            self._health_window(m, folder)
        except UpdateFailed as exc:
            self._set_step(m, "rolling_back", exc.reason)
            self._point_model_back(previous_dir)
            raise UpdateFailed("rolled_back" if exc.outcome == "failed" else exc.outcome, exc.reason) from None
        installed = Installed(m.version, m.name, m.sha256, m.bundle_version, utc_now(), m.deployment_id, str(folder))
        with self._lock:
            dropped = self.state.promote("model", installed, self.fleet.keep_previous)
        for old in dropped:
            if old.path and Path(old.path).resolve() != folder.resolve():
                shutil.rmtree(old.path, ignore_errors=True)
        shutil.rmtree(self.paths.download_dir(m.sha256), ignore_errors=True)
        self._finish(m, "succeeded", f"running {m.bundle_version or m.name}")

    def _point_model_back(self, previous_dir: Path | None) -> None:
        link = self.paths.current_model
        if previous_dir is not None:
            point_symlink(link, previous_dir)
            target = str(previous_dir)
        else:
            if link.is_symlink():
                link.unlink()
            target = str(Path(self.cfg.detector.bundle).resolve())
        deadline = time.monotonic() + min(self.fleet.switch_timeout_s, 120.0)
        while time.monotonic() < deadline and not self._stop.is_set():
            self.turns += 1
            beat = read_beat(self.paths.appliance)
            if beat is None or not beat.fresh(BEAT_MAX_AGE_S) or beat.model_dir == target:
                return  # no appliance running: it starts with the restored pointer
            time.sleep(0.2)
        log.error("the appliance did not go back to %s in time", target)

    def _restore_running(self, kind: str) -> None:
        with self._lock:
            running = self.state.running.get(kind)
        if kind == "model":
            self._point_model_back(Path(running.path) if running and running.path else None)
        elif kind == "gallery":
            restore(store_gallery_dir(self.cfg), self.paths.gallery_backup)
        elif kind == "prices":
            return  # a price list changes nothing until its changes fall due; each one is applied once
        else:
            self._write_overlay(running.path.encode() if running and running.path else None)

    # -- catalogue gallery (edge/fleet/gallery.py) ----------------------------------------------
    def _update_gallery(self, m: Manifest, artifact: Path) -> None:
        """Unpack and check the catalogue, merge it into the store gallery (the store's own examples
        always kept), check the result and roll back to the gallery before on any failure."""
        folder = self.paths.gallery_dir(m.version, m.sha256)
        store_dir = store_gallery_dir(self.cfg)
        self._set_step(m, "installing", f"unpacking the catalogue gallery into {folder.name}")
        try:
            unpack_bundle(artifact, folder)
        except InstallError as exc:
            raise UpdateFailed("failed", str(exc).replace("bundle archive", "gallery archive")) from None
        self._set_step(m, "self_test", "checking the catalogue's embedder, embeddings and photos")
        try:
            catalogue = check_catalogue(folder, expected_embedder(store_dir, self.cfg))
        except GalleryInstallError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise UpdateFailed("failed", f"{m.name}: {exc}") from None
        own = own_examples(store_dir)
        self._set_step(m, "switching", f"merging {len(catalogue.skus)} catalogue SKUs into the store gallery")
        try:
            merged = merge_catalogue(store_dir, catalogue, self.paths.gallery_backup)
        except GalleryInstallError as exc:
            raise UpdateFailed("failed", f"{m.name}: {exc}") from None
        except Exception:
            restore(store_dir, self.paths.gallery_backup)
            raise
        self._set_step(m, "health_window", "the merged gallery loads and keeps the store's own examples")
        try:
            check_merged(store_dir, catalogue, own)
        except GalleryInstallError as exc:
            self._set_step(m, "rolling_back", str(exc))
            restore(store_dir, self.paths.gallery_backup)
            raise UpdateFailed("rolled_back", f"{m.name}: {exc}") from None
        forget_backup(self.paths.gallery_backup)
        installed = Installed(m.version, m.name, m.sha256, m.bundle_version, utc_now(), m.deployment_id, str(folder))
        with self._lock:
            dropped = self.state.promote("gallery", installed, self.fleet.keep_previous)
        for old in dropped:
            if old.path and Path(old.path).resolve() != folder.resolve():
                shutil.rmtree(old.path, ignore_errors=True)
        shutil.rmtree(self.paths.download_dir(m.sha256), ignore_errors=True)
        self._finish(m, "succeeded", f"store gallery v{merged.version}: {merged.own} own and {merged.catalogue} "
                                     f"catalogue examples, {merged.skus} SKUs")

    # -- prices (edge/fleet/prices.py) ---------------------------------------------------------
    def _price_schedule(self) -> PriceSchedule | None:
        """The store database's price schedule, opened in the worker thread on first need (None while
        the device has no store database yet)."""
        if self._prices is None:
            path = Path(self.cfg.data_dir) / "store.db"
            if not path.exists():
                return None
            self._store_db = StoreDB(path, check=False)
            self._prices = PriceSchedule(self._store_db)
        return self._prices

    def _apply_due_prices(self) -> None:
        try:
            schedule = self._price_schedule()
            if schedule is not None:
                schedule.apply_due(self.clock())
        except Exception:  # a price change must never stop the updates or the sync process
            log.exception("applying due price changes failed; retrying on the next turn")

    def _update_prices(self, m: Manifest, artifact: Path) -> None:
        """Check the signed price list is for this store and schedule its changes; they are applied at
        their effective time by :meth:`_apply_due_prices` (the till then charges the new price)."""
        self._set_step(m, "installing", "checking the price list")
        try:
            prices = PriceList.from_payload(artifact.read_bytes())
        except ContractError as exc:
            raise UpdateFailed("failed", f"not a valid price list: {exc}") from None
        if prices.store_id != self.cfg.store.store_id:
            raise UpdateFailed("refused", f"the price list is for store {prices.store_id}, this till is in "
                                          f"{self.cfg.store.store_id}")
        schedule = self._price_schedule()
        if schedule is None:
            raise UpdateFailed("failed", "this device has no store database yet (start the appliance once)")
        self._set_step(m, "switching", f"scheduling {len(prices.changes)} price change(s)")
        done = schedule.schedule(prices, m.version, m.deployment_id, self.clock())
        applied = schedule.apply_due(self.clock())
        installed = Installed(m.version, m.name, m.sha256, None, utc_now(), m.deployment_id, None)
        with self._lock:
            self.state.promote("prices", installed, self.fleet.keep_previous)
        shutil.rmtree(self.paths.download_dir(m.sha256), ignore_errors=True)
        parts = [f"{done.added} new price change(s) scheduled, {done.known} already known",
                 f"{sum(a.outcome == 'applied' for a in applied)} applied now"]
        if done.next_effective_at:
            parts.append(f"next at {done.next_effective_at}")
        if done.withdrawn:
            parts.append(f"{done.withdrawn} withdrawn")
        if done.promotions is not None:
            parts.append(f"{done.promotions} offer(s)")
        if done.unknown_skus:
            parts.append(f"not sold on this till: {', '.join(done.unknown_skus[:10])}")
        self._finish(m, "succeeded", "; ".join(parts))

    # -- config --------------------------------------------------------------------------------
    def _update_config(self, m: Manifest, artifact: Path) -> None:
        text = artifact.read_bytes()
        self._set_step(m, "installing", "checking the configuration it gives")
        try:
            check_config_overlay(text, self.cfg)
        except InstallError as exc:
            raise UpdateFailed("failed", str(exc)) from None
        self._set_step(m, "self_test", "configuration valid")
        with self._lock:
            running = self.state.running.get("config")
        previous = running.path.encode() if running and running.path else None
        self._set_step(m, "switching", "installing the fleet configuration overlay")
        self._write_overlay(text)
        sha = hashlib.sha256(text).hexdigest()
        try:
            self._await_switch(m, lambda beat: beat.config_sha256 == sha,
                               lambda beat: beat.config_error if beat.config_sha256 != sha else None)
            self._health_window(m, None)
        except UpdateFailed as exc:
            self._set_step(m, "rolling_back", exc.reason)
            self._write_overlay(previous)
            raise UpdateFailed("rolled_back", exc.reason) from None
        installed = Installed(m.version, m.name, m.sha256, None, utc_now(), m.deployment_id, text.decode())
        with self._lock:
            self.state.promote("config", installed, self.fleet.keep_previous)
        shutil.rmtree(self.paths.download_dir(m.sha256), ignore_errors=True)
        self._finish(m, "succeeded", "configuration applied")

    def _write_overlay(self, text: bytes | None) -> None:
        path = self.paths.config_overlay
        if text is None:
            path.unlink(missing_ok=True)
        else:
            write_atomic(path, text)

    # -- switch and health ---------------------------------------------------------------------
    def _await_switch(self, m: Manifest, done, error) -> None:
        """Wait until the appliance runs the new version (it switches only between sales)."""
        deadline = time.monotonic() + self.fleet.switch_timeout_s
        waiting_idle = False
        while True:
            self.turns += 1
            if self._stop.is_set():
                raise Stopping()
            beat = read_beat(self.paths.appliance)
            if beat is not None and beat.fresh(BEAT_MAX_AGE_S):
                if done(beat):
                    return
                problem = error(beat)
                if problem:
                    raise UpdateFailed("failed", f"the appliance could not load it: {problem}")
                if beat.sale_open and not waiting_idle:
                    waiting_idle = True
                    self._set_step(m, "awaiting_idle", "a sale is open on the till; switching after it")
                elif not beat.sale_open and waiting_idle:
                    waiting_idle = False
                    self._set_step(m, "switching", "the till is idle; the appliance is loading it")
            if time.monotonic() >= deadline:
                raise UpdateFailed("failed", f"the appliance did not take it within "
                                             f"{self.fleet.switch_timeout_s:.0f} s (is the appliance running?)")
            time.sleep(0.2)

    def _health_window(self, m: Manifest, folder: Path | None) -> None:
        health = m.health
        window = min(float(health.get("window_s", 0)), self.fleet.max_health_window_s)
        max_errors = int(health.get("max_errors", 0))
        max_ms = health.get("max_inference_ms")
        start = read_beat(self.paths.appliance)
        base_errors = start.vision_errors if start else 0
        base_frames = start.frames if start else 0
        self._set_step(m, "health_window", f"watching for {window:.0f} s")
        deadline = time.monotonic() + window
        while time.monotonic() < deadline:
            self.turns += 1
            if self._stop.is_set():
                raise Stopping()
            time.sleep(0.5)
            beat = read_beat(self.paths.appliance)
            self._check_health(beat, folder, base_errors, base_frames, max_errors, max_ms)
        self._check_health(read_beat(self.paths.appliance), folder, base_errors, base_frames, max_errors, max_ms)

    @staticmethod
    def _check_health(beat: ApplianceBeat | None, folder: Path | None, base_errors: int, base_frames: int,
                      max_errors: int, max_ms: float | None) -> None:
        if beat is None or not beat.fresh(BEAT_MAX_AGE_S):
            raise UpdateFailed("failed", "the appliance stopped reporting during the health window")
        if folder is not None and beat.model_dir != str(folder.resolve()):
            raise UpdateFailed("failed", f"the appliance left the new model ({beat.model_error or 'unknown reason'})")
        errors = beat.vision_errors - base_errors
        if errors > max_errors:
            raise UpdateFailed("failed", f"{errors} vision errors in the health window (at most {max_errors})")
        if max_ms is not None and beat.frames > base_frames and beat.inference_ms > float(max_ms):
            raise UpdateFailed("failed", f"inference takes {beat.inference_ms:.0f} ms (at most {float(max_ms):.0f} ms)")
