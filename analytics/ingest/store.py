"""Writes of the ingest, each inside the caller's transaction: idempotent inserts (ON CONFLICT DO
NOTHING on both SQLite and PostgreSQL), device state, sequence-gap bookkeeping, dead letters."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, and_, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from analytics.db import tables as t
from analytics.ingest.parse import Parsed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Applied:
    outcome: str  # "stored" | "duplicate" | "updated" | "ignored"


def insert_ignore(conn: Connection, table: Table, values: dict[str, Any]) -> int:
    """Insert a row unless its key exists; returns 1 if inserted, 0 if it was already there."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    else:
        raise RuntimeError(f"unsupported hub database dialect {dialect!r}")
    # RETURNING, not rowcount: drivers disagree on rowcount for ON CONFLICT DO NOTHING (psycopg gives -1).
    key = list(table.primary_key.columns)[0]
    return len(conn.execute(stmt.returning(key)).all())


def dead_letter(conn: Connection, topic: str, payload: bytes, reason: str, now: str) -> None:
    conn.execute(insert(t.dead_letters).values(topic=topic, payload=payload.decode("utf-8", errors="replace"),
                                               reason=reason[:2000], received_at=now))


def _device(conn: Connection, store_id: str, device_id: str, now: str) -> dict[str, Any]:
    """The device row, created if new, locked for this transaction (PostgreSQL: FOR UPDATE)."""
    insert_ignore(conn, t.devices, {"store_id": store_id, "device_id": device_id, "first_seen": now,
                                    "last_seen": now, "online": False, "last_seq": 0, "gaps": 0})
    row = conn.execute(select(t.devices).where(t.devices.c.store_id == store_id,
                                               t.devices.c.device_id == device_id).with_for_update()).mappings().one()
    return dict(row)


def _set_device(conn: Connection, store_id: str, device_id: str, **values: Any) -> None:
    conn.execute(update(t.devices).where(t.devices.c.store_id == store_id, t.devices.c.device_id == device_id)
                 .values(**values))


def apply(conn: Connection, msg: Parsed, now: str) -> Applied:
    if msg.kind == "tx":
        return _tx(conn, msg, now)
    if msg.kind == "alert":
        return _alert(conn, msg, now)
    dev = _device(conn, msg.store_id, msg.device_id, now)
    if msg.doc is None:
        return Applied("ignored")
    doc = msg.doc
    if msg.kind == "status":
        _set_device(conn, msg.store_id, msg.device_id, online=doc["state"] == "online", status_at=doc["at"],
                    status_reason=str(doc.get("reason", ""))[:200], last_seen=now)
    elif msg.kind == "telemetry":
        _set_device(conn, msg.store_id, msg.device_id, telemetry=doc, backlog=doc.get("backlog"),
                    versions=doc.get("versions") if isinstance(doc.get("versions"), dict) else dev["versions"],
                    last_tx_seq_reported=doc.get("last_tx_seq"), last_seen=now)
        reported = doc.get("last_tx_seq")
        if isinstance(reported, int) and doc.get("backlog") == 0 and reported > dev["last_seq"]:
            # The device has sent everything, yet the hub has not seen its newest sales: a tail gap.
            _open_gap(conn, msg.store_id, msg.device_id, dev["last_seq"] + 1, reported, now)
            _set_device(conn, msg.store_id, msg.device_id, gaps=_open_gaps(conn, msg.store_id, msg.device_id))
    elif msg.kind == "reported":
        _set_device(conn, msg.store_id, msg.device_id, reported=doc, last_seen=now)
    return Applied("updated")


