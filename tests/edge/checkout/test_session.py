"""The checkout state machine as a cashier lives it."""

from __future__ import annotations

import pytest

from contracts.events import VisionMismatch
from edge.checkout.errors import ApprovalRequired, CheckoutError
from edge.checkout.session import PaymentPart
from edge.store import Store
from tests.edge.checkout.helpers import basket, cashier, session_for


@pytest.fixture
def session(store: Store):
    s = session_for(store)
    s.start(cashier(store))
    return s


def _line(session, sku):
    return next(ln for ln in session.lines if ln.sku == sku)


def test_vision_lines_mirror_the_settled_tray_while_scanning(session):
    assert session.apply_basket(basket("OIL-SOL-1L", "RICE-LG-5LB", "RICE-LG-5LB"))
    assert {(ln.sku, ln.qty, ln.source) for ln in session.lines} == {("OIL-SOL-1L", 1, "vision"),
                                                                   ("RICE-LG-5LB", 2, "vision")}
    session.apply_basket(basket("RICE-LG-5LB"))  # the oil was taken off the tray
    assert [(ln.sku, ln.qty) for ln in session.lines] == [("RICE-LG-5LB", 1)]


def test_an_unsettled_basket_changes_nothing(session):
    assert not session.apply_basket(basket("OIL-SOL-1L", settled=False))
    assert session.lines == []


def test_review_freezes_vision(session):
    session.apply_basket(basket("OIL-SOL-1L"))
    session.review()
    session.apply_basket(basket("OIL-SOL-1L", "SUGAR-2LB"))
    assert [ln.sku for ln in session.lines] == ["OIL-SOL-1L"]


def test_pick_an_alternative(session, store):
    session.apply_basket(basket("OIL-SOL-1L", alternatives={"OIL-SOL-1L": [("OIL-SOL-500ML", 0.31)]}))
    line = _line(session, "OIL-SOL-1L")
    assert line.alternatives[0]["sku"] == "OIL-SOL-500ML"
    session.pick_alternative(line.line_id, "OIL-SOL-500ML")
    assert line.sku == "OIL-SOL-500ML" and line.unit_price == store.products.get("OIL-SOL-500ML").price
    assert line.alternatives[0]["sku"] == "OIL-SOL-1L"  # the cashier can change their mind
    with pytest.raises(CheckoutError):
        session.pick_alternative(line.line_id, "BATT-AA-4")  # not an alternative


def test_quantities_are_whole_numbers_in_range(session):
    session.apply_basket(basket("OIL-SOL-1L"))
    line_id = session.lines[0].line_id
    for bad in (0, -1, 1000, 10**9, 1.5, "2", True):
        with pytest.raises(CheckoutError):
            session.set_qty(line_id, bad)
    session.set_qty(line_id, 3)
    assert session.lines[0].qty == 3 and session.state == "review"


def test_manual_and_barcode_items_and_their_events(session, store):
    session.add_product(store.products.get("SUGAR-2LB"), 2, "barcode")
    session.add_product(store.products.get("SUGAR-2LB"), 1, "barcode")
    session.add_product(store.products.get("BATT-AA-4"), 1, "manual")
    assert [(ln.sku, ln.qty, ln.source) for ln in session.lines] == [("SUGAR-2LB", 3, "barcode"),
                                                                    ("BATT-AA-4", 1, "manual")]
    assert [e.type for e in session.events] == ["manual_entry"]


def test_removing_lines_before_payment_is_a_correction_but_after_it_a_void(session, store):
    session.apply_basket(basket("OIL-SOL-1L", "SUGAR-2LB"))
    session.remove_line(_line(session, "SUGAR-2LB").line_id)  # a correction: no approval
    session.to_payment()
    with pytest.raises(ApprovalRequired):
        session.remove_line(_line(session, "OIL-SOL-1L").line_id)
    supervisor = store.users.get("maria")
    session.add_product(store.products.get("BATT-AA-4"), 1, "barcode") if session.state != "payment" else None
    session.remove_line(_line(session, "OIL-SOL-1L").line_id, approver=supervisor)
    assert [e.type for e in session.events] == ["void_line"]
    assert session.events[0].by == "maria" and session.state == "review"


