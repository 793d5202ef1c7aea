"""Alerts shown on the dashboard (anomalous sales, device health), each with readable reasons.

Every alert goes to the hub twice through the outbox (``contracts.alerts``): when it is raised, and when it is
closed here (acknowledged on the dashboard, or its condition cleared), so the hub's pages show what the store
has dealt with."""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import replace

from contracts.alerts import AlertKind, AlertMessage, ClosedHow
from edge.store.database import StoreDB, inserted_id, utc_now
from edge.store.errors import NotFoundError
from edge.store.outbox import enqueue
from edge.store.records import Alert
from i18n import gettext as _

log = logging.getLogger(__name__)

OUTBOX_KIND = "alert"


def raise_alert(conn: sqlite3.Connection, store_id: str, device_id: str, kind: AlertKind, score: float,
                reasons: list[str], at: str, tx_id: str | None = None, model: str = "") -> int:
    """Insert an alert and its outbox message inside the caller's transaction; returns its id."""
    cur = conn.execute("INSERT INTO alerts (tx_id, kind, score, reasons, created_at) VALUES (?, ?, ?, ?, ?)",
                       (tx_id, kind, float(score), json.dumps(reasons), at))
    alert_id = inserted_id(cur)
    message = AlertMessage(alert_id=f"{device_id}-{alert_id}", store_id=store_id, device_id=device_id,
                           kind=kind, raised_at=at, score=float(score),
                           reasons=tuple(reasons), tx_id=tx_id, model=model)
    enqueue(conn, OUTBOX_KIND, message.alert_id, message.to_doc(), at)
    return alert_id


def _enqueue_closed(conn: sqlite3.Connection, alert_id: int, at: str, how: ClosedHow) -> None:
    """Queue the hub's copy of a just-closed alert: its raise message again, with when and how it was closed.
    The raise message is read back from the outbox (which keeps sent messages), so it says exactly what the hub
    was told; an alert without one (none should exist) is logged and only closed here."""
    row = conn.execute("SELECT key, payload FROM outbox WHERE kind = ? AND key LIKE ? ORDER BY id LIMIT 1",
                       (OUTBOX_KIND, f"%-{alert_id}")).fetchone()
    if row is None:
        log.warning("alert %d closed here but its raise message is not in the outbox: the hub keeps it open",
                    alert_id)
        return
    raised = AlertMessage.from_doc(json.loads(row[1]))
    closed = replace(raised, closed_at=at, closed_how=how)
    enqueue(conn, OUTBOX_KIND, f"{row[0]}-closed", closed.to_doc(), at)


def close_alert(conn: sqlite3.Connection, alert_id: int, at: str, by: str, how: ClosedHow = "cleared") -> bool:
    """Mark an open alert done (its condition cleared) inside the caller's transaction, and tell the hub; False
    when it was already closed."""
    cur = conn.execute("UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?"
                       " AND acknowledged_at IS NULL", (at, by, alert_id))
    if cur.rowcount > 0:
        _enqueue_closed(conn, alert_id, at, how)
    return cur.rowcount > 0


def close_open(conn: sqlite3.Connection, kind: str, at: str, by: str) -> int:
    """Mark every open alert of ``kind`` done (its condition cleared) and tell the hub; returns how many."""
    ids = [int(r[0]) for r in conn.execute("SELECT id FROM alerts WHERE kind = ? AND acknowledged_at IS NULL",
                                          (kind,)).fetchall()]
    for alert_id in ids:
        close_alert(conn, alert_id, at, by)
    return len(ids)


def _row(r: dict) -> Alert:
    return Alert(id=r["id"], tx_id=r["tx_id"], kind=r["kind"], score=r["score"],
                 reasons=tuple(json.loads(r["reasons"])), created_at=r["created_at"],
                 acknowledged_at=r["acknowledged_at"], acknowledged_by=r["acknowledged_by"])


class Alerts:
    def __init__(self, db: StoreDB) -> None:
        self.db = db

    def recent(self, limit: int = 50, since: str | None = None, open_only: bool = False) -> list[Alert]:
        clauses, params = [], []
        if since:
            clauses.append("created_at >= ?")
            params.append(since)
        if open_only:
            clauses.append("acknowledged_at IS NULL")
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self.db.query(f"SELECT * FROM alerts {where} ORDER BY created_at DESC, id DESC LIMIT ?",
                             (*params, limit))
        return [_row(r) for r in rows]

    def for_tx(self, tx_id: str) -> list[Alert]:
        return [_row(r) for r in self.db.query("SELECT * FROM alerts WHERE tx_id = ?", (tx_id,))]

    def acknowledge(self, alert_id: int, user_id: str) -> Alert:
        if self.db.query_one("SELECT 1 FROM alerts WHERE id = ?", (alert_id,)) is None:
            raise NotFoundError(_("no alert %(alert)s", alert=alert_id))
        with self.db.transaction() as c:  # acknowledging twice keeps the first acknowledgement
            close_alert(c, alert_id, utc_now(), user_id, how="acknowledged")
        row = self.db.query_one("SELECT * FROM alerts WHERE id = ?", (alert_id,))
        if row is None:  # deleted between the two statements
            raise NotFoundError(_("no alert %(alert)s", alert=alert_id))
        return _row(row)
