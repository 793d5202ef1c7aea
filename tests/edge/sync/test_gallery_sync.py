"""The store gallery from the device to the hub: the real sync agent and the real ingest worker over a
real Mosquitto.  Every version reaches the hub complete, a photo the hub has is not sent again, sales
go before gallery photos, and an interrupted sync resumes from what the broker acknowledged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from analytics.db import make_engine, migrate
from analytics.gallery.query import list_versions
from analytics.gallery.tables import gallery_photos
from analytics.ingest import IngestWorker
from contracts.gallery import GalleryAnnouncement
from contracts.topics import DeviceTopics
from edge.store import DeviceIdentity, Store
from edge.sync.agent import SyncAgent
from edge.sync.gallery_sync import NO_MATCHING_SUBSCRIBERS, GallerySync
from tests.support.fixtures import make_config
from tests.support.hubdb import register_devices
from tests.support.mosquitto import MosquittoBroker
from tests.support.wait import wait_for
from tests.vision.test_gallery import ThumbEmbedder, write_photos
from vision.gallery.enrol import enrol_folder
from vision.gallery.manifest import read_manifest

PREFIX = "tillsight/v1"


@pytest.mark.slow
def test_each_gallery_version_reaches_the_hub_and_known_photos_are_not_sent_again(
        tmp_path: Path, broker: MosquittoBroker) -> None:
    cfg = make_config(broker, tmp_path)
    gallery = Path(cfg.data_dir) / "gallery"
    emb = ThumbEmbedder()
    enrol_folder(write_photos(tmp_path / "photos1", {"RICE-5LB": 1, "BEAN-RED": 2}, per_sku=3), gallery, emb)
    engine = make_engine(cfg.hub.database_url)
    migrate(engine)
    register_devices(engine)  # the hub ingests only what registered devices send
    photo_messages: list[str] = []

    def count_photos(batch: list[Any]) -> None:
        photo_messages.extend(m.topic for m, _, _ in batch if m.topic.endswith("/gallery_photo"))

    worker = IngestWorker(cfg.hub.database_url, cfg.mqtt, group="hub-gallery", client_id="hub-gallery",
                          settings=cfg.hub, on_commit=count_photos)
    worker.start()
    wait_for(worker.ready.is_set, 15, "the ingest subscribes")
    store = Store(Path(cfg.data_dir) / "store.db", identity=DeviceIdentity(cfg.store.store_id, cfg.store.device_id))
    agent = SyncAgent(store, cfg)
    agent.start()
    try:
        def hub_has(version: int) -> bool:
            with engine.connect() as conn:
                return any(g.version == version and g.complete for g in list_versions(conn, "s-001"))

        wait_for(lambda: hub_has(1), 30, "gallery version 1 complete at the hub")
        assert len(photo_messages) == 6

        # The shop teaches a third product: version 2 goes out with only its new photos.
        enrol_folder(write_photos(tmp_path / "photos2", {"MILK-1L": 3}, per_sku=3), gallery, emb)
        version = read_manifest(gallery).version
        wait_for(lambda: hub_has(version), 30, f"gallery version {version} complete at the hub")
        assert len(photo_messages) == 9
        with engine.connect() as conn:
            skus = sorted(set(conn.execute(select(gallery_photos.c.sku)).scalars()))
            versions = list_versions(conn, "s-001")
        assert skus == ["BEAN-RED", "MILK-1L", "RICE-5LB"]
        assert versions[0].skus == 3 and versions[0].examples == 9 and versions[0].embedder.startswith("thumb-test")
    finally:
        agent.stop()
        worker.stop()
        store.close()
        engine.dispose()


class FakeInfo:
    def __init__(self, mid: int) -> None:
        self.rc = 0
        self.mid = mid


class FakeClient:
    """Records what the gallery sync publishes; the test plays the broker's PUBACKs."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, dict[str, Any]]] = []

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> FakeInfo:
        self.sent.append((len(self.sent) + 1, topic, json.loads(payload)))
        return FakeInfo(len(self.sent))


def test_an_interrupted_sync_resumes_from_what_the_broker_acknowledged(tmp_path: Path) -> None:
    gallery = tmp_path / "gallery"
    enrol_folder(write_photos(tmp_path / "photos", {"RICE-5LB": 1, "BEAN-RED": 2}, per_sku=3), gallery,
                 ThumbEmbedder())
    topics = DeviceTopics(PREFIX, "s-001", "till-1")
    state = tmp_path / "sync" / "gallery.json"
    sync = GallerySync(gallery, state, topics, window=4, check_every_s=0)
    client = FakeClient()
    sync.tick(client, busy=True)
    assert client.sent == []  # sales in flight go first
    sync.tick(client)
    assert [t for _, t, _ in client.sent] == [topics.gallery_photo] * 4  # a window of photos, no announcement
    for mid, _, _ in client.sent[:2]:
        assert sync.on_ack(mid, 0)
    assert sync.on_ack(client.sent[2][0], NO_MATCHING_SUBSCRIBERS)  # the hub was not subscribed: not delivered
    delivered = {doc["sha256"] for _, _, doc in client.sent[:2]}

    # The agent restarts: only what the broker acknowledged counts as sent.
    sync = GallerySync(gallery, state, topics, window=10, check_every_s=0)
    client = FakeClient()
    sync.tick(client)
    again = {doc["sha256"] for _, _, doc in client.sent}
    assert len(again) == 4 and not again & delivered
    for mid, _, _ in client.sent:
        sync.on_ack(mid, 0)
    sync.tick(client)
    mid, topic, doc = client.sent[-1]
    assert topic == topics.gallery
    ann = GalleryAnnouncement.from_payload(doc)
    assert ann.version == read_manifest(gallery).version and len(ann.examples) == 6
    assert ann.photo_hashes == delivered | again
    sync.on_ack(mid, 0)
    sync.tick(client)
    assert client.sent[-1][0] == mid  # nothing more until the gallery changes
    assert json.loads(state.read_text())["announced"] == ann.version


def test_a_corrupt_gallery_is_reported_by_name_and_sends_nothing(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    gallery = tmp_path / "gallery"
    enrol_folder(write_photos(tmp_path / "photos", {"RICE-5LB": 1}, per_sku=2), gallery, ThumbEmbedder())
    (gallery / "manifest.json").write_text("{not json")
    sync = GallerySync(gallery, tmp_path / "state.json", DeviceTopics(PREFIX, "s-001", "till-1"), check_every_s=0)
    client = FakeClient()
    sync.tick(client)
    assert client.sent == []
    assert str(gallery / "manifest.json") in caplog.text
