"""Fast checks of the fleet agent's parts: manifest verification, resumable downloads, safe
unpacking, persistent state and the fleet config overlay."""

from __future__ import annotations

import copy
import hashlib
import io
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge.fleet.download import ArtifactMismatch, ChunkDownload
from edge.fleet.install import InstallError, check_config_overlay, unpack_bundle
from edge.fleet.state import FleetState, Installed
from edge.fleet.verify import ManifestRefused, check_manifest, load_public_keys
from firmware_config import ConfigError, load_config
from tests.support.fleet import Operator

NOW = datetime.now(UTC)


@pytest.fixture
def operator(tmp_path: Path) -> Operator:
    return Operator.create(tmp_path / "keys")


def check(doc: dict, operator: Operator, group: str = "default", device: str = "till-1") -> object:
    keys = load_public_keys([operator.public_pem])
    return check_manifest(doc, keys, "s-001", device, group, NOW)


def test_a_signed_manifest_for_this_device_is_accepted(operator: Operator) -> None:
    doc = operator.manifest("model", 3, b"x" * 5000, fmt="tar.gz", chunk_size=1024)
    m = check(doc, operator)
    assert (m.kind, m.version, m.chunks, m.size) == ("model", 3, 5, 5000)
    by_device = operator.manifest("config", 1, b"a: 1", fmt="yaml", chunk_size=1024,
                                  target={"devices": ["s-001/till-1", "s-001/till-2"]})
    assert check(by_device, operator, group="other").kind == "config"


@pytest.mark.parametrize("path, value", [
    (("version",), 99), (("artifact", "sha256"), "0" * 64), (("artifact", "size"), 1),
    (("expires_at",), "2099-01-01T00:00:00Z"), (("target",), {"group": "default2"}), (("kind",), "config"),
])
def test_any_change_after_signing_breaks_the_signature(operator: Operator, path: tuple, value: object) -> None:
    doc = copy.deepcopy(operator.manifest("model", 3, b"x" * 5000, fmt="tar.gz", chunk_size=1024))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ManifestRefused, match="bad signature"):
        check(doc, operator)


def test_wrong_target_expired_unknown_key_and_malformed_are_refused(operator: Operator, tmp_path: Path) -> None:
    with pytest.raises(ManifestRefused, match="for group 'shop-b'"):
        check(operator.manifest("model", 1, b"x", fmt="tar.gz", chunk_size=1024, target={"group": "shop-b"}),
              operator)
    with pytest.raises(ManifestRefused, match="not addressed"):
        check(operator.manifest("model", 1, b"x", fmt="tar.gz", chunk_size=1024,
                                target={"devices": ["s-001/till-9"]}), operator)
    with pytest.raises(ManifestRefused, match="expired"):
        check(operator.manifest("model", 1, b"x", fmt="tar.gz", chunk_size=1024, expires_in_s=-3600), operator)
    other = Operator.create(tmp_path / "other")
    with pytest.raises(ManifestRefused, match="unknown key"):
        check(other.manifest("model", 1, b"x", fmt="tar.gz", chunk_size=1024), operator)
    broken = operator.manifest("model", 1, b"x", fmt="tar.gz", chunk_size=1024)
    del broken["artifact"]
    with pytest.raises(ManifestRefused, match=r"malformed manifest: .*artifact"):
        check(broken, operator)


def test_public_key_problems_name_the_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pub"
    junk.write_text("not a key")
    with pytest.raises(ValueError, match=r"junk\.pub"):
        load_public_keys([junk])
    with pytest.raises(ValueError, match=r"missing\.pub"):
        load_public_keys([tmp_path / "missing.pub"])


