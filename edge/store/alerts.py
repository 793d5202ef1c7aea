"""Alerts shown on the dashboard (anomalous sales, device health), each with readable reasons."""

from __future__ import annotations

import json
import sqlite3

from edge.store.database import StoreDB, inserted_id, utc_now
from edge.store.errors import NotFoundError
from edge.store.outbox import enqueue
from edge.store.records import Alert
from i18n import gettext as _

ALERT_SCHEMA = "tillsight.alert/1"


def raise_alert(conn: sqlite3.Connection, store_id: str, device_id: str, kind: str, score: float,
                reasons: list[str], at: str, tx_id: str | None = None, model: str = "") -> int:
    """Insert an alert and its outbox message inside the caller's transaction; returns its id."""
    cur = conn.execute("INSERT INTO alerts (tx_id, kind, score, reasons, created_at) VALUES (?, ?, ?, ?, ?)",
                       (tx_id, kind, float(score), json.dumps(reasons), at))
    alert_id = inserted_id(cur)
    key = f"{device_id}-{alert_id}"
    payload = {"schema": ALERT_SCHEMA, "alert_id": key, "store_id": store_id,
               "device_id": device_id, "kind": kind, "raised_at": at, "tx_id": tx_id,
               "score": round(float(score), 3), "reasons": list(reasons) or ["(no reason given)"],
               "model": model}
    enqueue(conn, "alert", key, payload, at)
    return alert_id


def close_alert(conn: sqlite3.Connection, alert_id: int, at: str, by: str) -> bool:
    """Mark an open alert done (its condition cleared) inside the caller's transaction; False when it
    was already acknowledged."""
    cur = conn.execute("UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?"
                       " AND acknowledged_at IS NULL", (at, by, alert_id))
    return cur.rowcount > 0


def close_open(conn: sqlite3.Connection, kind: str, at: str, by: str) -> int:
    """Mark every open alert of ``kind`` done; returns how many."""
    cur = conn.execute("UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE kind = ?"
                       " AND acknowledged_at IS NULL", (at, by, kind))
    return cur.rowcount


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
            c.execute("UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?"
                      " AND acknowledged_at IS NULL", (utc_now(), user_id, alert_id))
        row = self.db.query_one("SELECT * FROM alerts WHERE id = ?", (alert_id,))
        if row is None:  # deleted between the two statements
            raise NotFoundError(_("no alert %(alert)s", alert=alert_id))
        return _row(row)
