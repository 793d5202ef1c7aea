"""Manifest checks: contract, signature by a trusted key, target, expiry.  Pure apart from reading
the public keys once."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from contracts import ContractError, canonical_bytes, key_id, validate
from contracts.timestamps import parse_utc

MANIFEST_SCHEMA = "tillsight.manifest/1"


class ManifestRefused(ValueError):
    """A manifest the device will not act on; the message says why (it goes on ``reported``)."""


@dataclass(frozen=True)
class Manifest:
    doc: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.doc["kind"])

    @property
    def version(self) -> int:
        return int(self.doc["version"])

    @property
    def deployment_id(self) -> str:
        return str(self.doc["deployment_id"])

    @property
    def name(self) -> str:
        return str(self.doc["name"])

    @property
    def sha256(self) -> str:
        return str(self.doc["artifact"]["sha256"])

    @property
    def size(self) -> int:
        return int(self.doc["artifact"]["size"])

    @property
    def chunks(self) -> int:
        return int(self.doc["artifact"]["chunks"])

    @property
    def chunk_size(self) -> int:
        return int(self.doc["artifact"]["chunk_size"])

    @property
    def bundle_version(self) -> str | None:
        return self.doc["artifact"].get("bundle_version")

    @property
    def health(self) -> dict[str, Any]:
        return dict(self.doc["health"])


def load_public_keys(paths: list[Path]) -> dict[str, Ed25519PublicKey]:
    """key id -> key, from PEM files; a missing or non-Ed25519 file is an error naming it."""
    keys: dict[str, Ed25519PublicKey] = {}
    for path in paths:
        try:
            key = serialization.load_pem_public_key(Path(path).read_bytes())
        except (OSError, ValueError) as exc:
            raise ValueError(f"fleet.public_keys: cannot read {path}: {exc}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"fleet.public_keys: {path} is not an Ed25519 public key")
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        keys[key_id(raw)] = key
    return keys


def _utc(text: str) -> datetime:
    return parse_utc(text)


def check_manifest(doc: Any, keys: dict[str, Ed25519PublicKey], store_id: str, device_id: str, group: str,
                   now: datetime) -> Manifest:
    """Return the manifest if the device may act on it, else raise ``ManifestRefused``."""
    try:
        validate(MANIFEST_SCHEMA, doc)
    except ContractError as exc:
        raise ManifestRefused(f"malformed manifest: {exc}") from None
    key = keys.get(doc["key_id"])
    if key is None:
        raise ManifestRefused(f"signed by an unknown key {doc['key_id']}")
    try:
        signature = base64.b64decode(doc["signature"], validate=True)
        key.verify(signature, canonical_bytes(doc))
    except (InvalidSignature, ValueError):
        raise ManifestRefused("bad signature") from None
    target = doc["target"]
    if "group" in target and target["group"] != group:
        raise ManifestRefused(f"for group {target['group']!r}, this device is in {group!r}")
    if "devices" in target and f"{store_id}/{device_id}" not in target["devices"]:
        raise ManifestRefused("not addressed to this device")
    if now >= _utc(doc["expires_at"]):
        raise ManifestRefused(f"expired at {doc['expires_at']}")
    return Manifest(doc)
