"""The outbox: every message that must reach the hub waits here until the broker acknowledged it.

Rows are written in the same transaction as the thing they describe (a sale, an alert, a credit
customer's change or repayment), so a sale can never be recorded without its message or the other
way round.  The sync agent reads ``pending()`` in order and calls ``mark_sent`` after the broker's
PUBACK.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from contracts.topics import OUTBOX_KINDS
from edge.store.database import StoreDB, utc_now

__all__ = ["OUTBOX_KINDS", "Outbox", "OutboxMessage", "enqueue"]


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    created_at: str
    attempts: int


def enqueue(conn: sqlite3.Connection, kind: str, key: str, payload: dict[str, Any], at: str) -> None:
    """Add a message inside the caller's transaction; the same (kind, key) is stored once."""
    conn.execute("INSERT INTO outbox (kind, key, payload, created_at) VALUES (?, ?, ?, ?)"
                 " ON CONFLICT(kind, key) DO NOTHING",
                 (kind, key, json.dumps(payload, separators=(",", ":"), ensure_ascii=False), at))


class Outbox:
    def __init__(self, db: StoreDB) -> None:
        self.db = db

    def pending(self, limit: int = 100) -> list[OutboxMessage]:
        rows = self.db.query("SELECT * FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ?", (limit,))
        return [OutboxMessage(id=r["id"], kind=r["kind"], key=r["key"], payload=json.loads(r["payload"]),
                              created_at=r["created_at"], attempts=r["attempts"]) for r in rows]

    def backlog(self) -> int:
        return int(self.db.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))

    def oldest_pending_at(self) -> str | None:
        return self.db.scalar("SELECT min(created_at) FROM outbox WHERE sent_at IS NULL")

    def record_attempt(self, ids: list[int]) -> None:
        if ids:
            with self.db.transaction() as c:
                c.executemany("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", [(i,) for i in ids])

    def mark_sent(self, ids: list[int]) -> None:
        if ids:
            at = utc_now()
            with self.db.transaction() as c:
                c.executemany("UPDATE outbox SET sent_at = ? WHERE id = ? AND sent_at IS NULL",
                              [(at, i) for i in ids])
