"""Writes of ``tillsight.credit/1`` events, inside the caller's transaction (SQLite and PostgreSQL).

- ``credit_customers`` holds each customer's latest state.  An event replaces it only when it is
  newer: a later ``at`` or, at the same second from the same device, a higher ``seq``.  The test is
  part of the upsert (``INSERT ... ON CONFLICT DO UPDATE ... WHERE``), so two workers cannot undo
  each other, an older event that arrives late never overwrites a newer state, and a replayed event
  changes nothing.
- ``credit_repayments`` gets one row per repayment event (``event_id`` is the key; a replay is a
  duplicate).  A repayment also carries the customer's state after it, applied as above.

Times are kept as the payload's ``...Z`` to the second (a fraction is dropped), so that they compare
as text; within one second a device's ``seq`` orders its events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, func, literal, or_
from sqlalchemy.dialects import postgresql, sqlite

from analytics.db.credit_tables import credit_customers, credit_repayments
from analytics.ingest.parse import Parsed


def utc_second(value: str) -> str:
    """``2026-11-21T14:03:11.250Z`` -> ``2026-11-21T14:03:11Z`` (the contract's pattern is checked already)."""
    return value[:19] + "Z"


def _upsert_customer(conn: Connection, values: dict[str, Any]) -> bool:
    """Insert or update one customer when the event is newer; True if the row changed."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(credit_customers).values(**values)
    elif dialect == "sqlite":
        stmt = sqlite.insert(credit_customers).values(**values)
    else:
        raise RuntimeError(f"unsupported hub database dialect {dialect!r}")
    new, old = stmt.excluded, credit_customers.c
    newer = or_(old.updated_at < new.updated_at,
                and_(old.updated_at == new.updated_at, old.device_id == new.device_id,
                     func.coalesce(old.seq, literal(0)) < func.coalesce(new.seq, literal(0))))
    keys = ("store_id", "customer_id")
    stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                      set_={k: getattr(new, k) for k in values if k not in keys},
                                      where=newer)
    return bool(conn.execute(stmt.returning(old.customer_id)).all())


def apply_credit(conn: Connection, msg: Parsed, now: str) -> str:
    """Store one credit event; returns ``"stored"`` (something changed) or ``"duplicate"``."""
    doc = msg.doc
    assert doc is not None
    at = utc_second(doc["at"])
    cust = doc["customer"]
    repaid = False
    if doc["kind"] == "repayment":
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        repaid = bool(conn.execute(dialect.insert(credit_repayments).values(
            event_id=doc["event_id"], store_id=msg.store_id, device_id=msg.device_id,
            customer_id=cust["customer_id"], amount=doc["amount"], balance_after=cust["balance"], paid_at=at,
            received_at=now, currency=doc["currency"]).on_conflict_do_nothing()
            .returning(credit_repayments.c.event_id)).all())
    changed = _upsert_customer(conn, {
        "store_id": msg.store_id, "customer_id": cust["customer_id"], "name": cust["name"],
        "phone": cust.get("phone") or None, "credit_limit": cust["credit_limit"], "active": cust["active"],
        "balance": cust["balance"], "updated_at": at, "device_id": msg.device_id, "currency": doc["currency"],
        "event_id": doc["event_id"], "seq": doc.get("seq"), "received_at": now})
    return "stored" if repaid or changed else "duplicate"
