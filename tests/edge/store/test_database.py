"""The store file: WAL, migrations, integrity check at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.store import Store, StoreCorruptError
from edge.store.migrations import SCHEMA_VERSION


def test_new_store_is_migrated_and_in_wal_mode(tmp_path: Path):
    store = Store(tmp_path / "s.db")
    assert store.db.schema_version == SCHEMA_VERSION
    assert store.db.scalar("PRAGMA journal_mode") == "wal"
    tables = set(store.db.db.table_names())
    assert {"products", "stock_movements", "customers", "sales", "sale_lines", "payments", "events", "users",
            "settings", "alerts", "outbox", "shifts"} <= tables
    store.close()


def test_reopening_keeps_data_and_does_not_migrate_twice(tmp_path: Path):
    store = Store(tmp_path / "s.db")
    store.products.upsert("A-1", "Apple", 100)
    store.close()
    again = Store(tmp_path / "s.db")
    assert again.products.get("A-1").price == 100
    assert again.db.schema_version == SCHEMA_VERSION
    again.close()


def test_a_corrupt_file_is_refused_at_start_with_a_clear_message(tmp_path: Path):
    path = tmp_path / "s.db"
    path.write_bytes(b"this is not an sqlite database at all" * 200)
    with pytest.raises(StoreCorruptError, match=r"not a readable database|integrity"):
        Store(path)


def test_a_database_newer_than_the_software_is_refused(tmp_path: Path):
    store = Store(tmp_path / "s.db")
    store.db.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store.close()
    with pytest.raises(RuntimeError, match="newer than this software"):
        Store(tmp_path / "s.db")
