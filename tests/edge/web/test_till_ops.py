"""Till operations that must be right (issue 26), through the till's JSON API: a zero-total sale, a void
that records exactly the basket the supervisor approved, and a payment the screen did not hear back
about (the sale's id is the idempotency key; the till says whether it was recorded)."""

from __future__ import annotations

import uuid

import pytest

from edge.checkout.service import CheckoutService
from tests.edge.web.test_cashier_api import BEANS, MARIA, RICE, add, open_shift, snapshot, start_sale


@pytest.fixture
def ana(login_as):
    """Ana, logged in, with her shift open."""
    session = login_as("cashier")
    open_shift(session)
    return session


def test_a_price_overridden_to_zero_makes_a_zero_total_sale_that_completes_with_no_payment(ana, web_context):
    start_sale(ana)
    line = add(ana, RICE)["lines"][0]["line_id"]
    resp = ana.post(f"/api/checkout/lines/{line}/price", json={"unit_price": 0, "reason": "free sample", **MARIA})
    assert resp.status_code == 200, resp.get_json()
    assert ana.post("/api/checkout/pay").get_json()["due"] == 0
    # a payment part for a zero total is refused with a clear message; an empty list completes the sale
    resp = ana.post("/api/checkout/complete", json={"payments": [{"method": "cash", "amount": 100}]})
    assert resp.status_code == 409 and "complete the sale with no payment" in resp.get_json()["error"]
    resp = ana.post("/api/checkout/complete", json={"payments": []})
    assert resp.status_code == 200, resp.get_json()
    receipt = resp.get_json()["receipt"]
    assert receipt["status"] == "completed" and receipt["total"] == 0 and receipt["payments"] == []
    assert "No payment due" in receipt["text"]
    stored = web_context.store.sales.by_receipt(receipt["receipt_no"])
    assert stored.total == 0 and stored.to_payload()["payment"] is None
    assert not any(e.type == "drawer_open" for e in stored.events)  # nothing to pay: the drawer stays shut
    page = ana.get(f"/till/receipt/{receipt['receipt_no']}").get_data(as_text=True)
    assert 'id="receipt-no-payment"' in page
    # a sale with something to pay still needs its payment
    start_sale(ana)
    add(ana, BEANS)
    ana.post("/api/checkout/pay")
    assert ana.post("/api/checkout/complete", json={"payments": []}).status_code == 400


def test_a_void_records_exactly_the_basket_that_was_approved(ana, web_context):
    """The approval showed 2 items (RD$140.00 of rice and beans); the camera then adds a third.  The void
    of the version shown is refused, and a void of the frozen basket records exactly what was shown."""
    checkout = web_context.checkout
    start_sale(ana)
    checkout.on_basket(snapshot((RICE, 0.9, ()), (BEANS, 0.9, ())))
    shown = ana.post("/api/checkout/review").get_json()  # the void box freezes the basket first
    assert shown["state"] == "review" and shown["totals"]["items"] == 2 and shown["totals"]["total"] == 14000
    # frozen: the tray changes, the basket does not
    checkout.on_basket(snapshot((RICE, 0.9, ()), (BEANS, 0.9, ()), (RICE, 0.9, ())))
    assert ana.get("/api/checkout").get_json()["totals"]["items"] == 2
    # another screen adds an item while the supervisor types the PIN: the shown version is stale
    add(ana, BEANS)
    body = {"reason": "customer left", "expect_version": shown["version"], **MARIA}
    resp = ana.post("/api/checkout/void", json=body)
    assert resp.status_code == 409 and "basket changed" in resp.get_json()["error"]
    assert ana.get("/api/checkout").get_json()["state"] == "review"  # nothing voided
    # the till shows the new basket; the void of that version records exactly it
    now = ana.get("/api/checkout").get_json()
    resp = ana.post("/api/checkout/void", json={**body, "expect_version": now["version"]})
    assert resp.status_code == 200, resp.get_json()
    record = web_context.store.sales.by_receipt(resp.get_json()["voided_receipt_no"])
    assert record.status == "voided" and record.total == now["totals"]["total"] == 20500
    assert [(ln.sku, ln.qty) for ln in record.lines] == [(ln["sku"], ln["qty"]) for ln in now["lines"]]
    assert ana.post("/api/checkout/void", json={"expect_version": "x"}).status_code == 400


def test_a_payment_attempt_is_idempotent_and_the_till_says_whether_a_sale_was_recorded(ana, web_context):
    start_sale(ana)
    add(ana, RICE)
    view = ana.post("/api/checkout/pay").get_json()
    tx_id = view["tx_id"]
    status = ana.get(f"/api/checkout/sales/{tx_id}").get_json()
    assert status == {"tx_id": tx_id, "recorded": False, "open": True, "state": "payment"}
    pay = {"payments": [{"method": "cash", "amount": 7500, "tendered": 10000}], "tx_id": tx_id}
    first = ana.post("/api/checkout/complete", json=pay).get_json()
    # the answer was lost (the screen never heard it): the same attempt again gets the same sale, not a second one
    again = ana.post("/api/checkout/complete", json=pay)
    assert again.status_code == 200 and again.get_json()["replayed"] is True
    assert again.get_json()["receipt_no"] == first["receipt_no"]
    assert web_context.store.db.scalar("SELECT count(*) FROM sales WHERE tx_id = ?", (tx_id,)) == 1
    status = ana.get(f"/api/checkout/sales/{tx_id}").get_json()
    assert status["recorded"] is True and status["receipt_no"] == first["receipt_no"] and status["total"] == 7500

    # the till restarts in the middle of the next payment: the sale in progress was never recorded
    start_sale(ana)
    add(ana, BEANS)
    lost = ana.post("/api/checkout/pay").get_json()["tx_id"]
    web_context.checkout = CheckoutService(web_context.store, web_context.auth, "s-001", "till-1")  # a fresh till
    status = ana.get(f"/api/checkout/sales/{lost}").get_json()
    assert status == {"tx_id": lost, "recorded": False, "open": False, "state": None}
    resp = ana.post("/api/checkout/complete", json={"payments": [{"method": "cash", "amount": 6500}], "tx_id": lost})
    assert resp.status_code == 409
    assert f"sale {lost[:8]} was not recorded" in resp.get_json()["error"]
    assert "ring the items up again" in resp.get_json()["error"]
    assert ana.get(f"/api/checkout/sales/{uuid.uuid4()}").get_json()["recorded"] is False
    assert ana.get("/api/checkout/sales/not-an-id").status_code == 404


def test_paying_for_a_sale_that_was_voided_meanwhile_says_so(ana, login_as):
    start_sale(ana)
    add(ana, RICE)
    tx_id = ana.post("/api/checkout/pay").get_json()["tx_id"]
    voided = ana.post("/api/checkout/void", json={"reason": "customer left", **MARIA}).get_json()["voided_receipt_no"]
    status = ana.get(f"/api/checkout/sales/{tx_id}").get_json()
    assert status["recorded"] is True and status["status"] == "voided" and status["receipt_no"] == voided
    resp = ana.post("/api/checkout/complete", json={"payments": [{"method": "cash", "amount": 7500}], "tx_id": tx_id})
    assert resp.status_code == 409 and f"was voided (receipt {voided})" in resp.get_json()["error"]
