"""Recording a sale: one atomic write with lines, payments, events, stock, outbox; clear refusals."""

from __future__ import annotations

import json
import sqlite3

import pytest

from contracts import validate
from edge.store import Store, StoreFullError, StoreReadOnlyError, ValidationError
from edge.store.records import Payment
from tests.edge.checkout.helpers import quick_sale


def _counts(store: Store) -> dict[str, int]:
    return {t: store.db.scalar(f"SELECT count(*) FROM {t}") for t in
            ("sales", "sale_lines", "payments", "events", "stock_movements", "outbox", "alerts")}


def test_a_completed_sale_writes_everything_together(store: Store):
    rice = store.products.get("RICE-LG-5LB").stock_qty
    rec = store.sales.record(quick_sale(store, "RICE-LG-5LB", "RICE-LG-5LB", "OIL-SOL-1L"))
    assert rec.seq == 1 and rec.receipt_no == "TILL-1-000001"
    assert store.products.get("RICE-LG-5LB").stock_qty == rice - 2
    lines = store.db.query("SELECT sku, qty, line_total FROM sale_lines WHERE tx_id = ? ORDER BY line_no", (rec.tx_id,))
    assert {(r["sku"], r["qty"]) for r in lines} == {("RICE-LG-5LB", 2), ("OIL-SOL-1L", 1)}
    moves = store.db.query("SELECT sku, delta, reason FROM stock_movements WHERE tx_id = ?", (rec.tx_id,))
    assert {(m["sku"], m["delta"], m["reason"]) for m in moves} == {("RICE-LG-5LB", -2, "sale"),
                                                                     ("OIL-SOL-1L", -1, "sale")}
    [row] = store.outbox.pending()
    assert row.kind == "tx" and row.key == rec.tx_id
    validate("tillsight.tx/2", row.payload)
    assert row.payload["total"] == 2 * 17500 + 21000 and row.payload["seq"] == 1
    assert row.payload["tax"] == round(row.payload["total"] * 1800 / 11800)
    assert [e["type"] for e in row.payload["events"]] == ["drawer_open"]


def test_recording_the_same_sale_twice_is_harmless(store: Store):
    sale = quick_sale(store, "SUGAR-2LB")
    first = store.sales.record(sale)
    again = store.sales.record(sale)
    assert again.receipt_no == first.receipt_no
    assert store.db.scalar("SELECT count(*) FROM sales") == 1 and store.outbox.backlog() == 1


def test_seq_only_grows(store: Store):
    seqs = [store.sales.record(quick_sale(store, "SUGAR-2LB")).seq for _ in range(3)]
    assert seqs == [1, 2, 3]


def test_a_sale_whose_numbers_do_not_add_up_is_refused_and_nothing_is_written(store: Store):
    sale = quick_sale(store, "SUGAR-2LB")
    sale.total += 1
    before = _counts(store)
    with pytest.raises(ValidationError, match="total"):
        store.sales.record(sale)
    assert _counts(store) == before


def test_credit_over_the_limit_is_refused_inside_the_write(store: Store):
    cust = store.customers.save("Small Account", credit_limit=1000)
    sale = quick_sale(store, "OIL-SOL-1L")
    sale.payments = [Payment("credit", sale.total, sale.total, 0, cust.id)]
    sale.customer_id = cust.id
    before = _counts(store)
    with pytest.raises(ValidationError, match="credit limit"):
        store.sales.record(sale)
    assert _counts(store) == before and store.customers.get(cust.id).balance == 0


def test_credit_sale_raises_the_customer_balance(store: Store):
    cust = store.customers.get("cust-01")
    sale = quick_sale(store, "OIL-SOL-1L")
    sale.payments = [Payment("credit", sale.total, sale.total, 0, cust.id)]
    sale.customer_id = cust.id
    store.sales.record(sale)
    assert store.customers.get(cust.id).balance == cust.balance + sale.total


def test_a_full_disk_refuses_the_sale_and_keeps_what_was_recorded(store: Store):
    kept = store.sales.record(quick_sale(store, "SUGAR-2LB"))
    before = _counts(store)
    pages = store.db.scalar("PRAGMA page_count")
    store.db.conn.execute(f"PRAGMA max_page_count = {pages}")  # the file can no longer grow: SQLITE_FULL
    big = quick_sale(store, *["OIL-SOL-1L"] * 3, *["RICE-LG-5LB"] * 2)
    big.events = big.events * 400  # enough rows to need new pages
    with pytest.raises(StoreFullError, match=r"storage is full.*NOT recorded"):
        store.sales.record(big)
    assert _counts(store) == before
    assert store.sales.get(kept.tx_id).total == kept.total
    assert store.sales.find(big.tx_id) is None


def test_a_read_only_disk_refuses_the_sale_with_a_clear_message(store: Store):
    before = _counts(store)
    store.db.conn.execute("PRAGMA query_only = ON")
    with pytest.raises(StoreReadOnlyError, match=r"read-only.*NOT recorded"):
        store.sales.record(quick_sale(store, "SUGAR-2LB"))
    store.db.conn.execute("PRAGMA query_only = OFF")
    assert _counts(store) == before


def test_an_alert_travels_with_its_sale(store: Store):
    sale = quick_sale(store, "SUGAR-2LB")
    sale.anomaly = {"score": 0.91, "reasons": ["4 lines voided (usual 0)"], "model": "rules-v1"}
    store.sales.record(sale, raise_alert_for=True)
    [alert] = store.alerts.recent()
    assert alert.tx_id == sale.tx_id and alert.reasons == ("4 lines voided (usual 0)",)
    kinds = sorted(m.kind for m in store.outbox.pending())
    assert kinds == ["alert", "tx"]
    tx = next(m for m in store.outbox.pending() if m.kind == "tx")
    assert tx.payload["anomaly"]["score"] == 0.91
    validate("tillsight.alert/2", next(m for m in store.outbox.pending() if m.kind == "alert").payload)


def test_outbox_rows_leave_only_when_marked_sent(store: Store):
    store.sales.record(quick_sale(store, "SUGAR-2LB"))
    store.sales.record(quick_sale(store, "OIL-SOL-1L"))
    pending = store.outbox.pending()
    assert [m.payload["seq"] for m in pending] == [1, 2]
    store.outbox.mark_sent([pending[0].id])
    assert [m.payload["seq"] for m in store.outbox.pending()] == [2]


def test_stored_payload_round_trips(store: Store):
    rec = store.sales.record(quick_sale(store, "SUGAR-2LB", "OIL-SOL-1L"))
    back = store.sales.by_receipt(rec.receipt_no.lower())
    assert back.to_payload() == json.loads(store.db.scalar("SELECT payload FROM sales WHERE tx_id = ?", (rec.tx_id,)))
    assert [ln.sku for ln in back.lines] == [ln.sku for ln in rec.lines]


def test_foreign_writers_cannot_bypass_the_checks(store: Store):
    with pytest.raises(sqlite3.IntegrityError):
        store.db.conn.execute("INSERT INTO products (sku, name, price, updated_at) VALUES ('X', 'x', -5, 'now')")
