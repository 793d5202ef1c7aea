"""Refunds by receipt number, and the printed receipt."""

from __future__ import annotations

import pytest

from edge.checkout.errors import CheckoutError
from edge.checkout.receipt import ReceiptHeader, receipt_text
from edge.checkout.refund import build_refund
from edge.store import Store
from tests.edge.checkout.helpers import quick_sale


def _refund(store, original, qty, approver="maria"):
    return build_refund(original, qty, store.sales.refunded_qty(original.tx_id), store.users.get("ana"),
                        store.users.get(approver), 1800)


def test_a_partial_refund_returns_stock_and_money(store: Store):
    sale = store.sales.record(quick_sale(store, "OIL-SOL-1L", "OIL-SOL-1L", "SUGAR-2LB"))
    oil = store.products.get("OIL-SOL-1L").stock_qty
    refund = store.sales.record(_refund(store, sale, {"OIL-SOL-1L": 1}))
    assert refund.status == "refunded" and refund.refund_of == sale.tx_id
    assert refund.total == -21000 and refund.lines[0].qty == -1
    assert store.products.get("OIL-SOL-1L").stock_qty == oil + 1
    assert refund.to_payload()["payment"]["method"] == "cash"
    # the rest can still be refunded, but not more than was sold
    with pytest.raises(CheckoutError, match="only 1"):
        _refund(store, sale, {"OIL-SOL-1L": 2})
    store.sales.record(_refund(store, sale, {"OIL-SOL-1L": 1}))
    with pytest.raises(CheckoutError, match="only 0"):
        _refund(store, sale, {"OIL-SOL-1L": 1})


def test_refunds_need_a_supervisor_and_a_real_item(store: Store):
    sale = store.sales.record(quick_sale(store, "SUGAR-2LB"))
    with pytest.raises(CheckoutError, match="supervisor"):
        _refund(store, sale, {"SUGAR-2LB": 1}, approver="ana")
    with pytest.raises(CheckoutError, match="not on receipt"):
        _refund(store, sale, {"OIL-SOL-1L": 1})
    for bad in (-1, 1.5, "1"):
        with pytest.raises(CheckoutError):
            _refund(store, sale, {"SUGAR-2LB": bad})


def test_receipt_text_fits_the_printer_and_adds_up(store: Store):
    sale = store.sales.record(quick_sale(store, "OIL-SOL-1L", "SUGAR-2LB"))
    header = ReceiptHeader("Colmado La Esquina", "Calle El Conde 101, Zona Colonial, Santo Domingo",
                           "America/Santo_Domingo",
                           "Gracias por su compra", 1800, cashier_name="Ana")
    for width in (42, 32):
        text = receipt_text(sale, header, width)
        assert all(len(line) <= width for line in text.splitlines())
        assert text.isascii()
        assert sale.receipt_no in text  # never cut, however narrow the paper
    text = receipt_text(sale, header, 42)
    assert sale.receipt_no in text and "270.00" in text and "Aceite Sol Dorado 1 L" in text
    assert "incl. tax 18%" in text and "41.19" in text  # 27000 * 18 / 118 = 4118.6 -> 4119
