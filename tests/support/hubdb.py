"""Counting helpers over the hub database for tests."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from analytics.db import tables as t


def hub_database_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest, prefix: str = "hub") -> str:
    """An empty hub database for a test parametrised over ``sqlite`` and ``postgresql`` (a fresh
    database on the session's throwaway cluster)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / f'{prefix}-{uuid.uuid4().hex[:6]}.db'}"
    return request.getfixturevalue("postgres_cluster").new_database(prefix)


def count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def distinct_tx(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count(func.distinct(t.transactions.c.tx_id)))).scalar_one())


def device(engine: Engine, store_id: str, device_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(t.devices).where(t.devices.c.store_id == store_id,
                                                   t.devices.c.device_id == device_id)).mappings().first()
        return dict(row) if row else None


def register_devices(engine: Engine, *keys: tuple[str, str]) -> None:
    """Register devices on the hub (default: ``s-001/till-1``) as ``tillsight hub device add`` does,
    so the ingest stores what they send (it dead-letters anything from a device it does not know)."""
    from analytics.broker import registry

    with engine.begin() as conn:
        for store_id, device_id in keys or (("s-001", "till-1"),):
            if registry.get_device(conn, store_id, device_id) is None:
                registry.add_device(conn, store_id, device_id)