def _tx(conn: Connection, msg: Parsed, now: str) -> Applied:
    doc = msg.doc
    assert doc is not None
    anomaly = doc.get("anomaly") or {}
    inserted = insert_ignore(conn, t.transactions, {
        "tx_id": doc["tx_id"], "store_id": msg.store_id, "device_id": msg.device_id, "seq": doc["seq"],
        "status": doc["status"], "cashier_id": doc["cashier_id"], "currency": doc["currency"],
        "completed_at": doc["completed_at"], "total": doc["total"], "customer_id": doc.get("customer_id"),
        "anomaly_score": anomaly.get("score") if isinstance(anomaly, dict) else None,
        "payload": doc, "received_at": now})
    dev = _device(conn, msg.store_id, msg.device_id, now)
    if not inserted:
        _set_device(conn, msg.store_id, msg.device_id, last_seen=now)
        return Applied("duplicate")
    if doc["lines"]:
        conn.execute(insert(t.tx_lines), [
            {"tx_id": doc["tx_id"], "line_no": i + 1, "store_id": msg.store_id, "sku": ln["sku"],
             "name": ln["name"], "qty": ln["qty"], "unit_price": ln["unit_price"], "line_total": ln["line_total"],
             "source": ln.get("source")} for i, ln in enumerate(doc["lines"])])
    seq, last = int(doc["seq"]), int(dev["last_seq"])
    if seq > last + 1:
        _open_gap(conn, msg.store_id, msg.device_id, last + 1, seq - 1, now)
    _fill_gaps(conn, msg.store_id, msg.device_id, seq, now)
    _set_device(conn, msg.store_id, msg.device_id, last_seq=max(seq, last), last_seen=now,
                gaps=_open_gaps(conn, msg.store_id, msg.device_id))
    return Applied("stored")


def _open_gap(conn: Connection, store_id: str, device_id: str, lo: int, hi: int, now: str) -> None:
    g = t.seq_gaps.c
    existing = conn.execute(select(g.id, g.to_seq).where(g.store_id == store_id, g.device_id == device_id,
                                                         g.from_seq == lo)).first()
    if existing is None:
        conn.execute(insert(t.seq_gaps).values(store_id=store_id, device_id=device_id, from_seq=lo, to_seq=hi,
                                               detected_at=now, filled=False))
        log.info("sequence gap on %s/%s: %d..%d missing", store_id, device_id, lo, hi)
    elif existing.to_seq < hi:
        conn.execute(update(t.seq_gaps).where(g.id == existing.id).values(to_seq=hi, filled=False, filled_at=None))


def _fill_gaps(conn: Connection, store_id: str, device_id: str, seq: int, now: str) -> None:
    g, tx = t.seq_gaps.c, t.transactions.c
    for gap in conn.execute(select(g.id, g.from_seq, g.to_seq).where(
            g.store_id == store_id, g.device_id == device_id, g.filled.is_(False),
            g.from_seq <= seq, g.to_seq >= seq)).all():
        have = conn.execute(select(func.count()).select_from(t.transactions).where(
            tx.store_id == store_id, tx.device_id == device_id,
            and_(tx.seq >= gap.from_seq, tx.seq <= gap.to_seq))).scalar_one()
        if have >= gap.to_seq - gap.from_seq + 1:
            conn.execute(update(t.seq_gaps).where(g.id == gap.id).values(filled=True, filled_at=now))
            log.info("sequence gap on %s/%s %d..%d filled", store_id, device_id, gap.from_seq, gap.to_seq)


def _open_gaps(conn: Connection, store_id: str, device_id: str) -> int:
    g = t.seq_gaps.c
    return int(conn.execute(select(func.count()).select_from(t.seq_gaps).where(
        g.store_id == store_id, g.device_id == device_id, g.filled.is_(False))).scalar_one())


def _alert(conn: Connection, msg: Parsed, now: str) -> Applied:
    doc = msg.doc
    assert doc is not None
    _device(conn, msg.store_id, msg.device_id, now)
    inserted = insert_ignore(conn, t.alerts, {
        "alert_id": doc["alert_id"], "store_id": msg.store_id, "device_id": msg.device_id, "kind": doc["kind"],
        "raised_at": doc["raised_at"], "tx_id": doc.get("tx_id"), "score": doc["score"],
        "reasons": list(doc["reasons"]), "model": doc.get("model"), "received_at": now})
    _set_device(conn, msg.store_id, msg.device_id, last_seen=now)
    return Applied("stored" if inserted else "duplicate")
