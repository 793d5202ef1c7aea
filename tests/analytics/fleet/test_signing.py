"""The operator's signing key and manifest signatures, checked with ``cryptography`` directly (as
a device would): a round trip verifies, and changing any field of a signed manifest breaks it."""

from __future__ import annotations

import base64
import copy
import os
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import contracts
from analytics.fleet.artifacts import StoredArtifact
from analytics.fleet.errors import FleetError
from analytics.fleet.manifests import Health, build_manifest, sign
from analytics.fleet.signing import generate_keypair, load_private_key, load_public_key, verify_manifest
from tests.analytics.fleet.helpers import T0


def _manifest(tmp_path: Path) -> tuple[dict[str, Any], Ed25519PublicKey]:
    files = generate_keypair(tmp_path / "keys")
    artifact = StoredArtifact("ab" * 32, "model", "yolo11n 20261121", 1_234_567, tmp_path / "x.tar.gz",
                              "2026-11-21T15:00:00Z")
    unsigned = build_manifest(kind="model", version=7, name="yolo11n 20261121", deployment_id="d" * 36,
                              issued_at=T0, expires_in=timedelta(days=30), target={"group": "north"},
                              artifact=artifact, chunk_size=262144, health=Health(300.0, 250.0, 2),
                              bundle_version="20261121.120000")
    signed = sign(unsigned, load_private_key(files.private_key))
    public = serialization.load_pem_public_key(files.public_key.read_bytes())
    assert isinstance(public, Ed25519PublicKey)
    return signed, public


def _verify(manifest: dict[str, Any], public: Ed25519PublicKey) -> None:
    public.verify(base64.b64decode(manifest["signature"]), contracts.canonical_bytes(manifest))


def test_keygen_writes_a_private_key_only_its_owner_can_read_and_never_overwrites(tmp_path: Path) -> None:
    files = generate_keypair(tmp_path / "keys")
    assert stat.S_IMODE(files.private_key.stat().st_mode) == 0o600
    assert b"BEGIN PRIVATE KEY" in files.private_key.read_bytes()  # PKCS#8
    assert b"BEGIN PUBLIC KEY" in files.public_key.read_bytes()
    raw = load_public_key(files.public_key).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert files.key_id == contracts.key_id(raw)
    before = files.private_key.read_bytes()
    with pytest.raises(FleetError, match="already exists"):
        generate_keypair(tmp_path / "keys")
    assert files.private_key.read_bytes() == before


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    files = generate_keypair(tmp_path / "keys")
    os.chmod(files.private_key, 0o644)
    with pytest.raises(FleetError, match="chmod 600"):
        load_private_key(files.private_key)
    with pytest.raises(FleetError, match="not found"):
        load_private_key(tmp_path / "nope.key")
    with pytest.raises(FleetError, match="not an unencrypted PEM private key"):
        load_private_key(_private_file(tmp_path / "bad.key", b"hello"))


def _private_file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def test_signed_manifest_follows_the_contract_and_verifies(tmp_path: Path) -> None:
    manifest, public = _manifest(tmp_path)
    contracts.validate("tillsight.manifest/1", manifest)
    _verify(manifest, public)
    assert verify_manifest(manifest, public)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert manifest["key_id"] == contracts.key_id(raw)
    assert manifest["version"] == 7 and manifest["expires_at"] == "2026-12-21T15:00:00Z"
    assert manifest["artifact"]["chunks"] == 5  # ceil(1234567 / 262144)


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value[:-1] + ("0" if value[-1:] != "0" else "1")
    if value is None:
        return 1
    raise AssertionError(f"no change for {value!r}")


def _paths(doc: dict[str, Any], parent: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for key, value in doc.items():
        if key == "signature":
            continue
        if isinstance(value, dict):
            out += _paths(value, (*parent, key))
        elif isinstance(value, list):
            out += [(*parent, key, i) for i in range(len(value))]
        else:
            out.append((*parent, key))
    return out


def test_changing_any_field_breaks_the_signature(tmp_path: Path) -> None:
    manifest, public = _manifest(tmp_path)
    paths = _paths(manifest)
    assert ("artifact", "sha256") in paths and ("version",) in paths and ("target", "group") in paths
    for path in paths:
        tampered = copy.deepcopy(manifest)
        node = tampered
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = _changed(node[path[-1]])
        with pytest.raises(InvalidSignature):
            _verify(tampered, public)
        assert not verify_manifest(tampered, public), path
    # adding a field or dropping one is a change too
    for tampered in ({**manifest, "extra": 1}, {k: v for k, v in manifest.items() if k != "expires_at"}):
        with pytest.raises(InvalidSignature):
            _verify(tampered, public)


def test_a_manifest_signed_by_another_key_does_not_verify(tmp_path: Path) -> None:
    manifest, _ = _manifest(tmp_path)
    other = generate_keypair(tmp_path / "other")
    assert not verify_manifest(manifest, load_public_key(other.public_key))
