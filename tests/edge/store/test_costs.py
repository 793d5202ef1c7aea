"""Costs on the device: receipts move the weighted average cost, sales carry it in ``tillsight.tx/2``,
refunds take back the cost their sale recorded, and a store from before costs (tx/1 sales in its outbox)
opens, keeps those rows as they were, and counts its old sales as "no cost"."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from contracts import validate
from edge.checkout.refund import build_refund
from edge.demo.seed import seed_store
from edge.store import Store, ValidationError
from tests.edge.checkout.helpers import quick_sale


def test_two_receipts_at_different_costs_make_a_weighted_average_and_keep_the_history(store: Store) -> None:
    sku = "COFFEE-227"
    store.costs.set_cost(sku, None, "owner")  # a product nobody costed yet
    stock = store.products.get(sku).stock_qty
    first = store.costs.receive(sku, 10, 9000, "owner", note="invoice 1")
    assert (first.cost_before, first.cost_after) == (None, 9000)  # the units on the shelf are taken at it
    second = store.costs.receive(sku, 30, 10000, "owner", note="invoice 2")
    expected = round(((stock + 10) * 9000 + 30 * 10000) / (stock + 40))
    assert second.cost_after == expected == store.products.get(sku).cost
    assert store.products.get(sku).stock_qty == stock + 40
    history = store.costs.history(sku)
    assert [(c.old_cost, c.new_cost, c.reason) for c in history[:2]] == [(9000, expected, "receiving"),
                                                                         (None, 9000, "receiving")]
    assert [r.qty for r in store.costs.receipts(sku)] == [30, 10]


def test_a_receipt_without_a_cost_adds_stock_and_keeps_the_cost(store: Store) -> None:
    store.costs.set_cost("SUGAR-2LB", 4200, "owner")
    receipt = store.costs.receive("SUGAR-2LB", 12, None, "owner")
    assert receipt.cost_after == 4200 == store.products.get("SUGAR-2LB").cost


@pytest.mark.parametrize("qty, cost, message", [(0, 100, "quantity"), (5, -1, "unit cost"), (5, 1.5, "unit cost")])
def test_bad_receipts_are_refused_naming_what_is_wrong(store: Store, qty: int, cost: int, message: str) -> None:
    before = store.products.get("SUGAR-2LB")
    with pytest.raises(ValidationError, match=message):
        store.costs.receive("SUGAR-2LB", qty, cost, "owner")  # type: ignore[arg-type]
    assert store.products.get("SUGAR-2LB") == before
    with pytest.raises(ValidationError, match="supplier"):
        store.costs.receive("SUGAR-2LB", 5, 100, "owner", supplier_id=999)


def test_a_sale_carries_the_cost_of_the_moment_and_a_refund_takes_back_that_cost(store: Store) -> None:
    store.costs.set_cost("SUGAR-2LB", 4000, "owner")
    store.costs.set_cost("RICE-LG-2LB", None, "owner")
    sale = store.sales.record(quick_sale(store, "SUGAR-2LB", "RICE-LG-2LB"))
    payload = store.outbox.pending()[0].payload
    validate("tillsight.tx/2", payload)
    assert {ln["sku"]: ln["unit_cost"] for ln in payload["lines"]} == {"SUGAR-2LB": 4000, "RICE-LG-2LB": None}
    assert {ln.sku: ln.unit_cost for ln in store.sales.get(sale.tx_id).lines} == {"SUGAR-2LB": 4000,
                                                                                  "RICE-LG-2LB": None}
    store.costs.receive("SUGAR-2LB", 10, 6000, "owner")  # the average moves after the sale
    refund = store.sales.record(build_refund(sale, {"SUGAR-2LB": 1}, {}, store.users.get("ana"),
                                             store.users.get("maria"), 1800, reason="broken bag"))
    [line] = refund.to_payload()["lines"]
    assert line["qty"] == -1 and line["unit_cost"] == 4000  # what the sale recorded, not today's average
    later = store.sales.record(quick_sale(store, "SUGAR-2LB"))
    assert later.lines[0].unit_cost == store.products.get("SUGAR-2LB").cost != 4000


def _downgrade_to_v1(path: Path) -> None:
    """Make the file what a device before costs had: schema v1, tillsight.tx/1 payloads (the old writer's,
    which is today's without ``unit_cost``)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    for table in ("cost_changes", "stock_receipts", "product_suppliers", "suppliers"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("ALTER TABLE products DROP COLUMN cost")
    conn.execute("ALTER TABLE sale_lines DROP COLUMN unit_cost")
    conn.execute("ALTER TABLE sale_lines DROP COLUMN revenue")
    for table, where in (("sales", ""), ("outbox", " WHERE kind = 'tx'")):
        for rowid, payload in conn.execute(f"SELECT rowid, payload FROM {table}{where}").fetchall():
            doc = json.loads(payload)
            doc["schema"] = "tillsight.tx/1"
            for line in doc["lines"]:
                del line["unit_cost"]
            conn.execute(f"UPDATE {table} SET payload = ? WHERE rowid = ?", (json.dumps(doc), rowid))
    conn.execute("PRAGMA user_version = 1")
    conn.execute("COMMIT")
    conn.close()


def test_a_store_from_before_costs_keeps_its_tx1_rows_and_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = Store(path)
    seed_store(store)
    old = store.sales.record(quick_sale(store, "SUGAR-2LB", "OIL-SOL-1L"))
    store.close()
    _downgrade_to_v1(path)

    store = Store(path)  # migrates to the current schema
    try:
        [row] = store.outbox.pending()
        assert row.payload["schema"] == "tillsight.tx/1"  # sent as it was written
        validate("tillsight.tx/1", row.payload)
        back = store.sales.get(old.tx_id)
        assert [ln.unit_cost for ln in back.lines] == [None, None]
        revenue = store.db.scalar("SELECT sum(revenue) FROM sale_lines WHERE tx_id = ?", (old.tx_id,))
        assert revenue == old.total - old.tax  # the migration filled each line's revenue net of tax
        assert store.products.get("SUGAR-2LB").cost is None
        store.costs.set_cost("SUGAR-2LB", 4000, "owner")
        new = store.sales.record(quick_sale(store, "SUGAR-2LB"))
        assert new.to_payload()["schema"] == "tillsight.tx/2" and new.lines[0].unit_cost == 4000
    finally:
        store.close()