def test_a_download_keeps_its_chunks_and_resumes(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40  # 10240 bytes -> 3 chunks of 4096
    sha = hashlib.sha256(data).hexdigest()
    dl = ChunkDownload(tmp_path / sha, sha, len(data), 3, 4096)
    assert dl.add(0, data[:4096])
    assert not dl.add(7, b"x")  # outside the artifact
    assert not dl.add(1, data[4096:5000])  # wrong length: ignored, a good copy may come
    assert dl.missing() == [1, 2] and dl.progress() == pytest.approx(1 / 3)
    again = ChunkDownload(tmp_path / sha, sha, len(data), 3, 4096)  # after a restart
    assert again.missing() == [1, 2]
    again.add(1, data[4096:8192])
    again.add(2, data[8192:])
    assert again.complete()
    assert again.assemble().read_bytes() == data


def test_an_artifact_that_does_not_match_its_manifest_is_discarded(tmp_path: Path) -> None:
    data = b"a" * 3000
    sha = hashlib.sha256(data).hexdigest()
    dl = ChunkDownload(tmp_path / sha, sha, len(data), 3, 1024)
    dl.add(0, b"a" * 1024)
    dl.add(1, b"b" * 1024)  # altered on the way
    dl.add(2, b"a" * 952)
    with pytest.raises(ArtifactMismatch, match="sha256"):
        dl.assemble()
    assert not (tmp_path / sha).exists()


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for info, content in members:
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return buf.getvalue()


def _file(name: str, content: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    return info, content


def test_unpacking_accepts_plain_files_only(tmp_path: Path) -> None:
    good = tmp_path / "good.tar.gz"
    good.write_bytes(_tar([_file("manifest.json", b"{}"), _file("model.onnx", b"m")]))
    dest = unpack_bundle(good, tmp_path / "v1")
    assert sorted(p.name for p in dest.iterdir()) == ["manifest.json", "model.onnx"]

    link = tarfile.TarInfo("model.onnx")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
    for name, members, match in (
        ("link", [_file("manifest.json", b"{}"), (link, None)], "not a plain file"),
        ("escape", [_file("manifest.json", b"{}"), _file("../../evil", b"x")], "cannot be unpacked"),
        ("nomanifest", [_file("model.onnx", b"m")], "no manifest.json"),
    ):
        archive = tmp_path / f"{name}.tar.gz"
        archive.write_bytes(_tar(members))
        with pytest.raises(InstallError, match=match):
            unpack_bundle(archive, tmp_path / name)
        assert not (tmp_path / name).exists()
    assert not (tmp_path.parent / "evil").exists()
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tarball")
    with pytest.raises(InstallError, match="cannot be unpacked"):
        unpack_bundle(junk, tmp_path / "junk")


def test_fleet_state_survives_a_restart_and_refuses_damage(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = FleetState()
    state.trust("model", 4)
    state.trust("model", 2)  # never goes down
    state.promote("model", Installed(4, "m4", "ab" * 32, "2026", "2026-11-21T00:00:00Z", "d4", "/x"), 1)
    state.record("model", 4, "d4", "succeeded", "ok", "2026-11-21T00:00:00Z")
    state.save(path)
    again = FleetState.load(path)
    assert again.trusted == {"model": 4} and again.running["model"].version == 4
    assert again.results[0]["outcome"] == "succeeded"
    path.write_text("{ half a file")
    with pytest.raises(ValueError, match="unreadable fleet state"):
        FleetState.load(path)


def test_the_overlay_sits_between_the_file_and_the_environment(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "fleet").mkdir(parents=True)
    (data / "fleet" / "config.yaml").write_text("detector:\n  confidence: 0.5\n  iou: 0.6\n")
    cfg_file = tmp_path / "device.yaml"
    cfg_file.write_text(f"data_dir: {data}\ndetector:\n  confidence: 0.3\n  iou: 0.3\n")
    cfg = load_config(cfg_file, env={"TILLSIGHT__DETECTOR__IOU": "0.7"})
    assert cfg.detector.confidence == 0.5  # overlay beats the file
    assert cfg.detector.iou == 0.7  # the environment beats the overlay
    assert load_config(cfg_file, env={}, fleet_overlay=False).detector.confidence == 0.3
    (data / "fleet" / "config.yaml").write_text("mqtt:\n  password: stolen\n")
    with pytest.raises(ConfigError, match=r"mqtt\.password: not fleet-managed"):
        load_config(cfg_file, env={})


def test_a_config_update_is_checked_as_the_whole_configuration() -> None:
    cfg = load_config(None, env={})
    assert check_config_overlay(b"gate:\n  threshold: 9\n", cfg) == {"gate": {"threshold": 9}}
    with pytest.raises(InstallError, match=r"store\.store_id: not fleet-managed"):
        check_config_overlay(b"store:\n  store_id: s-999\n", cfg)
    with pytest.raises(InstallError, match=r"gate\.max_interval_s: .*>= min_interval_s"):
        check_config_overlay(b"gate:\n  min_interval_s: 5\n  max_interval_s: 1\n", cfg)
    with pytest.raises(InstallError, match="not valid YAML"):
        check_config_overlay(b"gate: [unclosed\n", cfg)


def test_a_bundle_runs_at_its_own_calibrated_thresholds_unless_the_config_sets_them() -> None:
    from edge.fleet.install import load_checked
    from vision.bundle import load_manifest

    bundle = Path("models/demo")
    manifest = load_manifest(bundle)
    detector = load_checked(bundle, load_config(None, env={}, fleet_overlay=False))
    assert (detector.confidence, detector.iou) == (manifest.confidence, manifest.iou)
    pinned = load_config(None, env={"TILLSIGHT__DETECTOR__CONFIDENCE": "0.61"}, fleet_overlay=False)
    assert load_checked(bundle, pinned).confidence == pytest.approx(0.61)
