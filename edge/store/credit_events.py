"""Credit events for the hub (``tillsight.credit/1``): a credit customer's new state, or a
repayment, queued in the outbox inside the caller's transaction (the one that changed the
customer), so the change and its message are written together or not at all.

Each event carries the customer's whole state after the change (name, phone, limit, active,
balance), so the hub's copy follows the device whatever it missed; a repayment also carries its
amount.  ``seq`` is a per-device counter (``credit_seq``) that orders events written in the same
second.  Names and phones go to the hub only; the hub pseudonymises them before any LLM call."""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from contracts import ContractError, validate
from edge.store.errors import NotFoundError, ValidationError
from edge.store.outbox import enqueue
from edge.store.settings import StoreSettings
from i18n import gettext as _

log = logging.getLogger(__name__)

CREDIT_SCHEMA = "tillsight.credit/1"
OUTBOX_KIND = "credit"
SEQ_COUNTER = "credit_seq"


@dataclass(frozen=True)
class DeviceIdentity:
    """Which store and till this database belongs to (from the configuration): the events' origin."""

    store_id: str
    device_id: str


def _next_seq(conn: sqlite3.Connection) -> int:
    conn.execute("INSERT INTO counters(name, value) VALUES (?, 0) ON CONFLICT(name) DO NOTHING", (SEQ_COUNTER,))
    conn.execute("UPDATE counters SET value = value + 1 WHERE name = ?", (SEQ_COUNTER,))
    return int(conn.execute("SELECT value FROM counters WHERE name = ?", (SEQ_COUNTER,)).fetchone()[0])


def _currency(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT value FROM settings WHERE key = 'currency'").fetchone()
    return str(json.loads(row[0])) if row is not None else StoreSettings().currency


def customer_state(conn: sqlite3.Connection, customer_id: str) -> dict[str, Any]:
    """The ``customer`` block of an event: the customer's state as this transaction sees it."""
    row = conn.execute("SELECT id, name, phone, credit_limit, active, balance FROM customers WHERE id = ?",
                       (customer_id,)).fetchone()
    if row is None:
        raise NotFoundError(_("no customer %(customer)s", customer=repr(customer_id)))
    return {"customer_id": row["id"], "name": row["name"], "phone": row["phone"] or None,
            "credit_limit": int(row["credit_limit"]), "active": bool(row["active"]), "balance": int(row["balance"])}


def enqueue_credit_event(conn: sqlite3.Connection, identity: DeviceIdentity, customer_id: str, at: str,
                         amount: int | None = None) -> dict[str, Any]:
    """Queue a ``customer`` event (or a ``repayment`` one when ``amount`` is given) for
    ``customer_id`` inside the caller's transaction; returns the payload.  A payload that breaks the
    contract raises :class:`ValidationError` and so rolls the whole change back."""
    payload: dict[str, Any] = {
        "schema": CREDIT_SCHEMA, "event_id": str(uuid.uuid4()), "seq": _next_seq(conn),
        "store_id": identity.store_id, "device_id": identity.device_id, "at": at,
        "kind": "customer" if amount is None else "repayment", "customer": customer_state(conn, customer_id),
        "currency": _currency(conn)}
    if amount is not None:
        payload["amount"] = amount
    try:
        validate(CREDIT_SCHEMA, payload)
    except ContractError as exc:
        raise ValidationError(str(exc)) from exc
    enqueue(conn, OUTBOX_KIND, payload["event_id"], payload, at)
    return payload


def catch_up(conn: sqlite3.Connection, identity: DeviceIdentity, at: str) -> int:
    """Queue a ``customer`` event for every customer that has none under ``identity`` yet (customers
    made before this device knew its identity, before credit events existed, or under another
    store/device id); returns how many.  Inside the caller's transaction.  A customer whose record
    breaks the contract is logged and skipped, so it cannot stop the till from starting."""
    missing = [r[0] for r in conn.execute(
        "SELECT id FROM customers WHERE id NOT IN (SELECT json_extract(payload, '$.customer.customer_id')"
        " FROM outbox WHERE kind = ? AND json_extract(payload, '$.store_id') = ?"
        " AND json_extract(payload, '$.device_id') = ?) ORDER BY id",
        (OUTBOX_KIND, identity.store_id, identity.device_id)).fetchall()]
    queued = 0
    for customer_id in missing:
        try:
            enqueue_credit_event(conn, identity, customer_id, at)
            queued += 1
        except ValidationError as exc:
            log.warning("credit customer %r not sent to the hub: %s", customer_id, exc)
    if queued:
        log.info("queued the state of %d credit customer(s) for the hub (%s/%s)", queued,
                 identity.store_id, identity.device_id)
    return queued
