"""Refunds by receipt number: look-up with refundable quantities, supervisor PIN, limits, money back
the way it came, and the refund receipt."""

from __future__ import annotations

import pytest

from tests.edge.web.test_cashier_api import BEANS, MARIA, RICE, add, open_shift, sell, start_sale


@pytest.fixture
def sold(login_as):
    """Ana sold 3 rice and 2 beans for cash; returns (ana, receipt number)."""
    ana = login_as("cashier")
    open_shift(ana)
    done = sell(ana, [(RICE, 3), (BEANS, 2)], [{"method": "cash", "amount": 35500, "tendered": 40000}])
    return ana, done["receipt_no"]


def test_lookup_shows_refundable_quantities(sold):
    ana, no = sold
    body = ana.get(f"/api/refunds/lookup?receipt={no.lower()}").get_json()
    assert body["receipt_no"] == no and body["refundable"] is True and body["refunds"] == []
    lines = {ln["sku"]: ln for ln in body["refund_lines"]}
    assert lines[RICE] == {"sku": RICE, "name": "Arroz La Garza 2 lb", "sold": 3, "amount": 22500, "unit_price": 7500,
                           "refunded": 0, "refundable": 3}
    assert lines[BEANS]["refundable"] == 2
    assert ana.get("/api/refunds/lookup?receipt=TILL-1-999999").status_code == 404
    assert ana.get("/api/refunds/lookup?receipt=%3Cscript%3E").status_code == 400
    assert ana.get("/api/refunds/lookup").status_code == 400


def test_refund_needs_a_supervisor_pin(sold):
    ana, no = sold
    body = {"receipt_no": no, "items": {RICE: 1}, "reason": "damaged bag"}
    resp = ana.post("/api/refunds", json=body)
    assert resp.status_code == 403 and resp.get_json()["approval_required"] is True
    resp = ana.post("/api/refunds", json={**body, "approver_id": "maria", "approver_pin": "1111"})
    assert resp.status_code == 403 and "approval_required" not in resp.get_json()
    resp = ana.post("/api/refunds", json={**body, "approver_id": "luis", "approver_pin": "2468"})
    assert resp.status_code == 403  # a cashier cannot approve
    resp = ana.client.post("/api/refunds", json={**body, **MARIA})  # no CSRF token
    assert resp.status_code == 400
    assert ana.get(f"/api/refunds/lookup?receipt={no}").get_json()["refunds"] == []


def test_partial_refunds_then_more_than_sold_is_rejected(sold, web_context):
    ana, no = sold
    stock_before = web_context.store.products.get(RICE).stock_qty
    resp = ana.post("/api/refunds", json={"receipt_no": no, "items": {RICE: 2, BEANS: 0}, "reason": "damaged", **MARIA})
    assert resp.status_code == 200, resp.get_json()
    refund = resp.get_json()
    assert refund["receipt"]["status"] == "refunded" and refund["receipt"]["total"] == -15000
    assert refund["receipt"]["refund_of"] == no and refund["receipt"]["payments"][0]["method"] == "cash"
    assert "REFUND" in refund["receipt"]["text"] and "-150.00" in refund["receipt"]["text"]
    assert web_context.store.products.get(RICE).stock_qty == stock_before + 2
    lookup = ana.get(f"/api/refunds/lookup?receipt={no}").get_json()
    rice = next(ln for ln in lookup["refund_lines"] if ln["sku"] == RICE)
    assert rice["refunded"] == 2 and rice["refundable"] == 1
    assert [r["receipt_no"] for r in lookup["refunds"]] == [refund["receipt_no"]]
    assert lookup["refund_state"] == {"state": "partly", "receipts": [refund["receipt_no"]], "items": 2,
                                      "of_items": 5, "amount": 15000}
    original = ana.get(f"/till/receipt/{no}").get_data(as_text=True)
    assert f"Partly refunded (2 of 5 items, RD$150.00): {refund['receipt_no']}" in original
    assert f"Partly refunded: {refund['receipt_no']}" in ana.get(f"/till/receipt/{no}.txt").get_data(as_text=True)
    resp = ana.post("/api/refunds", json={"receipt_no": no, "items": {RICE: 2}, **MARIA})
    assert resp.status_code == 409 and "only 1" in resp.get_json()["error"]
    resp = ana.post("/api/refunds", json={"receipt_no": no, "items": {"MILK-NOT-SOLD": 1}, **MARIA})
    assert resp.status_code == 409
    assert ana.post("/api/refunds", json={"receipt_no": no, "items": {RICE: 1, BEANS: 2}, **MARIA}).status_code == 200
    # a refund receipt itself cannot be refunded
    resp = ana.post("/api/refunds", json={"receipt_no": refund["receipt_no"], "items": {RICE: 1}, **MARIA})
    assert resp.status_code == 409
    text = ana.get(f"/till/receipt/{refund['receipt_no']}.txt").get_data(as_text=True)
    assert "REFUND" in text and f"Refund of receipt {no}" in text and "Approved by: María" in text
    assert refund["receipt"]["approved_by"] == "María"
    page = ana.get(f"/till/receipt/{refund['receipt_no']}").get_data(as_text=True)
    assert f'id="receipt-refund-of">receipt {no}<' in page and 'id="receipt-approved-by">María<' in page
    # the original sale is marked as refunded: partly after the first refund, in full after the second
    original = ana.get(f"/api/receipts/{no}").get_json()
    assert original["refund_state"]["state"] == "fully" and refund["receipt_no"] in original["refund_state"]["receipts"]


