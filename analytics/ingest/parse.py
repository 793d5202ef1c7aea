"""Turn one MQTT message into a validated document, or a reason to dead-letter it.  Pure: no I/O.

Contract payloads (``tx``, ``alert``, ``credit``, ``reported``) are checked against their JSON
Schema by ``analytics.ingest.contracts`` (compiled once; the reason names the offending field)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from analytics.ingest.contracts import check
from contracts import ContractError

LEAVES = ("tx", "alert", "status", "telemetry", "reported", "credit")
CONTRACTS = {"tx": "tillsight.tx/1", "alert": "tillsight.alert/1", "credit": "tillsight.credit/1",
             "reported": "tillsight.reported/1"}  # the rollout controller trusts stored reported documents
STATUS_STATES = ("online", "offline")


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
    return [f"$share/{group}/{prefix}/+/+/{leaf}" for leaf in LEAVES]


def parse(topic: str, payload: bytes, prefix: str) -> Parsed | Rejected:
    head = prefix + "/"
    parts = topic[len(head):].split("/") if topic.startswith(head) else []
    if len(parts) != 3 or parts[2] not in LEAVES or not parts[0] or not parts[1]:
        return Rejected(f"unexpected topic (want {prefix}/STORE/DEVICE/{{{','.join(LEAVES)}}})")
    store_id, device_id, kind = parts
    if not payload:
        return Parsed(kind, store_id, device_id, None) if kind in ("status", "reported") else \
            Rejected("empty payload")
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Rejected(f"not JSON: {exc}")
    if not isinstance(doc, dict):
        return Rejected(f"payload must be a JSON object, not {type(doc).__name__}")
    if kind in CONTRACTS:
        try:
            check(CONTRACTS[kind], doc)
        except ContractError as exc:
            return Rejected(f"schema: {exc}")
    elif kind == "status":
        if doc.get("state") not in STATUS_STATES or not isinstance(doc.get("at"), str):
            return Rejected("status: needs state (online|offline) and at")
    elif kind == "telemetry":
        backlog = doc.get("backlog")
        if backlog is not None and (not isinstance(backlog, int) or isinstance(backlog, bool) or backlog < 0):
            return Rejected("telemetry: backlog must be a non-negative integer")
        seq = doc.get("last_tx_seq")
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool) or seq < 0):
            return Rejected("telemetry: last_tx_seq must be a non-negative integer")
    for key, expected in (("store_id", store_id), ("device_id", device_id)):
        if key in doc and doc[key] != expected:
            return Rejected(f"topic mismatch: payload {key} {doc[key]!r} but topic says {expected!r}")
    return Parsed(kind, store_id, device_id, doc)
