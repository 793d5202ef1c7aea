"""A catalogue gallery published through the signed fleet path: a real broker, the real sync agent with
its fleet agent, and the hub's own packing (``analytics.fleet.artifacts.pack_gallery``).  The device
merges the catalogue into its store gallery and keeps every example the store enrolled itself; a
tampered artifact, a forged manifest and a catalogue made by another embedding network are refused
with the reason and leave the store gallery as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from analytics.fleet.artifacts import pack_gallery
from edge.fleet.gallery import CATALOGUE, check_catalogue, merge_catalogue, restore
from edge.store import Store
from edge.sync.agent import SyncAgent
from firmware_config import TillsightConfig, load_config
from tests.edge.fleet.test_updates import GROUP_DESIRED, Reported
from tests.support.fleet import Operator, Publisher
from tests.support.mosquitto import MosquittoBroker
from tests.support.wait import wait_for
from tests.vision.test_gallery import ThumbEmbedder, write_photos
from vision.gallery import Gallery
from vision.gallery.enrol import enrol_folder
from vision.gallery.manifest import read_manifest

CHUNK = 64 * 1024
OWN = {"RICE-5LB": 1, "BEAN-RED": 2}
CATALOGUE_SKUS = {"MILK-1L": 3, "SODA-600": 4, "RICE-5LB": 11}


def make_gallery(folder: Path, photos: Path, skus: dict[str, int], embedder: ThumbEmbedder) -> Path:
    enrol_folder(write_photos(photos, skus, per_sku=3), folder, embedder)
    return folder


def examples(folder: Path) -> dict[str, tuple[str, str]]:
    """sha256 -> (sku, source) of every example in a gallery."""
    return {ex.sha256: (sku, ex.source) for sku, ex in read_manifest(folder).rows()}


@dataclass
class Till:
    cfg: TillsightConfig
    agent: SyncAgent
    store: Store
    operator: Operator
    publisher: Publisher
    reported: Reported

    @property
    def gallery(self) -> Path:
        return Path(self.cfg.data_dir) / "gallery"

    def ship(self, catalogue: Path, version: int, corrupt_chunk: int | None = None, **changes: Any) -> dict[str, Any]:
        artifact = pack_gallery(catalogue)
        manifest = self.operator.manifest("gallery", version, artifact.data, fmt="tar.gz", chunk_size=CHUNK,
                                          bundle_version=artifact.bundle_version)
        manifest.update(changes)  # after signing: a forgery
        self.publisher.artifact(artifact.data, CHUNK, corrupt_chunk=corrupt_chunk)
        self.publisher.desired(GROUP_DESIRED, gallery=manifest)
        return manifest


@pytest.fixture
def till(tmp_path: Path, broker: MosquittoBroker, demo_bundle: Path) -> Iterator[Till]:
    operator = Operator.create(tmp_path / "keys")
    cfg = load_config(None, env={}, overrides={
        "mqtt": {"host": broker.host, "port": broker.port, "keepalive_s": 5, "reconnect_min_s": 0.1,
                 "reconnect_max_s": 1.0, "telemetry_interval_s": 1.0},
        "detector": {"bundle": str(demo_bundle)},
        "fleet": {"enabled": True, "public_keys": [str(operator.public_pem)], "switch_timeout_s": 30},
        "data_dir": str(tmp_path / "device")})
    make_gallery(Path(cfg.data_dir) / "gallery", tmp_path / "own", OWN, ThumbEmbedder())
    store = Store(Path(cfg.data_dir) / "store.db")
    agent = SyncAgent(store, cfg)
    agent.start()
    reported = Reported(broker)
    publisher = Publisher(broker.host, broker.port)
    till = Till(cfg, agent, store, operator, publisher, reported)
    try:
        wait_for(agent.connected.is_set, 15, "the sync agent connects")
        yield till
    finally:
        agent.stop()
        publisher.close()
        reported.close()
        store.close()


@pytest.mark.slow
def test_a_published_catalogue_is_merged_and_bad_ones_leave_the_store_gallery_alone(till: Till,
                                                                                    tmp_path: Path) -> None:
    own = examples(till.gallery)
    version_before = read_manifest(till.gallery).version
    catalogue = make_gallery(tmp_path / "catalogue", tmp_path / "cat-photos", CATALOGUE_SKUS, ThumbEmbedder())

    # A broker that altered a chunk: refused on the hash, nothing changes.
    bad = till.ship(catalogue, 1, corrupt_chunk=0)
    result = till.reported.wait_result(bad)
    assert result["outcome"] == "refused" and "sha256" in result["reason"]
    assert examples(till.gallery) == own

    # A manifest changed after signing: refused before anything is downloaded.
    forged = till.ship(catalogue, 2, name="gallery with a swapped name")
    result = till.reported.wait_result(forged)
    assert result["outcome"] == "refused" and "signature" in result["reason"]

    # A catalogue made by another embedding network: refused naming both networks.
    foreign = make_gallery(tmp_path / "foreign", tmp_path / "foreign-photos", CATALOGUE_SKUS,
                           ThumbEmbedder("other-net"))
    shipped = till.ship(foreign, 3)
    result = till.reported.wait_result(shipped)
    assert result["outcome"] == "failed"
    assert "other-net" in result["reason"] and "thumb-test" in result["reason"]
    assert examples(till.gallery) == own and read_manifest(till.gallery).version == version_before

    # The good one: merged, the store's own examples all kept.
    good = till.ship(catalogue, 4)
    result = till.reported.wait_result(good)
    assert result["outcome"] == "succeeded", result
    merged = examples(till.gallery)
    assert {sha: merged[sha] for sha in own} == own
    from_catalogue = {sha: v for sha, v in merged.items() if v[1] == CATALOGUE}
    assert {sku for sku, _ in from_catalogue.values()} == set(CATALOGUE_SKUS)
    assert read_manifest(till.gallery).version > version_before
    gallery = Gallery.load(till.gallery, ThumbEmbedder())
    assert sorted(gallery.skus) == ["BEAN-RED", "MILK-1L", "RICE-5LB", "SODA-600"]
    wait_for(lambda: (till.reported.latest or {}).get("gallery", {}) is not None
             and ((till.reported.latest or {}).get("gallery") or {}).get("version") == 4, 10, "gallery v4 reported")


def test_a_new_catalogue_replaces_the_old_one_and_a_rollback_restores_the_store_gallery(tmp_path: Path) -> None:
    emb = ThumbEmbedder()
    store = make_gallery(tmp_path / "store", tmp_path / "own", OWN, emb)
    own = examples(store)
    first = check_catalogue(make_gallery(tmp_path / "c1", tmp_path / "p1", {"MILK-1L": 3}, emb), emb.identity)
    second = check_catalogue(make_gallery(tmp_path / "c2", tmp_path / "p2", {"SODA-600": 4}, emb), emb.identity)
    backup = tmp_path / "fleet" / "gallery.previous.json"
    merge_catalogue(store, first, backup)
    after_first = read_manifest(store)
    merged = merge_catalogue(store, second, backup)
    now = examples(store)
    assert {sku for sku, source in now.values() if source == CATALOGUE} == {"SODA-600"}  # MILK-1L replaced
    assert {sha: now[sha] for sha in own} == own
    assert merged.own == len(own)

    # Undo the second merge: the gallery is the first merge again, at a higher version.
    assert restore(store, backup)
    restored = read_manifest(store)
    assert restored.version > merged.version
    assert {sha for _, ex in restored.rows() for sha in [ex.sha256]} == \
        {ex.sha256 for _, ex in after_first.rows()}
    Gallery.load(store, emb)  # loads: its embeddings file was never touched
    assert not backup.exists()


def test_a_catalogue_into_a_till_with_no_gallery_yet_and_its_rollback(tmp_path: Path) -> None:
    emb = ThumbEmbedder()
    store = tmp_path / "store"
    catalogue = check_catalogue(make_gallery(tmp_path / "c1", tmp_path / "p1", {"MILK-1L": 3}, emb), emb.identity)
    backup = tmp_path / "gallery.previous.json"
    merge_catalogue(store, catalogue, backup)
    assert Gallery.load(store, emb).skus == ["MILK-1L"]
    assert restore(store, backup)
    assert Gallery.load(store, emb).skus == []  # empty again, and still a gallery the till can open
    json.loads((store / "manifest.json").read_text())


def test_a_rollback_never_undoes_a_product_taught_after_the_merge(tmp_path: Path) -> None:
    emb = ThumbEmbedder()
    store = make_gallery(tmp_path / "store", tmp_path / "own", OWN, emb)
    catalogue = check_catalogue(make_gallery(tmp_path / "c1", tmp_path / "p1", {"MILK-1L": 3}, emb), emb.identity)
    backup = tmp_path / "gallery.previous.json"
    merge_catalogue(store, catalogue, backup)
    make_gallery(store, tmp_path / "taught", {"SODA-600": 4}, emb)  # the till saves a newly taught product
    taught = examples(store)
    assert restore(store, backup)
    assert examples(store) == taught
