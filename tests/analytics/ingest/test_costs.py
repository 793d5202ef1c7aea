"""The hub reads sales of both contract versions: ``tillsight.tx/2`` lines carry the product's unit
cost (the till's weighted average at the moment of sale), ``tillsight.tx/1`` lines none.  Each line's
cost is stored, each product's current cost per store follows its newest sale (a late sale never
overwrites it), and margins are measured only over lines with a cost.  Sales are built by the real
writers: a device store that received stock at two costs, and the hub's importer (tx/1)."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, insert, select

from analytics.db import make_engine, migrate
from analytics.db import tables as t
from analytics.db.migrations import MIGRATIONS
from analytics.importer.invoices import build_invoices
from analytics.importer.reader import SaleLine as ImportedLine
from analytics.ingest.parse import Parsed, Rejected, parse
from analytics.ingest.store import apply_batch
from analytics.web.queries import costs as cq
from analytics.web.tenancy import StoreScope
from contracts.margins import line_revenue
from edge.store import Store
from tests.edge.checkout.helpers import quick_sale
from tests.support.device import seeded_store

PREFIX = "tillsight/v1"
NOW = "2026-11-22T08:00:00Z"
ALL = StoreScope.everything()


@pytest.fixture
def till(tmp_path: Path) -> Store:
    store = seeded_store(tmp_path / "device" / "store.db")
    yield store
    store.close()


@pytest.fixture
def hub(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    return engine


def _sale(store: Store, sku: str, at: str) -> dict[str, Any]:
    """Ring up one unit of ``sku`` at ``at`` and return the payload the till queued for the hub."""
    rec = store.sales.record(replace(quick_sale(store, sku), tx_id=str(uuid.uuid4()), started_at=at, completed_at=at))
    return next(r.payload for r in store.outbox.pending(limit=1000)
                if r.kind == "tx" and r.payload["tx_id"] == rec.tx_id)


def _apply(engine: Engine, *docs: dict[str, Any]) -> None:
    msgs = []
    for doc in docs:
        got = parse(f"{PREFIX}/{doc['store_id']}/{doc['device_id']}/tx", json.dumps(doc).encode(), PREFIX)
        assert isinstance(got, Parsed), got
        msgs.append(got)
    with engine.begin() as conn:
        assert {a.outcome for a in apply_batch(conn, msgs, NOW)} == {"stored"}


def _lines(engine: Engine, tx_id: str) -> list[Any]:
    ln = t.tx_lines.c
    with engine.connect() as conn:
        return list(conn.execute(select(ln.sku, ln.qty, ln.unit_cost, ln.cost_assumed, ln.net_revenue)
                                 .where(ln.tx_id == tx_id).order_by(ln.line_no)))


def _imported_tx1(store_id: str, sku: str, name: str, price: int, at: datetime) -> dict[str, Any]:
    lines = [ImportedLine(row=2, invoice="536365", cancelled=False, sku=sku, name=name, qty=3, unit_price=price,
                          local_time=at, customer=None, country=None)]
    [inv] = build_invoices(lines, store_id=store_id, device_id="import", currency="DOP", timezone_name="UTC",
                           layout="online_retail", cancel_prefix="C")
    return inv.doc


def test_tx2_costs_are_stored_and_the_current_cost_is_the_newest_sales(till: Store, hub: Engine) -> None:
    sku = till.products.list()[0].sku
    till.costs.receive(sku, 10, 5000, None)
    early = _sale(till, sku, "2026-11-20T14:00:00Z")
    till.costs.receive(sku, 50, 90000, None)  # the weighted average moves up
    late = _sale(till, sku, "2026-11-21T14:00:00Z")
    assert early["schema"] == late["schema"] == "tillsight.tx/2"
    early_cost, late_cost = early["lines"][0]["unit_cost"], late["lines"][0]["unit_cost"]
    assert early_cost is not None and late_cost is not None and late_cost > early_cost

    _apply(hub, late)
    _apply(hub, early)  # arrives after the newer sale (a device that was offline): must not win

    [line] = _lines(hub, early["tx_id"])
    assert (line.unit_cost, line.cost_assumed) == (early_cost, False)
    assert line.net_revenue == line_revenue(early["lines"][0]["line_total"], early["subtotal"], early["total"],
                                            early["tax"])
    assert line.net_revenue < early["lines"][0]["line_total"]  # the shelf price includes tax
    with hub.connect() as conn:
        current = cq.current_costs(conn, ALL, "s-001")
        margins = cq.product_margins(conn, ALL, "s-001", "America/Santo_Domingo", date(2026, 11, 23), days=7)
    assert current[sku].unit_cost == late_cost and current[sku].source == "till" and not current[sku].assumed
    [m] = margins
    net = sum(line_revenue(d["lines"][0]["line_total"], d["subtotal"], d["total"], d["tax"]) for d in (early, late))
    assert m.sku == sku and m.units == 2 and m.unit_cost == late_cost
    assert m.gross_profit == net - early_cost - late_cost
    assert m.margin == pytest.approx(m.gross_profit / net)


def test_tx1_sales_are_still_read_and_have_no_cost(till: Store, hub: Engine) -> None:
    sku = till.products.list()[0].sku
    till.costs.receive(sku, 10, 5000, None)
    costed = _sale(till, sku, "2026-11-21T14:00:00Z")
    cost = costed["lines"][0]["unit_cost"]
    assert cost is not None
    # the importer's lines carry the file's naive store-local time
    old = _imported_tx1("s-001", sku, "Old name", 9000, datetime(2026, 11, 20, 10, 0))  # noqa: DTZ001
    assert old["schema"] == "tillsight.tx/1"
    with hub.begin() as conn:  # imported sales come from no till: the importer's path, not a device topic
        got = parse(f"{PREFIX}/s-001/import/tx", json.dumps(old).encode(), PREFIX)
        assert isinstance(got, Parsed), got
        apply_batch(conn, [got], NOW)
    _apply(hub, costed)

    [line] = _lines(hub, old["tx_id"])
    assert line.unit_cost is None and line.cost_assumed is None
    with hub.connect() as conn:
        [m] = cq.product_margins(conn, ALL, "s-001", "UTC", date(2026, 11, 23), days=7)
        days = cq.daily_history(conn, ALL, "s-001", "UTC", date(2026, 11, 19), date(2026, 11, 23), skus=[sku])
    # the tx/1 line's 27,000 counts in revenue, never in profit (not a 100 % margin)
    net = line_revenue(costed["lines"][0]["line_total"], costed["subtotal"], costed["total"], costed["tax"])
    assert m.units == 4 and m.revenue == 27000 + costed["lines"][0]["line_total"]
    assert m.costed_revenue == net and m.gross_profit == net - cost
    assert 0 < m.cost_coverage < 1
    assert [(d.day, d.units, d.cost, d.gross_profit) for d in days] == [
        ("2026-11-20", 3, 0, 0), ("2026-11-21", 1, cost, net - cost)]


def test_a_sale_naming_an_unknown_contract_version_is_dead_lettered(till: Store) -> None:
    sku = till.products.list()[0].sku
    doc = {**_sale(till, sku, "2026-11-21T14:00:00Z"), "schema": "tillsight.tx/9"}
    got = parse(f"{PREFIX}/s-001/till-1/tx", json.dumps(doc).encode(), PREFIX)
    assert isinstance(got, Rejected) and "schema" in got.reason


def test_migration_12_adds_costs_to_a_database_that_has_sales(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:  # a hub database as it was before costs (v11), with one line
        t.schema_version.create(conn)
        for version, step in MIGRATIONS:
            if version < 12:
                step(conn)
                conn.execute(insert(t.schema_version).values(version=version, applied_at=NOW))
        conn.exec_driver_sql("ALTER TABLE tx_lines DROP COLUMN unit_cost")
        conn.exec_driver_sql("ALTER TABLE tx_lines DROP COLUMN cost_assumed")
        conn.exec_driver_sql("ALTER TABLE tx_lines DROP COLUMN net_revenue")
        conn.exec_driver_sql("INSERT INTO tx_lines (tx_id, line_no, store_id, sku, name, qty, unit_price, line_total)"
                             " VALUES ('x', 1, 's-001', 'RICE', 'Rice', 2, 100, 200)")
    assert migrate(engine) == 11
    ln = t.tx_lines.c
    with engine.connect() as conn:
        assert conn.execute(select(ln.sku, ln.unit_cost, ln.net_revenue)).one() == ("RICE", None, None)
        assert conn.execute(select(t.product_costs)).all() == []


def test_a_tills_costed_sale_reaches_the_hub_through_the_real_broker(till: Store, tmp_path: Path, broker) -> None:
    from analytics.ingest import IngestWorker
    from tests.analytics.test_ingest import Publisher
    from tests.support.fixtures import make_config
    from tests.support.hubdb import register_devices
    from tests.support.wait import wait_for

    cfg = make_config(broker, tmp_path)
    engine = make_engine(cfg.hub.database_url)
    migrate(engine)
    register_devices(engine)
    worker = IngestWorker(cfg.hub.database_url, cfg.mqtt, client_id="hub-costs", settings=cfg.hub)
    worker.start()
    pub = Publisher(broker, "till-costs")
    try:
        wait_for(worker.ready.is_set, 10, "the broker granted the worker's subscriptions (SUBACK)")
        sku = till.products.list()[0].sku
        till.costs.receive(sku, 10, 5000, None)
        sale = _sale(till, sku, "2026-11-21T14:00:00Z")
        pub.send("s-001/till-1/tx", sale)
        wait_for(lambda: bool(_lines(engine, sale["tx_id"])), 10, "the sale stored")
        [line] = _lines(engine, sale["tx_id"])
        assert line.unit_cost == sale["lines"][0]["unit_cost"] is not None
        with engine.connect() as conn:
            assert cq.current_costs(conn, ALL, "s-001")[sku].unit_cost == line.unit_cost
    finally:
        pub.close()
        worker.stop()
        engine.dispose()
