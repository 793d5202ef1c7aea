"""Artifacts: a bundle packs to the same bytes wherever and whenever it is packed; a broken bundle
or a config the fleet may not set is refused at publish time, naming what is wrong."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from analytics.db.fleet_tables import artifacts
from analytics.fleet.artifacts import check_fleet_config, config_artifact, pack_bundle, store_artifact
from analytics.fleet.errors import FleetError
from tests.analytics.fleet.helpers import make_bundle

REPO = Path(__file__).resolve().parents[3]


def test_packing_is_deterministic_and_keeps_every_file_flat_and_anonymous(tmp_path: Path) -> None:
    one = make_bundle(tmp_path / "one", extra={"labels/readme.txt": b"notes"})
    first, again = pack_bundle(one), pack_bundle(one)
    assert first.data == again.data
    # a copy made later, with other times and permissions, packs to the same bytes
    two = tmp_path / "elsewhere" / "bundle"
    shutil.copytree(one, two)
    for path in two.rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))
        if path.is_file():
            path.chmod(0o600)
    copy = pack_bundle(two)
    assert copy.sha256 == first.sha256 == hashlib.sha256(first.data).hexdigest()
    assert first.bundle_version == "20261121.120000" and first.format == "tar.gz"

    assert gzip.decompress(first.data)  # a plain gzip stream
    assert first.data[4:8] == b"\0\0\0\0"  # gzip header mtime 0
    with tarfile.open(fileobj=io.BytesIO(first.data), mode="r:gz") as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        assert names == sorted(names) == ["labels/readme.txt", "manifest.json", "model.onnx", "selftest.jpg"]
        assert all(m.isreg() and m.mtime == 0 and m.uid == 0 and m.gid == 0 and m.uname == "" and m.mode == 0o644
                   for m in members)
        assert tar.extractfile("model.onnx").read() == (one / "model.onnx").read_bytes()


def test_a_changed_folder_packs_to_another_hash(tmp_path: Path) -> None:
    a = pack_bundle(make_bundle(tmp_path / "a", seed=1))
    b = pack_bundle(make_bundle(tmp_path / "b", seed=2))
    assert a.sha256 != b.sha256


def test_broken_bundles_are_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(FleetError, match=r"no manifest\.json"):
        (tmp_path / "empty").mkdir()
        pack_bundle(tmp_path / "empty")
    bundle = make_bundle(tmp_path / "b")
    (bundle / "model.onnx").write_bytes(b"tampered")
    with pytest.raises(FleetError, match=r"model_sha256 .* does not match model\.onnx"):
        pack_bundle(bundle)
    bundle = make_bundle(tmp_path / "c")
    doc = json.loads((bundle / "manifest.json").read_text())
    (bundle / "manifest.json").write_text(json.dumps({**doc, "format": "something/2"}))
    with pytest.raises(FleetError, match=r"expected 'tillsight\.bundle/1'"):
        pack_bundle(bundle)
    bundle = make_bundle(tmp_path / "d")
    (bundle / "link").symlink_to("/etc/passwd")
    with pytest.raises(FleetError, match="only regular files"):
        pack_bundle(bundle)
    bundle = make_bundle(tmp_path / "e")
    (bundle / "selftest.jpg").unlink()
    with pytest.raises(FleetError, match=r"self-test image selftest\.jpg"):
        pack_bundle(bundle)


def test_the_committed_demo_bundle_packs(tmp_path: Path) -> None:
    demo = REPO / "models" / "demo"
    if not (demo / "model.onnx").is_file():
        pytest.skip("models/demo not present")
    art = pack_bundle(demo)
    with tarfile.open(fileobj=io.BytesIO(art.data), mode="r:gz") as tar:
        assert {"manifest.json", "model.onnx"} <= set(tar.getnames())
    assert art.bundle_version == json.loads((demo / "manifest.json").read_text())["version"]


def test_config_with_a_key_the_fleet_may_not_set_is_refused_naming_it(tmp_path: Path) -> None:
    for text, key in (("mqtt:\n  host: evil.example\n", "mqtt.host"),
                      ("detector:\n  bundle: /tmp/x\n", "detector.bundle"),
                      ("store:\n  store_id: s-999\n", "store.store_id"),
                      ("gate:\n  threshold: 4\n  enabled: false\n", "gate.enabled"),
                      ("recognition:\n  head_min: 0.6\n  embedder: /tmp/x\n", "recognition.embedder")):
        with pytest.raises(FleetError, match=rf"{key}: not fleet-managed"):
            check_fleet_config(text)


def test_config_with_an_invalid_value_is_refused_naming_the_key(tmp_path: Path) -> None:
    for text, key in (("detector:\n  confidence: 2.0\n", "detector.confidence"),
                      ("gate:\n  min_interval_s: 5\n  max_interval_s: 1\n", "gate.max_interval_s"),
                      ("stabiliser:\n  settle_frames: many\n", "stabiliser.settle_frames"),
                      ("mqtt:\n  telemetry_interval_s: 0\n", "mqtt.telemetry_interval_s")):
        with pytest.raises(FleetError, match=rf"refused: {key}: ") as info:
            check_fleet_config(text)
        assert "from overrides" not in str(info.value)
    with pytest.raises(FleetError, match="not valid YAML"):
        check_fleet_config("detector: [\n")
    path = tmp_path / "empty.yaml"
    path.write_text("\n")
    with pytest.raises(FleetError, match="is empty"):
        config_artifact(path)


def test_a_valid_config_keeps_its_text(tmp_path: Path) -> None:
    path = tmp_path / "night.yaml"
    text = "# quieter at night\ndetector:\n  confidence: 0.45\ngate:\n  threshold: 4.5\n"
    path.write_text(text)
    art = config_artifact(path)
    assert art.data == text.encode() and art.kind == "config" and art.format == "yaml"
    assert art.name == "config night.yaml"


def test_artifacts_are_stored_once_by_content(tmp_path: Path, engine: Engine) -> None:
    art = pack_bundle(make_bundle(tmp_path / "b"))
    with engine.begin() as conn:
        first = store_artifact(conn, tmp_path / "store", art, "2026-11-21T15:00:00Z")
    with engine.begin() as conn:
        second = store_artifact(conn, tmp_path / "store", art, "2026-11-21T16:00:00Z")
    assert first == second
    assert first.path == (tmp_path / "store" / f"{art.sha256}.tar.gz").resolve()
    assert first.read() == art.data
    with engine.connect() as conn:
        rows = conn.execute(select(artifacts)).mappings().all()
    assert [(r["sha256"], r["kind"], r["size"]) for r in rows] == [(art.sha256, "model", len(art.data))]
    first.path.write_bytes(b"damaged")
    with pytest.raises(FleetError, match="no longer matches its SHA-256"):
        first.read()
