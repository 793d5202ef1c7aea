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
        assert sale.receipt_no in text  # never cut, however narrow the paper
    text = receipt_text(sale, header, 42)
    assert sale.receipt_no in text and "270.00" in text and "Aceite Sol Dorado 1 L" in text
    assert "incl. tax 18%" in text and "41.19" in text  # 27000 * 18 / 118 = 4118.6 -> 4119


def test_a_refund_and_a_discount_are_not_scored_as_price_overrides(tmp_path):
    """The anomaly reasons of a refund (its approval event) and of a discounted sale never say
    "price overridden by hand": only a line's price changed by hand does."""
    from datetime import UTC, datetime

    from edge.anomaly.service import AnomalyService
    from edge.auth.service import Authenticator
    from edge.checkout.service import CheckoutService
    from edge.checkout.session import PaymentPart
    from edge.demo.seed import seed_store
    from tests.edge.checkout.helpers import basket

    store = Store(tmp_path / "store.db")
    try:
        seed_store(store, history_days=14, now=datetime(2026, 11, 20, 23, 0, tzinfo=UTC))
        service = AnomalyService(store, tmp_path / "model.pkl")
        service.ensure_fitted()
        checkout = CheckoutService(store, Authenticator(store.users), "s-001", "till-1", scorer=service.score_payload)
        ana, maria = store.users.get("ana"), store.users.get("maria")
        store.shifts.open("ana", 50000)
        checkout.start(ana)
        checkout.session.apply_basket(basket("OIL-SOL-1L", "SUGAR-2LB"))
        checkout.session.review()
        checkout.session.set_discount(500, maria, "loyal customer")
        total = checkout.session.to_payment().total
        sale = checkout.complete([PaymentPart("cash", total, total)])
        refund = checkout.refund(sale.receipt_no or "", {"SUGAR-2LB": 1}, ana, maria, "torn bag")
        for record in (sale, refund):
            assert record.anomaly is not None
            assert not any("overridden" in r for r in record.anomaly["reasons"]), record.anomaly
        # a real override still reads as one
        checkout.start(ana)
        checkout.session.apply_basket(basket("OIL-SOL-1L"))
        checkout.session.review()
        checkout.session.override_price(checkout.session.lines[0].line_id, 100, maria, "label")
        total = checkout.session.to_payment().total
        cut = checkout.complete([PaymentPart("cash", total, total)])
        assert cut.anomaly is not None and any("overridden" in r for r in cut.anomaly["reasons"])
    finally:
        store.close()


def test_a_refund_receipt_names_the_original_receipt_and_the_approver(store: Store):
    sale = store.sales.record(quick_sale(store, "OIL-SOL-1L", "SUGAR-2LB"))
    refund = store.sales.record(_refund(store, sale, {"SUGAR-2LB": 1}))
    header = ReceiptHeader("Colmado", "", "America/Santo_Domingo", "", 1800, cashier_name="Ana",
                           approver_name="María")
    text = receipt_text(refund, header, 42)
    assert f"Refund of receipt {sale.receipt_no}" in text and "Approved by: María" in text
    # the original now says it was partly refunded, and by which receipt; then in full
    state = store.sales.refund_state(sale)
    assert state == {"state": "partly", "receipts": [refund.receipt_no], "items": 1, "of_items": 2,
                     "amount": -refund.total}
    second = store.sales.record(_refund(store, sale, {"OIL-SOL-1L": 1}))
    assert store.sales.refund_state(sale)["state"] == "fully"
    assert store.sales.refund_state(sale)["receipts"] == [refund.receipt_no, second.receipt_no]
    assert store.sales.refund_state(store.sales.record(quick_sale(store, "SUGAR-2LB"))) is None


def test_the_escpos_receipt_keeps_accents_in_the_printers_code_page(store: Store):
    from edge.checkout.escpos import UnknownCodePageError, receipt_bytes

    sale = store.sales.record(quick_sale(store, "SUGAR-2LB"))
    header = ReceiptHeader("Café ñandú", "Calle Duarte", "America/Santo_Domingo", "¡Gracias!", 1800)
    text = receipt_text(sale, header, 42)
    assert "Café ñandú" in text and "¡Gracias!" in text
    job = receipt_bytes(text, "cp858")
    assert job.startswith(b"\x1b@\x1bt\x13")  # initialise, ESC t 19 = PC858
    assert "Café ñandú".encode("cp858") in job and b"Cafe nandu" not in job
    windows = receipt_bytes("Ñ €", "cp1252")
    assert windows[2:5] == b"\x1bt\x10" and "Ñ €".encode("cp1252") in windows
    # a letter the code page lacks prints as its base letter, so the columns stay where they were
    assert b"Tarta t" in receipt_bytes("Tarta ț", "cp858")
    with pytest.raises(UnknownCodePageError, match=r"'cp999'.*cp858"):
        receipt_bytes(text, "cp999")
