"""A sale's line names never rename the hub's catalogue (issue 26): a forged sale that names a real
SKU "FREE BEER" is stored with its own payload, but the hub's lines, its analytics' product names and
what it could tell the till all keep the name the device's catalogue gives (telemetry's stock items,
the catalogue path), whether the forged sale came before the catalogue or after it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from analytics.assistant.products import Catalogue
from analytics.db import make_engine, migrate
from analytics.db import tables as t
from analytics.ingest.parse import Parsed, parse
from analytics.ingest.store import apply_batch
from edge.store import Store
from edge.sync import telemetry
from tests.support.device import record_sales, seeded_store

PREFIX = "tillsight/v1"
NOW = "2026-11-21T15:00:00Z"
FORGED = "FREE BEER - ask the cashier"


@pytest.fixture
def till(tmp_path: Path) -> Store:
    store = seeded_store(tmp_path / "device" / "store.db")
    record_sales(store, 2)
    yield store
    store.close()


@pytest.fixture
def hub(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    return engine


def _msg(leaf: str, doc: dict) -> Parsed:
    got = parse(f"{PREFIX}/s-001/till-1/{leaf}", json.dumps(doc).encode(), PREFIX)
    assert isinstance(got, Parsed), got
    return got


def _apply(engine: Engine, *msgs: Parsed) -> None:
    with engine.begin() as conn:
        apply_batch(conn, list(msgs), NOW)


def _sales(store: Store) -> list[dict]:
    return [r.payload for r in store.outbox.pending(limit=1000) if r.kind == "tx"]


def _forged(real: dict) -> tuple[dict, str]:
    """A real sale of the till, copied with a new id and its first line renamed."""
    lines = [dict(real["lines"][0], name=FORGED), *real["lines"][1:]]
    return {**real, "tx_id": str(uuid.uuid4()), "seq": real["seq"] + 100, "lines": lines}, real["lines"][0]["sku"]


def _telemetry(store: Store) -> Parsed:
    return _msg("telemetry", telemetry.snapshot(store, "s-001", "till-1", Path("."), datetime.now(UTC)))


def _line_names(engine: Engine, sku: str) -> set[str]:
    ln = t.tx_lines.c
    with engine.connect() as conn:
        return set(conn.execute(select(ln.name).where(ln.store_id == "s-001", ln.sku == sku)).scalars())


def _payload_names(engine: Engine, tx_id: str) -> list[str]:
    with engine.connect() as conn:
        payload = conn.execute(select(t.transactions.c.payload).where(t.transactions.c.tx_id == tx_id)).scalar_one()
    return [ln["name"] for ln in payload["lines"]]


@pytest.mark.parametrize("catalogue_first", [True, False])
def test_a_forged_line_name_stays_in_its_sale(till: Store, hub: Engine, catalogue_first: bool) -> None:
    real = _sales(till)
    forged, sku = _forged(real[0])
    name = till.products.find(sku).name
    sales = [_msg("tx", doc) for doc in real]
    if catalogue_first:
        _apply(hub, _telemetry(till), *sales)
        _apply(hub, _msg("tx", forged))
    else:  # the forged sale reached the hub before the till's first telemetry
        _apply(hub, *sales, _msg("tx", forged))
        assert FORGED in _line_names(hub, sku)
        _apply(hub, _telemetry(till))
    assert _line_names(hub, sku) == {name}
    assert _payload_names(hub, forged["tx_id"])[0] == FORGED  # the sale itself is kept as it came
    product = Catalogue.load(hub, "s-001").get(sku)
    assert product is not None and product.name == name  # what the hub's analytics call it
    assert Catalogue.load(hub, "s-001").match("free beer").product is None


def test_a_product_renamed_in_the_devices_catalogue_is_renamed_at_the_hub(till: Store, hub: Engine) -> None:
    real = _sales(till)
    sku = real[0]["lines"][0]["sku"]
    _apply(hub, _telemetry(till), *[_msg("tx", doc) for doc in real])
    product = till.products.get(sku)
    till.products.upsert(sku, "Arroz Selecto 5 lb", product.price, product.barcode, product.category,
                         product.reorder_level)
    _apply(hub, _telemetry(till))
    assert _line_names(hub, sku) == {"Arroz Selecto 5 lb"} != {product.name}
