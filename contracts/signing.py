"""The bytes a fleet manifest's Ed25519 signature covers, and a signing key's id.

Both sides must agree on these exactly (the hub signs, the device verifies), so they are part of
the contract, not of either side.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_bytes(document: dict[str, Any], omit: str = "signature") -> bytes:
    """The document without ``omit``, as JSON with sorted keys, no insignificant whitespace, UTF-8."""
    body = {key: value for key, value in document.items() if key != omit}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def key_id(public_key_raw: bytes) -> str:
    """A signing key's id as manifests name it: the first 16 hex digits of SHA-256 of the raw
    32-byte Ed25519 public key."""
    return hashlib.sha256(public_key_raw).hexdigest()[:16]