def test_refund_quantities_and_text_are_checked(sold):
    ana, no = sold
    for items in ({RICE: -1}, {RICE: 1.5}, {RICE: "1"}, {RICE: 10**6}, {RICE: True}, {RICE: None}, {"<x>": 1},
                  {}, {RICE: 0}, [RICE], "RICE"):
        resp = ana.post("/api/refunds", json={"receipt_no": no, "items": items, **MARIA})
        assert resp.status_code == 400, (items, resp.get_json())
    resp = ana.post("/api/refunds", json={"receipt_no": no, "items": {RICE: 1}, "reason": "<script>x</script>",
                                          **MARIA})
    assert resp.status_code == 400
    resp = ana.post("/api/refunds", json={"receipt_no": "<script>", "items": {RICE: 1}, **MARIA})
    assert resp.status_code == 400
    unknown = {"receipt_no": "TILL-1-424242", "items": {RICE: 1}, **MARIA}
    assert ana.post("/api/refunds", json=unknown).status_code == 404


def test_voided_sale_cannot_be_refunded_and_credit_refund_reduces_the_balance(login_as, web_context):
    ana = login_as("cashier")
    open_shift(ana)
    start_sale(ana)
    add(ana, RICE)
    voided = ana.post("/api/checkout/void", json={"reason": "test", **MARIA}).get_json()["voided_receipt_no"]
    resp = ana.post("/api/refunds", json={"receipt_no": voided, "items": {RICE: 1}, **MARIA})
    assert resp.status_code == 409 and "voided" in resp.get_json()["error"]
    assert ana.get(f"/api/refunds/lookup?receipt={voided}").get_json()["refundable"] is False
    done = sell(ana, [(RICE, 2)], [{"method": "credit", "amount": 15000, "customer_id": "cust-03"}])
    assert web_context.store.customers.get("cust-03").balance == 15000
    resp = ana.post("/api/refunds", json={"receipt_no": done["receipt_no"], "items": {RICE: 1}, **MARIA})
    assert resp.status_code == 200 and resp.get_json()["receipt"]["payments"][0]["method"] == "credit"
    assert web_context.store.customers.get("cust-03").balance == 7500


def test_refund_needs_the_cashiers_open_shift(sold, login_as):
    _, no = sold
    luis = login_as("luis")
    resp = luis.post("/api/refunds", json={"receipt_no": no, "items": {RICE: 1}, **MARIA})
    assert resp.status_code == 409 and "shift" in resp.get_json()["error"]
    # the page is open to cashiers and lists the supervisors who can approve
    html = luis.get(f"/refunds?receipt={no}").get_data(as_text=True)
    assert f'value="{no}"' in html and 'value="maria"' in html and 'value="owner"' in html


def test_the_escpos_print_job_keeps_accents(login_as, web_context):
    """The printer gets the receipt in its code page (till.receipt_code_page, cp858 by default), accents and all."""
    web_context.store.settings.update(store_name="Café ñandú", receipt_footer="¡Gracias por su compra!")
    ana = login_as("cashier")
    open_shift(ana)
    no = sell(ana, [(RICE, 1)])["receipt_no"]
    resp = ana.get(f"/till/receipt/{no}.escpos")
    assert resp.status_code == 200 and resp.mimetype == "application/octet-stream"
    job = resp.get_data()
    assert job.startswith(b"\x1b@\x1bt\x13") and "Café ñandú".encode("cp858") in job
    assert "¡Gracias por su compra!".encode("cp858") in job and b"Cafe nandu" not in job
    assert "Café ñandú" in ana.get(f"/till/receipt/{no}.txt").get_data(as_text=True)
    web_context.till = web_context.till.model_copy(update={"receipt_code_page": "cp1252"})
    assert ana.get(f"/till/receipt/{no}.escpos").get_data().startswith(b"\x1b@\x1bt\x10")


def test_the_owner_sees_the_original_sale_marked_as_refunded(sold, login_as):
    ana, no = sold
    refund = ana.post("/api/refunds", json={"receipt_no": no, "items": {RICE: 1}, "reason": "torn", **MARIA})
    assert refund.status_code == 200, refund.get_json()
    owner = login_as("owner")
    listing = owner.get("/api/sales").get_json()["sales"]
    original = next(s for s in listing if s["receipt_no"] == no)
    assert original["status"] == "completed" and original["refund_state"] == "partly"
    assert next(s for s in listing if s["status"] == "refunded")["refund_state"] is None
    page = owner.get(f"/sales/{original['tx_id']}").get_data(as_text=True)
    assert 'id="sale-refund-state">partly refunded<' in page
    assert "partly refunded" in owner.get("/sales").get_data(as_text=True)
    ana.post("/api/refunds", json={"receipt_no": no, "items": {RICE: 2, BEANS: 2}, **MARIA})
    page = owner.get(f"/sales/{original['tx_id']}").get_data(as_text=True)
    assert 'id="sale-refund-state">refunded in full<' in page
