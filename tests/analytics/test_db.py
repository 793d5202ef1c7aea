"""The hub database on SQLite and on PostgreSQL (a throwaway cluster when the server is installed):
migrations, idempotent inserts, gap bookkeeping and dead letters through the same code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select

from analytics.db import SCHEMA_VERSION, make_engine, migrate
from analytics.db import tables as t
from analytics.db.migrations import MIGRATIONS
from analytics.ingest.parse import Parsed, Rejected, parse
from analytics.ingest.store import apply, dead_letter
from tests.analytics.test_ingest import tx_doc
from tests.support.hubdb import count, device, hub_database_url

NOW = "2026-11-21T15:00:00Z"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = hub_database_url(request.param, tmp_path, request)
    eng = make_engine(url)
    yield eng
    eng.dispose()


def tx(seq: int, **kw: str) -> Parsed:
    doc = tx_doc(seq, **kw)
    p = parse(f"tillsight/v1/{doc['store_id']}/{doc['device_id']}/tx", json.dumps(doc).encode(), "tillsight/v1")
    assert isinstance(p, Parsed)
    return p


def test_migrations_apply_once_and_record_their_version(engine: Engine) -> None:
    assert migrate(engine) == 0
    assert migrate(engine) == SCHEMA_VERSION
    with engine.connect() as conn:
        versions = sorted(conn.execute(select(t.schema_version.c.version)).scalars().all())
    assert versions == sorted(v for v, _ in MIGRATIONS) and versions[-1] == SCHEMA_VERSION
    fleet_tables = {"device_registry", "deployments", "deployment_targets", "artifacts", "stores"}
    assert fleet_tables <= set(inspect(engine).get_table_names())


def test_tx_is_stored_once_with_its_lines_and_gaps_are_tracked(engine: Engine) -> None:
    migrate(engine)
    first = tx(1)
    with engine.begin() as conn:
        assert apply(conn, first, NOW).outcome == "stored"
        assert apply(conn, first, NOW).outcome == "duplicate"
    with engine.begin() as conn:
        assert apply(conn, tx(4), NOW).outcome == "stored"
    assert count(engine, t.transactions) == 2 and count(engine, t.tx_lines) == 2
    dev = device(engine, "s-001", "till-1")
    assert dev["last_seq"] == 4 and dev["gaps"] == 1
    with engine.begin() as conn:
        apply(conn, tx(2), NOW)
        apply(conn, tx(3), NOW)
    dev = device(engine, "s-001", "till-1")
    assert dev["last_seq"] == 4 and dev["gaps"] == 0
    with engine.connect() as conn:
        gap = conn.execute(select(t.seq_gaps)).mappings().one()
    assert (gap["from_seq"], gap["to_seq"], gap["filled"], gap["filled_at"]) == (2, 3, True, NOW)
    with engine.connect() as conn:
        payload = conn.execute(select(t.transactions.c.payload).where(t.transactions.c.seq == 1)).scalar_one()
    assert payload["tx_id"] == first.doc["tx_id"] and payload["total"] == 76700


def test_a_failed_transaction_stores_nothing(engine: Engine) -> None:
    migrate(engine)
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            apply(conn, tx(1), NOW)
            raise RuntimeError("crash before the commit")
    assert count(engine, t.transactions) == 0 and count(engine, t.tx_lines) == 0


def test_dead_letters_keep_the_raw_payload_and_reason(engine: Engine) -> None:
    migrate(engine)
    rejected = parse("tillsight/v1/s-001/till-1/tx", b"\xff\xfe", "tillsight/v1")
    assert isinstance(rejected, Rejected) and rejected.reason.startswith("not JSON")
    with engine.begin() as conn:
        dead_letter(conn, "tillsight/v1/s-001/till-1/tx", b"\xff\xfe", rejected.reason, NOW)
    with engine.connect() as conn:
        row = conn.execute(select(t.dead_letters)).mappings().one()
    assert row["reason"].startswith("not JSON") and row["topic"].endswith("/tx")
