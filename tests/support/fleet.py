"""Test-side fleet operator (and attacker): an Ed25519 key, signed manifests, bundle tarballs,
retained chunk and desired messages on a real broker.  Device tests use it so they do not depend
on the hub's code; the end-to-end test drives the real ``tillsight hub fleet`` commands instead."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import tarfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion

from contracts import canonical_bytes, key_id, topics

PREFIX = topics.DEFAULT_PREFIX


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Operator:
    key: Ed25519PrivateKey
    public_pem: Path

    @classmethod
    def create(cls, folder: Path) -> Operator:
        key = Ed25519PrivateKey.generate()
        folder.mkdir(parents=True, exist_ok=True)
        pem = folder / "fleet-signing.pub"
        pem.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo))
        return cls(key, pem)

    @property
    def key_id(self) -> str:
        raw = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return key_id(raw)

    def sign(self, manifest: dict[str, Any]) -> dict[str, Any]:
        doc = dict(manifest, key_id=self.key_id)
        doc["signature"] = base64.b64encode(self.key.sign(canonical_bytes(doc))).decode()
        return doc

    def manifest(self, kind: str, version: int, artifact: bytes, *, fmt: str, target: dict[str, Any] | None = None,
                 chunk_size: int = 64 * 1024, window_s: float = 1.0, expires_in_s: float = 3600,
                 bundle_version: str | None = None, **health: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        art: dict[str, Any] = {"sha256": hashlib.sha256(artifact).hexdigest(), "size": len(artifact),
                               "format": fmt, "chunk_size": chunk_size,
                               "chunks": math.ceil(len(artifact) / chunk_size)}
        if bundle_version:
            art["bundle_version"] = bundle_version
        return self.sign({"schema": "tillsight.manifest/1", "kind": kind, "version": version,
                          "name": f"{kind}-v{version}", "deployment_id": str(uuid.uuid4()),
                          "issued_at": utc(now), "expires_at": utc(now + timedelta(seconds=expires_in_s)),
                          "target": target or {"group": "default"}, "artifact": art,
                          "health": {"window_s": window_s, "max_errors": 5, **health}})


def pack_bundle(folder: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            info = tar.gettarinfo(str(path), arcname=path.name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with open(path, "rb") as f:
                tar.addfile(info, f)
    return buf.getvalue()


def variant_bundle(src: Path, dst: Path, version: str, **manifest_changes: Any) -> Path:
    """A copy of a bundle with a new version string (and other manifest changes)."""
    dst.mkdir(parents=True)
    for path in src.iterdir():
        if path.is_file():
            (dst / path.name).write_bytes(path.read_bytes())
    manifest = json.loads((src / "manifest.json").read_text())
    manifest["version"] = version
    manifest.update(manifest_changes)
    (dst / "manifest.json").write_text(json.dumps(manifest))
    return dst


class Publisher:
    """A plain MQTT client that publishes retained fleet messages and waits for each PUBACK."""

    def __init__(self, host: str, port: int) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"op-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)
        self.client.connect(host, port)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes, retain: bool = True) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(timeout=10)

    def artifact(self, data: bytes, chunk_size: int, corrupt_chunk: int | None = None) -> None:
        sha = hashlib.sha256(data).hexdigest()
        for i in range(math.ceil(len(data) / chunk_size)):
            chunk = data[i * chunk_size:(i + 1) * chunk_size]
            if i == corrupt_chunk:
                chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
            self.publish(f"{PREFIX}/fleet/artifacts/{sha}/{i}", chunk)

    def desired(self, topic: str, model: dict | None = None, config: dict | None = None,
                gallery: dict | None = None) -> None:
        doc: dict[str, Any] = {"schema": "tillsight.desired/1", "published_at": utc(datetime.now(UTC)),
                               "model": model, "config": config}
        if gallery is not None:
            doc["gallery"] = gallery
        self.publish(topic, json.dumps(doc).encode())

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
