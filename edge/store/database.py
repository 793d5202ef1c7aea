"""The device's SQLite file: WAL mode, migrations and an integrity check at start-up,
one connection per thread, and explicit write transactions that map storage failures to
clear errors.

Writes go through :meth:`StoreDB.transaction` (``BEGIN IMMEDIATE`` ... ``COMMIT``); a process
killed anywhere inside it leaves the database as it was before the transaction began.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from contracts.timestamps import utc_now_text
from edge.store.errors import (
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreReadOnlyError,
    StoreUnavailableError,
)
from edge.store.migrations import migrate

log = logging.getLogger(__name__)

FULL_MESSAGE = ("The device's storage is full, so this sale was NOT recorded. Nothing was lost: "
                "earlier sales are safe. Ask the owner to free space, then complete the sale again.")
READ_ONLY_MESSAGE = ("The device's storage is read-only, so this sale was NOT recorded. Nothing was "
                     "lost: earlier sales are safe. Restart the device; if it persists, call support.")
IO_MESSAGE = "The device could not write to its storage, so this was NOT recorded: {detail}"


def utc_now() -> str:
    """The current time as ISO-8601 UTC with a ``Z``, to the second (the payload format)."""
    return utc_now_text()


def inserted_id(cur: sqlite3.Cursor) -> int:
    """The row id an ``INSERT`` just made (``lastrowid`` is None only after other kinds of statement)."""
    if cur.lastrowid is None:
        raise StoreError("the database reported no id for the row just inserted")
    return cur.lastrowid


def storage_error(exc: sqlite3.Error) -> StoreError:
    """Map an SQLite failure on write to the store error a person can act on."""
    text = str(exc).lower()
    code = getattr(exc, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_FULL or "full" in text:
        return StoreFullError(FULL_MESSAGE)
    if code == sqlite3.SQLITE_READONLY or "readonly" in text or "read-only" in text:
        return StoreReadOnlyError(READ_ONLY_MESSAGE)
    if isinstance(exc, sqlite3.IntegrityError):
        return StoreError(f"rejected by the database: {exc}")
    return StoreUnavailableError(IO_MESSAGE.format(detail=exc))


class StoreDB:
    """The store's database file.  Thread-safe: each thread gets its own connection."""

    def __init__(self, path: str | Path, check: bool = True) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = self.conn
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.DatabaseError as exc:
            raise StoreCorruptError(f"{self.path} is not a readable database: {exc}. Restore it from a"
                                    " backup or move it aside to start an empty store.") from exc
        if check:
            self.integrity_check()
        start = migrate(conn)
        log.info("store %s ready (schema v%s, was v%s)", self.path, self.schema_version, start)

    # -- connections -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=15.0, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = FULL")  # a completed sale survives power loss
        conn.execute("PRAGMA busy_timeout = 15000")
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over this thread's connection (reads, schema inspection)."""
        return sqlite_utils.Database(self.conn)

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._connections.clear()
        self._local = threading.local()

    # -- checks ------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def integrity_check(self) -> None:
        try:
            rows = [r[0] for r in self.conn.execute("PRAGMA quick_check").fetchall()]
        except sqlite3.DatabaseError as exc:
            raise StoreCorruptError(f"{self.path} is not a readable database: {exc}") from exc
        if rows != ["ok"]:
            raise StoreCorruptError(f"{self.path} failed its integrity check: {'; '.join(rows[:5])}")

    # -- reading and writing -----------------------------------------------------------------
    def query(self, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self.conn.execute(sql, params).fetchall()]

    def query_one(self, sql: str, params: tuple | dict = ()) -> dict[str, Any] | None:
        row = self.conn.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def scalar(self, sql: str, params: tuple | dict = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row is not None else None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write.  Storage failures become :class:`StoreUnavailableError` subclasses."""
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise storage_error(exc) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback(conn)
            raise storage_error(exc) from exc
        except BaseException:
            self._rollback(conn)
            raise

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.exception("rollback failed")

    def next_counter(self, conn: sqlite3.Connection, name: str) -> int:
        """Increment and return a named counter inside the caller's transaction."""
        conn.execute("INSERT INTO counters(name, value) VALUES (?, 0) ON CONFLICT(name) DO NOTHING", (name,))
        conn.execute("UPDATE counters SET value = value + 1 WHERE name = ?", (name,))
        return int(conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0])
