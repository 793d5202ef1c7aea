"""Turn one MQTT message into a validated document, or a reason to dead-letter it.  Pure: no I/O.

Topics and their contracts come from ``contracts.topics``; every payload (``tx``, ``alert``, ``credit``,
``reported``, ``status``, ``telemetry``, ``gallery``, ``gallery_photo``) is checked against its JSON Schema by
``analytics.ingest.contracts`` (compiled once; the reason names the offending field; a sale against the
version of ``tillsight.tx`` it names); a gallery photo's bytes
must also match its SHA-256."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from analytics.ingest.contracts import check
from contracts import ContractError
from contracts import topics as tp
from contracts.gallery import GalleryPhoto

LEAVES = tp.DEVICE_WRITES
# the rollout controller trusts stored reported documents; status and telemetry are typed too
CONTRACTS = {leaf: tp.CONTRACT_OF[leaf] for leaf in LEAVES}
#: every contract the ingest checks, older versions included (compiled once at start)
READ_CONTRACTS = tuple(sorted(set(CONTRACTS.values()) | {v for vs in tp.ACCEPTED_CONTRACTS.values() for v in vs}))


@dataclass(frozen=True)
class Parsed:
    kind: str  # one of LEAVES
    store_id: str
    device_id: str
    doc: dict[str, Any] | None  # None: an empty retained message (a cleared topic); nothing to store


@dataclass(frozen=True)
class Rejected:
    reason: str


def subscriptions(prefix: str, group: str) -> list[str]:
    return tp.hub_subscriptions(prefix, group, LEAVES)


def parse(topic: str, payload: bytes, prefix: str) -> Parsed | Rejected:
    parts = tp.split_device_topic(prefix, topic)
    if parts is None or parts[2] not in LEAVES:
        return Rejected(f"unexpected topic (want {prefix}/STORE/DEVICE/{{{','.join(LEAVES)}}})")
    store_id, device_id, kind = parts
    if not payload:
        return Parsed(kind, store_id, device_id, None) if kind in (tp.STATUS, tp.REPORTED) else \
            Rejected("empty payload")
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Rejected(f"not JSON: {exc}")
    if not isinstance(doc, dict):
        return Rejected(f"payload must be a JSON object, not {type(doc).__name__}")
    try:
        # a leaf read in several versions (tx/1 and /2, alert/1 and /2) is checked against the one the document names
        check(tp.contract_for(kind, doc), doc)
    except ContractError as exc:
        return Rejected(f"schema: {exc}")
    if kind == tp.GALLERY_PHOTO:
        try:
            GalleryPhoto.from_payload(doc)  # its bytes must match its SHA-256
        except ContractError as exc:
            return Rejected(f"schema: {exc}")
    for key, expected in (("store_id", store_id), ("device_id", device_id)):
        if key in doc and doc[key] != expected:
            return Rejected(f"topic mismatch: payload {key} {doc[key]!r} but topic says {expected!r}")
    return Parsed(kind, store_id, device_id, doc)