def test_price_override_and_discount_need_a_supervisor(session, store):
    session.apply_basket(basket("OIL-SOL-1L"))
    session.review()
    line_id = session.lines[0].line_id
    with pytest.raises(ApprovalRequired):
        session.override_price(line_id, 100, approver=store.users.get("ana"))
    session.override_price(line_id, 20000, approver=store.users.get("maria"), reason="dented")
    assert session.lines[0].unit_price == 20000
    session.set_discount(500, approver=store.users.get("maria"))
    assert session.totals().total == 19500
    with pytest.raises(CheckoutError):
        session.set_discount(10**6, approver=store.users.get("maria"))


def test_cash_payment_gives_change_and_records_the_drawer(session):
    session.apply_basket(basket("OIL-SOL-1L"))  # 210.00
    totals = session.to_payment()
    with pytest.raises(CheckoutError, match="less than"):
        session.pay([PaymentPart("cash", totals.total, 20000)])
    rec = session.pay([PaymentPart("cash", totals.total, 50000)])
    assert rec.payments[0].change == 29000
    assert rec.payment_payload()["tendered"] == 50000 and rec.payment_payload()["change"] == 29000
    assert [e.type for e in rec.events] == ["drawer_open"]


def test_split_payment_must_add_up(session, store):
    session.apply_basket(basket("OIL-SOL-1L"))
    total = session.to_payment().total
    with pytest.raises(CheckoutError, match="add up"):
        session.pay([PaymentPart("card", 10000), PaymentPart("cash", 1000, 1000)])
    cust = store.customers.get("cust-02")
    rec = session.pay([PaymentPart("card", 10000), PaymentPart("credit", total - 10000, customer=cust)])
    assert rec.customer_id == "cust-02"
    assert rec.payment_payload()["parts"] == [{"method": "card", "amount": 10000},
                                              {"method": "credit", "amount": total - 10000}]


def test_credit_needs_a_customer_within_their_limit(session, store):
    session.apply_basket(basket("OIL-SOL-1L"))
    total = session.to_payment().total
    with pytest.raises(CheckoutError, match="customer"):
        session.pay([PaymentPart("credit", total)])
    poor = store.customers.save("No Credit", credit_limit=100)
    with pytest.raises(CheckoutError, match="credit left"):
        session.pay([PaymentPart("credit", total, customer=poor)])


def test_items_seen_on_the_tray_but_not_sold_are_vision_mismatches(session):
    session.apply_basket(basket("OIL-SOL-1L", "SUGAR-2LB", "SUGAR-2LB"))
    session.remove_line(next(ln for ln in session.lines if ln.sku == "SUGAR-2LB").line_id)
    total = session.to_payment().total
    rec = session.pay([PaymentPart("card", total)])
    mismatches = [(e.sku, e.seen, e.sold) for e in rec.events if isinstance(e, VisionMismatch)]
    assert mismatches == [("SUGAR-2LB", 2, 0)]


def test_voiding_a_sale_with_lines_needs_a_supervisor(session, store):
    session.apply_basket(basket("OIL-SOL-1L"))
    with pytest.raises(ApprovalRequired):
        session.void(None)
    rec = session.void(store.users.get("maria"), "customer left")
    assert rec.status == "voided" and rec.payments == []


def test_an_empty_sale_just_ends(store):
    s = session_for(store)
    s.start(cashier(store))
    assert s.void(None) is None and s.state == "voided"


def test_actions_in_the_wrong_state_are_refused(store):
    s = session_for(store)
    with pytest.raises(CheckoutError):
        s.to_payment()
    s.start(cashier(store))
    with pytest.raises(CheckoutError, match="empty"):
        s.to_payment()
