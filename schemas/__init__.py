"""The wire contracts as JSON Schema files, and one validator both sides use.

This package holds data, not behaviour: the device and the hub each load the same files, so they
never import each other.  It imports nothing of ours.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_DIR = Path(__file__).resolve().parent
_FILES = {"tillsight.tx/1": "tillsight.tx.1.json", "tillsight.alert/1": "tillsight.alert.1.json",
          "tillsight.manifest/1": "tillsight.manifest.1.json", "tillsight.desired/1": "tillsight.desired.1.json",
          "tillsight.reported/1": "tillsight.reported.1.json", "tillsight.credit/1": "tillsight.credit.1.json"}


class ContractError(ValueError):
    """A document that does not follow its contract; the message names the offending field."""


@lru_cache(maxsize=None)
def _validator(name: str) -> Draft202012Validator:
    try:
        filename = _FILES[name]
    except KeyError:
        raise ContractError(f"unknown contract {name!r}; known: {', '.join(sorted(_FILES))}") from None
    schema = json.loads((SCHEMA_DIR / filename).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def load_schema(name: str) -> dict[str, Any]:
    return dict(_validator(name).schema)


def validate(name: str, document: Any) -> None:
    """Raise :class:`ContractError` naming the first offending field (``lines[0].qty: ...``)."""
    errors = sorted(_validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path).lstrip(".")
        raise ContractError(f"{name}: {where or '(document)'}: {err.message}")


def canonical_bytes(document: dict[str, Any], omit: str = "signature") -> bytes:
    """The bytes a fleet manifest's Ed25519 signature covers: the document without ``omit``, as JSON
    with sorted keys, no insignificant whitespace, UTF-8.  Both sides must agree on these bytes, so
    they are part of the contract."""
    body = {key: value for key, value in document.items() if key != omit}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def key_id(public_key_raw: bytes) -> str:
    """A signing key's id as manifests name it: the first 16 hex digits of SHA-256 of the raw
    32-byte Ed25519 public key."""
    return hashlib.sha256(public_key_raw).hexdigest()[:16]
