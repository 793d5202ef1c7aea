"""Writes of the ingest, each inside the caller's transaction: idempotent inserts (ON CONFLICT DO
NOTHING on both SQLite and PostgreSQL), device state, sequence-gap bookkeeping, dead letters.

:func:`apply_batch` stores a whole batch with a few statements, whatever its size: the sales in one
multi-row ``INSERT ... ON CONFLICT DO NOTHING RETURNING tx_id`` (what comes back was new; the rest
were duplicates), their lines in one executemany, the batch's device rows read and locked once (PostgreSQL:
``FOR UPDATE``, in one order), and each device's row written once at the end.  The device state
(last sequence number, open gaps, status, telemetry) is then worked out in memory, message by
message in the order given, exactly as one message at a time would leave it (tested against that);
sequence gaps are rare, and each one opened or filled is written when it happens.  :func:`apply` is
the same for one message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, and_, func, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from analytics.db import tables as t
from analytics.gallery.ingest import store_announcement, store_photo
from analytics.ingest import catalogue, costs
from analytics.ingest.credit import apply_credit
from analytics.ingest.parse import Parsed
from analytics.ingest.resend import close_unfillable
from contracts.alerts import AlertMessage
from contracts.resend import ResendAnswer
from contracts.topics import GALLERY, GALLERY_PHOTO, RESEND_ANSWER
from contracts.validation import ContractError

log = logging.getLogger(__name__)

DeviceKey = tuple[str, str]  # (store_id, device_id)


@dataclass(frozen=True)
class Applied:
    outcome: str  # "stored" | "duplicate" | "updated" | "ignored"


def _insert(conn: Connection, table: Table) -> Any:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise RuntimeError(f"unsupported hub database dialect {dialect!r}")


def insert_ignore(conn: Connection, table: Table, values: dict[str, Any]) -> int:
    """Insert a row unless its key exists; returns 1 if inserted, 0 if it was already there."""
    # RETURNING, not rowcount: drivers disagree on rowcount for ON CONFLICT DO NOTHING (psycopg gives -1).
    key = next(iter(table.primary_key.columns))
    return len(conn.execute(_insert(conn, table).values(**values).returning(key)).all())


def dead_letter(conn: Connection, topic: str, payload: bytes, reason: str, now: str) -> None:
    dead_letters(conn, [(topic, payload, reason)], now)


def dead_letters(conn: Connection, letters: list[tuple[str, bytes, str]], now: str) -> None:
    """Store (topic, raw payload, reason) rows, in one statement."""
    if letters:
        conn.execute(insert(t.dead_letters), [
            {"topic": topic, "payload": payload.decode("utf-8", errors="replace"), "reason": reason[:2000],
             "received_at": now} for topic, payload, reason in letters])


def apply(conn: Connection, msg: Parsed, now: str) -> Applied:
    return apply_batch(conn, [msg], now)[0]


def apply_batch(conn: Connection, msgs: list[Parsed], now: str) -> list[Applied]:
    """Store ``msgs`` in order (one device's messages must keep their arrival order); one outcome each.

    Every message creates its device's row if it is new.  A sale whose ``tx_id`` the hub already has,
    or that came earlier in the same batch, is a duplicate: only the device's ``last_seen`` moves."""
    if not msgs:
        return []
    inserted = _insert_sales(conn, msgs, now)
    devices = _lock_devices(conn, sorted({(m.store_id, m.device_id) for m in msgs}), now)
    out: list[Applied] = []
    for msg in msgs:
        dev = devices[(msg.store_id, msg.device_id)]
        if msg.kind == "tx":
            out.append(_tx(conn, dev, msg, msg.doc is not None and inserted.pop(msg.doc["tx_id"], None) is msg, now))
        elif msg.kind == "alert":
            out.append(_alert(conn, dev, msg, now))
        elif msg.kind == RESEND_ANSWER and msg.doc is not None:
            out.append(_resend_answer(conn, dev, msg, now))
        elif msg.kind == "credit" and msg.doc is not None:
            out.append(Applied(apply_credit(conn, msg, now)))
            dev.set(last_seen=now)
        elif msg.kind in (GALLERY, GALLERY_PHOTO) and msg.doc is not None:
            store_gallery = store_announcement if msg.kind == GALLERY else store_photo
            out.append(Applied(store_gallery(conn, msg.store_id, msg.device_id, msg.doc, now)))
            dev.set(last_seen=now)
        elif msg.doc is None:
            out.append(Applied("ignored"))
        else:
            _device_message(conn, dev, msg, now)
            out.append(Applied("updated"))
    for dev in devices.values():
        dev.flush(conn)
    return out


# -- devices ----------------------------------------------------------------------------------
@dataclass
class _Device:
    """One device row as this transaction sees it, with the changes not yet written."""

    key: DeviceKey
    row: dict[str, Any]
    open_gaps: list[tuple[int, int, int]] | None = None  # (id, from_seq, to_seq), loaded on first need
    changes: dict[str, Any] = field(default_factory=dict)

    def set(self, **values: Any) -> None:
        self.row.update(values)
        self.changes.update(values)

    def gaps(self, conn: Connection) -> list[tuple[int, int, int]]:
        if self.open_gaps is None:
            self.reload_gaps(conn)
        assert self.open_gaps is not None
        return self.open_gaps

    def reload_gaps(self, conn: Connection) -> None:
        g = t.seq_gaps.c
        self.open_gaps = [(r.id, r.from_seq, r.to_seq) for r in conn.execute(
            select(g.id, g.from_seq, g.to_seq).where(g.store_id == self.key[0], g.device_id == self.key[1],
                                                     g.filled.is_(False)).order_by(g.from_seq))]

    def flush(self, conn: Connection) -> None:
        if self.changes:
            d = t.devices.c
            conn.execute(update(t.devices).where(d.store_id == self.key[0], d.device_id == self.key[1])
                         .values(**self.changes))
            self.changes = {}


def _lock_devices(conn: Connection, keys: list[DeviceKey], now: str) -> dict[DeviceKey, _Device]:
    """The batch's device rows, created if new, locked for this transaction (PostgreSQL: FOR UPDATE,
    in key order so that concurrent workers cannot deadlock on them)."""
    d = t.devices.c

    def read() -> dict[DeviceKey, _Device]:
        rows = conn.execute(select(t.devices).where(tuple_(d.store_id, d.device_id).in_(keys))
                            .order_by(d.store_id, d.device_id).with_for_update()).mappings().all()
        return {(r["store_id"], r["device_id"]): _Device((r["store_id"], r["device_id"]), dict(r)) for r in rows}

    found = read()
    missing = [k for k in keys if k not in found]
    if missing:
        conn.execute(_insert(conn, t.devices), [
            {"store_id": s, "device_id": dv, "first_seen": now, "last_seen": now, "online": False, "last_seq": 0,
             "gaps": 0} for s, dv in missing])
        found = read()
    return found


def _device_message(conn: Connection, dev: _Device, msg: Parsed, now: str) -> None:
    doc = msg.doc
    assert doc is not None
    if msg.kind == "status":
        dev.set(online=doc["state"] == "online", status_at=doc["at"], status_reason=str(doc.get("reason", ""))[:200],
                last_seen=now)
    elif msg.kind == "telemetry":
        dev.set(telemetry=doc, backlog=doc.get("backlog"),
                versions=doc.get("versions") if isinstance(doc.get("versions"), dict) else dev.row["versions"],
                last_tx_seq_reported=doc.get("last_tx_seq"), last_seen=now)
        stock = doc.get("stock")
        if isinstance(stock, dict):
            catalogue.remember(conn, msg.store_id, msg.device_id, stock.get("items"), now)
        reported = doc.get("last_tx_seq")
        if isinstance(reported, int) and doc.get("backlog") == 0 and reported > dev.row["last_seq"]:
            # The device has sent everything, yet the hub has not seen its newest sales: a tail gap.
            _open_gap(conn, dev, dev.row["last_seq"] + 1, reported, now)
            dev.set(gaps=len(dev.gaps(conn)))
    elif msg.kind == "reported":
        dev.set(reported=doc, last_seen=now)


# -- sales ------------------------------------------------------------------------------------
def _insert_sales(conn: Connection, msgs: list[Parsed], now: str) -> dict[str, Parsed]:
    """Insert the batch's new sales and their lines; returns tx_id -> the message that stored it."""
    first: dict[str, Parsed] = {}
    for m in msgs:
        if m.kind == "tx" and m.doc is not None:
            first.setdefault(m.doc["tx_id"], m)  # a later copy in the same batch is a duplicate
    if not first:
        return {}
    rows = []
    # In tx_id order: two workers that were both handed copies of the same sales take their key
    # locks in one order (PostgreSQL), so they wait for each other instead of deadlocking.
    for _, m in sorted(first.items()):
        doc = m.doc
        assert doc is not None
        anomaly = doc.get("anomaly") or {}
        rows.append({
            "tx_id": doc["tx_id"], "store_id": m.store_id, "device_id": m.device_id, "seq": doc["seq"],
            "status": doc["status"], "cashier_id": doc["cashier_id"], "currency": doc["currency"],
            "completed_at": doc["completed_at"], "total": doc["total"], "customer_id": doc.get("customer_id"),
            "anomaly_score": anomaly.get("score") if isinstance(anomaly, dict) else None,
            "payload": doc, "received_at": now})
    key = t.transactions.c.tx_id
    new = set(conn.execute(_insert(conn, t.transactions).returning(key), rows).scalars())
    inserted = {tx_id: m for tx_id, m in first.items() if tx_id in new}
    # a line of a SKU the catalogue knows is stored under the catalogue's name (the sale's own name
    # stays in its payload): a sale never renames a product (analytics.ingest.catalogue)
    named = catalogue.names(conn, {(m.store_id, ln["sku"]) for m in inserted.values()
                                   for ln in m.doc["lines"]})  # type: ignore[index]
    lines = [{"tx_id": tx_id, "line_no": i + 1, "store_id": m.store_id, "sku": ln["sku"],
              "name": named.get((m.store_id, ln["sku"]), ln["name"]),
              "qty": ln["qty"], "unit_price": ln["unit_price"], "line_total": ln["line_total"],
              "source": ln.get("source"), **costs.line_columns(m.doc, ln, i + 1)}  # type: ignore[arg-type]
             for tx_id, m in inserted.items() for i, ln in enumerate(m.doc["lines"])]  # type: ignore[index]
    if lines:
        conn.execute(insert(t.tx_lines), lines)
        costs.remember(conn, [m.doc for m in inserted.values() if m.doc is not None], now)
    return inserted




def _tx(conn: Connection, dev: _Device, msg: Parsed, stored: bool, now: str) -> Applied:
    doc = msg.doc
    assert doc is not None
    if not stored:
        dev.set(last_seen=now)
        return Applied("duplicate")
    seq, last = int(doc["seq"]), int(dev.row["last_seq"])
    changed = False
    if seq > last + 1:
        _open_gap(conn, dev, last + 1, seq - 1, now)
        changed = True
    changed = _fill_gaps(conn, dev, seq, now) or changed
    values: dict[str, Any] = {"last_seq": max(seq, last), "last_seen": now}
    if changed or dev.row["gaps"] != len(dev.gaps(conn)):
        values["gaps"] = len(dev.gaps(conn))
    dev.set(**values)
    return Applied("stored")


def _open_gap(conn: Connection, dev: _Device, lo: int, hi: int, now: str) -> None:
    g = t.seq_gaps.c
    store_id, device_id = dev.key
    existing = conn.execute(select(g.id, g.to_seq).where(g.store_id == store_id, g.device_id == device_id,
                                                         g.from_seq == lo)).first()
    if existing is None:
        conn.execute(insert(t.seq_gaps).values(store_id=store_id, device_id=device_id, from_seq=lo, to_seq=hi,
                                               detected_at=now, filled=False))
        log.info("sequence gap on %s/%s: %d..%d missing", store_id, device_id, lo, hi)
    elif existing.to_seq < hi:
        conn.execute(update(t.seq_gaps).where(g.id == existing.id).values(to_seq=hi, filled=False, filled_at=None,
                                                                          closed_reason=None))
    else:
        return
    dev.reload_gaps(conn)


def _fill_gaps(conn: Connection, dev: _Device, seq: int, now: str) -> bool:
    """Mark the open gaps holding ``seq`` filled once all their sales are here; True if any was."""
    g, tx = t.seq_gaps.c, t.transactions.c
    store_id, device_id = dev.key
    filled = False
    for gap_id, lo, hi in [gap for gap in dev.gaps(conn) if gap[1] <= seq <= gap[2]]:
        have = conn.execute(select(func.count()).select_from(t.transactions).where(
            tx.store_id == store_id, tx.device_id == device_id, and_(tx.seq >= lo, tx.seq <= hi))).scalar_one()
        if have >= hi - lo + 1:
            conn.execute(update(t.seq_gaps).where(g.id == gap_id).values(filled=True, filled_at=now))
            log.info("sequence gap on %s/%s %d..%d filled", store_id, device_id, lo, hi)
            filled = True
    if filled:
        dev.reload_gaps(conn)
    return filled


# -- gap repair -------------------------------------------------------------------------------
def _resend_answer(conn: Connection, dev: _Device, msg: Parsed, now: str) -> Applied:
    """The device's answer to a resend request: close what it says it cannot fill."""
    assert msg.doc is not None
    try:
        answer = ResendAnswer.from_doc(msg.doc)
    except ContractError as exc:  # schema-valid, but a range outside the request: nothing to close
        log.warning("ignoring a resend answer from %s/%s: %s", msg.store_id, msg.device_id, exc)
        dev.set(last_seen=now)
        return Applied("ignored")
    closed = close_unfillable(conn, msg.store_id, msg.device_id, answer, now)
    dev.reload_gaps(conn)
    dev.set(gaps=len(dev.gaps(conn)), last_seen=now)
    return Applied("updated" if closed else "ignored")


# -- alerts -----------------------------------------------------------------------------------
def _alert(conn: Connection, dev: _Device, msg: Parsed, now: str) -> Applied:
    """An alert raised on the device, or its closing (the same alert with ``closed_at``): stored once, then
    marked closed; a closing that arrives first stores the alert already closed."""
    assert msg.doc is not None
    alert = AlertMessage.from_doc(msg.doc)
    inserted = insert_ignore(conn, t.alerts, {
        "alert_id": alert.alert_id, "store_id": msg.store_id, "device_id": msg.device_id, "kind": alert.kind,
        "raised_at": alert.raised_at, "tx_id": alert.tx_id, "score": alert.score, "reasons": list(alert.reasons),
        "model": alert.model or None, "received_at": now, "closed_at": alert.closed_at,
        "closed_how": alert.closed_how})
    dev.set(last_seen=now)
    if inserted:
        return Applied("stored")
    if alert.closed:
        a = t.alerts.c
        closed = conn.execute(update(t.alerts).where(a.store_id == msg.store_id, a.alert_id == alert.alert_id,
                                                     a.closed_at.is_(None))
                              .values(closed_at=alert.closed_at, closed_how=alert.closed_how)).rowcount
        if closed:
            return Applied("updated")
    return Applied("duplicate")
