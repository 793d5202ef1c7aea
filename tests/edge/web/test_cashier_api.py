"""The till's JSON API: the sale in progress, corrections with supervisor approval, payment, receipts,
and the rejections (bad quantities, script injection, missing CSRF, wrong cashier, wrong role)."""

from __future__ import annotations

import threading
import time

import pytest
from werkzeug.routing import IntegerConverter

from contracts.events import LineVoid
from edge.store.database import FULL_MESSAGE
from edge.store.errors import StoreFullError
from vision.basket import BasketItem, BasketSnapshot
from vision.detector import Box

MARIA = {"approver_id": "maria", "approver_pin": "8024"}
RICE = "RICE-LG-2LB"          # 75.00, barcode 7467700370018
RICE_BARCODE = "7467700370018"
BEANS = "BEAN-RED-1LB"        # 65.00
BEANS_BLACK = "BEAN-BLK-1LB"  # 65.00


# -- helpers (also used by test_shifts.py and test_refunds.py) ---------------------------------------
def open_shift(session, opening_float: str = "500.00") -> dict:
    resp = session.post("/api/shift/open", json={"opening_float": opening_float})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["shift"]


def start_sale(session) -> dict:
    resp = session.post("/api/checkout/start")
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def add(session, code: str, qty: int = 1, source: str = "manual") -> dict:
    resp = session.post("/api/checkout/items", json={"code": code, "qty": qty, "source": source})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def sell(session, items: list[tuple[str, int]], payments: list[dict] | None = None) -> dict:
    """Start, add, pay (cash exact unless ``payments``) and complete; returns the complete answer."""
    start_sale(session)
    for code, qty in items:
        add(session, code, qty)
    due = session.post("/api/checkout/pay").get_json()["due"]
    payments = payments or [{"method": "cash", "amount": due, "tendered": due}]
    resp = session.post("/api/checkout/complete", json={"payments": payments})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def box() -> Box:
    return (10.0, 10.0, 60.0, 60.0)


def snapshot(*items: tuple[str, float, tuple[tuple[str, float], ...]], settled: bool = True) -> BasketSnapshot:
    return BasketSnapshot(items=tuple(BasketItem(i + 1, sku, conf, box(), alts, "vision")
                                      for i, (sku, conf, alts) in enumerate(items)),
                          settled=settled, events=(), frame_index=1)


@pytest.fixture
def ana(login_as):
    s = login_as("cashier")
    open_shift(s)
    return s


@pytest.fixture
def selling(ana):
    """Ana with a sale in progress holding one typed rice line."""
    start_sale(ana)
    add(ana, RICE)
    return ana


# -- pages -------------------------------------------------------------------------------------------
def test_till_page_needs_login_and_shows_no_camera_panel(app, login_as):
    assert app.test_client().get("/till").status_code == 302
    s = login_as("cashier")
    html = s.get("/till").get_data(as_text=True)
    assert 'id="no-camera"' in html and "/video.mjpg" not in html
    assert 'id="shift-gate" class="card shift-gate">' in html  # no shift yet: the gate is shown
    open_shift(s)
    html = s.get("/till").get_data(as_text=True)
    assert 'id="shift-gate" class="card shift-gate" hidden' in html
    assert "<script>" not in html.split("</head>")[0] and " style=" not in html and "onclick" not in html
    assert 'value="maria"' in html  # the approval dialog lists the supervisors


def test_start_needs_an_open_shift(login_as):
    s = login_as("cashier")
    resp = s.post("/api/checkout/start")
    assert resp.status_code == 409 and "shift" in resp.get_json()["error"]


# -- adding and correcting -----------------------------------------------------------------------------
def test_add_by_code_and_barcode_and_change_quantities(selling):
    view = add(selling, RICE_BARCODE, source="barcode")
    sources = {ln["source"]: ln for ln in view["lines"]}
    assert set(sources) == {"manual", "barcode"} and sources["barcode"]["sku"] == RICE
    line = sources["manual"]["line_id"]
    view = selling.post(f"/api/checkout/lines/{line}", json={"qty": 3}).get_json()
    assert view["totals"] == {"subtotal": 30000, "discount": 0, "tax": 4576, "total": 30000, "items": 4,
                             "promotions": 0}
    resp = selling.client.patch(f"/api/checkout/lines/{line}", json={"qty": 2},
                                headers={"X-CSRFToken": selling.token})
    assert resp.status_code == 200 and resp.get_json()["totals"]["items"] == 3
    view = selling.post(f"/api/checkout/lines/{line}/remove").get_json()
    assert [ln["source"] for ln in view["lines"]] == ["barcode"]
    assert selling.post("/api/checkout/items", json={"code": "NO-SUCH"}).status_code == 409


BAD_QUANTITIES = [-1, 0, 1000, 10**12, 1.5, 2.0, "3", "abc", "1e3", True, None, [1], {"n": 1}]


def test_bad_quantities_are_rejected(selling):
    line = selling.get("/api/checkout").get_json()["lines"][0]["line_id"]
    for qty in BAD_QUANTITIES:
        resp = selling.post("/api/checkout/items", json={"code": RICE, "qty": qty})
        assert resp.status_code == 400, (qty, resp.get_json())
        assert "qty" in resp.get_json()["error"]
        body = {} if qty is None else {"qty": qty}
        assert selling.post(f"/api/checkout/lines/{line}", json=body).status_code == 400, qty
    view = selling.get("/api/checkout").get_json()
    assert [ln["qty"] for ln in view["lines"]] == [1]  # nothing changed
    assert selling.post(f"/api/checkout/lines/{line}", json={"qty": 999}).get_json()["lines"][0]["qty"] == 999


def test_script_injection_and_bad_text_is_rejected(selling):
    for url, body in [
        ("/api/checkout/items", {"code": "<script>alert(1)</script>"}),
        ("/api/checkout/items", {"code": RICE, "source": "vision"}),
        ("/api/checkout/items", {"code": RICE + "\x00"}),
        ("/api/checkout/items", {"code": 12345}),
        ("/api/checkout/void", {"reason": "<img src=x onerror=alert(1)>"}),
        ("/api/drawer/open", {"reason": "<script>"}),
        ("/api/checkout/discount", {"amount": 100, "reason": "a<b", **MARIA}),
        ("/api/checkout/discount", {"amount": 100, "approver_id": "<script>", "approver_pin": "8024"}),
        ("/api/checkout/discount", {"amount": 100, "approver_id": "maria", "approver_pin": "80<4"}),
    ]:
        resp = selling.post(url, json=body)
        assert resp.status_code == 400, (url, body, resp.get_json())
    assert selling.get("/api/products/search?q=%3Cscript%3E").status_code == 400
    resp = selling.post("/api/checkout/items", data="[1, 2]", content_type="application/json")
    assert resp.status_code == 400
    assert selling.get("/api/checkout").get_json()["totals"]["items"] == 1


def test_missing_csrf_token_is_rejected(selling):
    resp = selling.client.post("/api/checkout/items", json={"code": RICE})
    assert resp.status_code == 400 and "security token" in resp.get_json()["error"]
    resp = selling.client.post("/api/checkout/items", json={"code": RICE}, headers={"X-CSRFToken": "forged"})
    assert resp.status_code == 400
    assert selling.get("/api/checkout").get_json()["totals"]["items"] == 1


def test_other_cashier_cannot_act_on_the_sale_but_a_supervisor_can(selling, login_as):
    luis = login_as("luis")
    resp = luis.post("/api/shift/open", json={"opening_float": "100"})  # one drawer: Ana's shift holds it
    assert resp.status_code == 400 and "Ana's shift" in resp.get_json()["error"]
    view = luis.get("/api/checkout").get_json()
    assert view["mine"] is False and view["cashier"]["id"] == "ana"
    assert luis.post("/api/checkout/start").status_code == 409
    line = view["lines"][0]["line_id"]
    for url, body in [("/api/checkout/items", {"code": RICE}), (f"/api/checkout/lines/{line}", {"qty": 5}),
                      (f"/api/checkout/lines/{line}/remove", {}), ("/api/checkout/pay", {}),
                      ("/api/checkout/review", {}), ("/api/checkout/void", {})]:
        resp = luis.post(url, json=body)
        assert resp.status_code == 403 and "belongs to Ana" in resp.get_json()["error"], url
    assert selling.get("/api/checkout").get_json()["totals"]["items"] == 1
    maria = login_as("supervisor")
    assert maria.get("/api/checkout").get_json()["mine"] is True
    assert maria.post(f"/api/checkout/lines/{line}", json={"qty": 2}).status_code == 200


# What only the owner may see or change: the dashboard, the sales, the alerts, the stock, the credit
# book, and managing staff, products, customers and settings.  The check below finds the owner-only
# routes by their guard; these must be among them, so it can never pass by finding none.
OWNER_ONLY = {
    ("GET", "/dashboard"), ("GET", "/sales"), ("GET", "/sales/<tx_id>"), ("GET", "/api/dashboard/summary"),
    ("GET", "/api/alerts"), ("POST", "/api/alerts/<int:alert_id>/ack"), ("GET", "/api/stock"), ("GET", "/api/credit"),
    ("GET", "/api/sales"), ("GET", "/manage/staff"), ("POST", "/api/staff"), ("PUT", "/api/staff/<user_id>"),
    ("POST", "/api/staff/<user_id>/unlock"), ("POST", "/api/products"), ("PUT", "/api/products/<sku>"),
    ("POST", "/api/manage/customers"), ("POST", "/api/manage/customers/<customer_id>/repayment"),
    ("GET", "/manage/settings"), ("PUT", "/api/settings"),
}


def owner_only_requests(app) -> list[tuple[str, str, str]]:
    """``(method, rule, url)`` for every method of every route guarded for the owner."""
    adapter = app.url_map.bind("localhost")
    out = []
    for rule in app.url_map.iter_rules():
        if getattr(app.view_functions[rule.endpoint], "required_role", None) != "owner":
            continue
        values = {arg: 1 if isinstance(conv, IntegerConverter) else "x" for arg, conv in rule._converters.items()}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, rule.rule, adapter.build(rule.endpoint, values, method=method)))
    return out


def send(session, method: str, url: str):
    if not url.startswith("/api/") and method == "GET":
        return session.client.get(url)
    return session.client.open(url, method=method, json={},
                               headers={"X-CSRFToken": session.token, "Accept": "application/json"})


def store_state(store) -> tuple:
    return (store.users.list(), store.products.list(), store.customers.list(), store.settings.get(),
            store.db.scalar("SELECT count(*) FROM alerts WHERE acknowledged_at IS NOT NULL"))


@pytest.mark.parametrize("who", ["cashier", "supervisor"])
def test_every_owner_only_endpoint_refuses_a_cashier_and_a_supervisor(app, login_as, store, who):
    requests = owner_only_requests(app)
    found = {(method, rule) for method, rule, _ in requests}
    assert found >= OWNER_ONLY, f"owner-only routes not guarded for the owner: {sorted(OWNER_ONLY - found)}"
    before = store_state(store)
    session = login_as(who)
    let_in = [(method, url, resp.status_code) for method, _, url in requests
              if (resp := send(session, method, url)).status_code != 403]
    assert not let_in, f"a {who} reached owner-only endpoints: {let_in}"
    assert store_state(store) == before, f"a refused {who} changed the store"


def test_the_owner_reaches_every_owner_only_page(app, login_as):
    """The control for the refusals above: the same requests, sent by the owner, are not refused
    (a 404 for the made-up ids is fine), so the 403s come from the role and not from the request."""
    owner = login_as("owner")
    refused = [(url, resp.status_code) for method, _, url in owner_only_requests(app) if method == "GET"
               and (resp := send(owner, method, url)).status_code in (401, 403)]
    assert not refused


# -- vision lines ------------------------------------------------------------------------------------
def test_settled_basket_fills_vision_lines_with_confidence_and_alternatives(ana, web_context):
    start_sale(ana)
    web_context.checkout.session.apply_basket(snapshot((RICE, 0.93, ((BEANS, 0.04),)), (RICE, 0.88, ()),
                                                       (BEANS_BLACK, 0.61, ((BEANS, 0.3),))))
    view = ana.get("/api/checkout").get_json()
    lines = {ln["sku"]: ln for ln in view["lines"]}
    assert lines[RICE]["qty"] == 2 and lines[RICE]["source"] == "vision" and lines[RICE]["confidence"] == 0.93
    assert lines[RICE]["alternatives"][0]["sku"] == BEANS
    # the cashier picks the alternative of the black-beans line: it becomes red beans, review state
    black = lines[BEANS_BLACK]["line_id"]
    view = ana.post(f"/api/checkout/lines/{black}/alternative", json={"sku": BEANS}).get_json()
    assert view["state"] == "review"
    assert {ln["sku"] for ln in view["lines"]} == {RICE, BEANS}
    assert ana.post(f"/api/checkout/lines/{black}/alternative", json={"sku": "MILK-X"}).status_code == 409
    # an unsettled basket is ignored
    assert web_context.checkout.session.apply_basket(snapshot((RICE, 0.9, ()), settled=False)) is False


def test_long_poll_returns_immediately_on_change_and_waits_otherwise(ana, web_context, monkeypatch):
    view = start_sale(ana)
    version = view["version"]
    t0 = time.monotonic()
    resp = ana.get(f"/api/checkout?since={version}&wait=0.3")
    assert resp.get_json()["version"] == version and time.monotonic() - t0 >= 0.28
    assert ana.get(f"/api/checkout?since={version - 1}&wait=5").get_json()["version"] == version  # no wait

    # the tray settles while the screen's request is waiting (not before it arrives)
    session = web_context.checkout.session
    waiting = threading.Event()
    wait_for_change = session.wait_for_change

    def noting_the_wait(since: int, timeout: float) -> int:
        waiting.set()
        return wait_for_change(since, timeout)

    monkeypatch.setattr(session, "wait_for_change", noting_the_wait)

    def tray_settles() -> None:
        assert waiting.wait(10), "the long-poll never started waiting"
        web_context.checkout.on_basket(snapshot((RICE, 0.95, ())))

    threading.Thread(target=tray_settles, daemon=True).start()
    t0 = time.monotonic()
    view = ana.get(f"/api/checkout?since={version}&wait=8").get_json()
    elapsed = time.monotonic() - t0
    assert waiting.is_set() and view["version"] > version and view["lines"][0]["sku"] == RICE
    assert elapsed < 4, f"the change did not wake the waiting request ({elapsed:.1f} s of the 8 s wait)"
    for bad in ("abc", "-5", "1.5"):
        assert ana.get(f"/api/checkout?since={bad}").status_code == 400
    assert ana.get(f"/api/checkout?since={version}&wait=forever").status_code == 400


# -- approvals -----------------------------------------------------------------------------------------
def test_locked_line_void_needs_a_supervisor_pin(selling, web_context, login_as):
    line = selling.get("/api/checkout").get_json()["lines"][0]["line_id"]
    selling.post("/api/checkout/items", json={"code": BEANS, "qty": 2})
    assert selling.post("/api/checkout/pay").get_json()["state"] == "payment"
    assert selling.post("/api/checkout/review").get_json()["state"] == "review"
    resp = selling.post(f"/api/checkout/lines/{line}/remove", json={"reason": "customer changed mind"})
    assert resp.status_code == 403 and resp.get_json()["approval_required"] is True
    resp = selling.post(f"/api/checkout/lines/{line}/remove", json={"approver_id": "maria", "approver_pin": "0000"})
    assert resp.status_code == 403 and "approval_required" not in resp.get_json()
    resp = selling.post(f"/api/checkout/lines/{line}/remove", json={"approver_id": "luis", "approver_pin": "2468"})
    assert resp.status_code == 403 and "supervisor must approve" in resp.get_json()["error"]
    resp = selling.post(f"/api/checkout/lines/{line}/remove", json={"approver_id": "maria"})
    assert resp.status_code == 400
    resp = selling.post(f"/api/checkout/lines/{line}/remove", json={**MARIA, "reason": "customer changed mind"})
    assert resp.status_code == 200 and [ln["sku"] for ln in resp.get_json()["lines"]] == [BEANS]
    # reducing a locked quantity is a void too
    beans = resp.get_json()["lines"][0]["line_id"]
    assert selling.post(f"/api/checkout/lines/{beans}", json={"qty": 1}).get_json()["approval_required"]
    assert selling.post(f"/api/checkout/lines/{beans}", json={"qty": 1, **MARIA}).status_code == 200
    due = selling.post("/api/checkout/pay").get_json()["due"]
    done = selling.post("/api/checkout/complete", json={"payments": [{"method": "card", "amount": due}]}).get_json()
    sale = web_context.store.sales.by_receipt(done["receipt_no"])
    voids = [e for e in sale.events if isinstance(e, LineVoid)]
    assert len(voids) == 2 and voids[0].by == "maria" and voids[0].reason == "customer changed mind"


def test_price_override_and_discount_need_approval(selling, web_context):
    line = selling.get("/api/checkout").get_json()["lines"][0]["line_id"]
    resp = selling.post(f"/api/checkout/lines/{line}/price", json={"unit_price": "70.00"})
    assert resp.status_code == 403 and resp.get_json()["approval_required"]
    for bad in (-100, 1.5, "abc", True, 10**12):
        assert selling.post(f"/api/checkout/lines/{line}/price", json={"unit_price": bad, **MARIA}).status_code == 400
    view = selling.post(f"/api/checkout/lines/{line}/price",
                        json={"unit_price": "70.00", "reason": "shelf label", **MARIA}).get_json()
    assert view["lines"][0]["unit_price"] == 7000 and view["lines"][0]["list_price"] == 7500
    assert view["state"] == "review"
    assert selling.post("/api/checkout/discount", json={"amount": 500}).get_json()["approval_required"]
    assert selling.post("/api/checkout/discount", json={"amount": 9999, **MARIA}).status_code == 409  # > subtotal
    view = selling.post("/api/checkout/discount", json={"amount": "5.00", "reason": "loyal", **MARIA}).get_json()
    assert view["totals"]["discount"] == 500 and view["totals"]["total"] == 6500
    done = selling.post("/api/checkout/pay").get_json()
    assert done["due"] == 6500
    rec = selling.post("/api/checkout/complete", json={"payments": [{"method": "cash", "amount": 6500,
                                                                      "tendered": 10000}]}).get_json()
    assert rec["receipt"]["change"] == 3500 and rec["receipt"]["discount"] == 500
    sale = web_context.store.sales.by_receipt(rec["receipt_no"])
    assert [e.type for e in sale.events].count("price_override") == 2


def test_void_sale_needs_approval_unless_empty(ana, web_context):
    start_sale(ana)
    resp = ana.post("/api/checkout/void", json={"reason": "changed mind"})
    body = resp.get_json()
    assert resp.status_code == 200 and body["state"] == "voided" and body["voided_receipt_no"] is None
    start_sale(ana)
    add(ana, RICE)
    resp = ana.post("/api/checkout/void", json={"reason": "customer left"})
    assert resp.status_code == 403 and resp.get_json()["approval_required"]
    resp = ana.post("/api/checkout/void", json={"reason": "customer left", **MARIA})
    assert resp.status_code == 200 and resp.get_json()["state"] == "voided"
    voided = web_context.store.sales.by_receipt(resp.get_json()["voided_receipt_no"])
    assert voided.status == "voided" and voided.total == 7500
    assert ana.post("/api/checkout/void", json=MARIA).status_code == 409  # nothing in progress


# -- payment -------------------------------------------------------------------------------------------
def _to_payment(session, items=((RICE, 2),)) -> int:
    start_sale(session)
    for code, qty in items:
        add(session, code, qty)
    return session.post("/api/checkout/pay").get_json()["due"]


def test_cash_under_tendered_is_rejected_and_change_given(ana):
    due = _to_payment(ana)
    assert due == 15000
    resp = ana.post("/api/checkout/complete", json={"payments": [{"method": "cash", "amount": due, "tendered": 14999}]})
    assert resp.status_code == 409 and "less than" in resp.get_json()["error"]
    resp = ana.post("/api/checkout/complete", json={"payments": [{"method": "cash", "amount": due, "tendered": "200"}]})
    body = resp.get_json()
    assert resp.status_code == 200 and body["state"] == "completed" and body["receipt"]["change"] == 5000
    assert body["receipt_no"] == body["receipt"]["receipt_no"] and body["receipt_no"].startswith("TILL-1-")


MALFORMED_PAYMENTS = [
    [], "cash", [{"method": "cheque", "amount": 15000}], [{"method": "cash", "amount": 150.0}],
    [{"method": "cash", "amount": -15000}], [{"method": "cash", "amount": 0}], [{"method": "card"}],
    [{"method": "credit", "amount": 15000}], [{"method": "credit", "amount": 15000, "customer_id": "nobody"}],
    [{"method": "cash", "amount": 15000, "tendered": "<b>"}], [["cash", 15000]],
    [{"method": "card", "amount": 2500}] * 7,
]


def test_malformed_payments_are_rejected(ana):
    _to_payment(ana)
    for payments in MALFORMED_PAYMENTS:
        resp = ana.post("/api/checkout/complete", json={"payments": payments})
        assert resp.status_code == 400, (payments, resp.get_json())
    assert ana.get("/api/checkout").get_json()["state"] == "payment"


def test_payments_must_add_up(ana):
    due = _to_payment(ana)
    resp = ana.post("/api/checkout/complete", json={"payments": [{"method": "card", "amount": due - 1}]})
    assert resp.status_code == 409 and "add up" in resp.get_json()["error"]


def test_split_payment(ana, web_context):
    due = _to_payment(ana)
    parts = [{"method": "cash", "amount": 5000, "tendered": 5000}, {"method": "card", "amount": 6000},
             {"method": "mobile_money", "amount": 2000}, {"method": "credit", "amount": due - 13000,
                                                          "customer_id": "cust-02"}]
    body = ana.post("/api/checkout/complete", json={"payments": parts}).get_json()
    assert [p["method"] for p in body["receipt"]["payments"]] == ["cash", "card", "mobile_money", "credit"]
    assert body["receipt"]["customer"]["name"] == "Pedro Martínez"
    assert web_context.store.customers.get("cust-02").balance == 2000


def test_credit_over_limit_is_rejected(ana, web_context):
    web_context.store.customers.save("Juana Reyes", "849-555-0104", 10000, customer_id="cust-04")
    due = _to_payment(ana)
    customers = {c["id"]: c for c in ana.get("/api/customers").get_json()["customers"]}
    assert customers["cust-04"]["available_credit"] == 10000 < due
    resp = ana.post("/api/checkout/complete", json={"payments": [{"method": "credit", "amount": due,
                                                                   "customer_id": "cust-04"}]})
    assert resp.status_code == 409 and resp.get_json()["error"] == "Juana Reyes has only RD$100.00 of credit left"
    resp = ana.post("/api/checkout/complete", json={"payments": [{"method": "credit", "amount": due,
                                                                   "customer_id": "cust-01"}]})
    assert resp.status_code == 200
    assert web_context.store.customers.get("cust-01").balance == due


def test_storage_failure_answers_507_and_keeps_the_sale_for_a_retry(ana, web_context):
    due = _to_payment(ana)

    def full_disk(stage: str) -> None:
        if stage == "written":
            raise StoreFullError(FULL_MESSAGE)

    web_context.store.sales.fault_hook = full_disk
    payments = {"payments": [{"method": "cash", "amount": due, "tendered": 20000}]}
    resp = ana.post("/api/checkout/complete", json=payments)
    assert resp.status_code == 507 and "storage is full" in resp.get_json()["error"]
    view = ana.get("/api/checkout").get_json()
    assert view["state"] == "payment" and view["totals"]["total"] == due and view["receipt_no"] is None
    assert web_context.store.sales.recent() == []
    web_context.store.sales.fault_hook = None
    resp = ana.post("/api/checkout/complete", json=payments)
    assert resp.status_code == 200 and len(web_context.store.sales.recent()) == 1


# -- receipts ----------------------------------------------------------------------------------------
def test_receipt_json_text_and_page(ana, login_as):
    done = sell(ana, [(RICE, 2), (BEANS, 1)], [{"method": "cash", "amount": 21500, "tendered": 30000}])
    no = done["receipt_no"]
    receipt = ana.get(f"/api/receipts/{no}").get_json()
    assert receipt["total"] == 21500 and receipt["change"] == 8500 and receipt["cashier"]["name"] == "Ana"
    resp = ana.get(f"/till/receipt/{no}.txt")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    text = resp.get_data(as_text=True)
    for expected in ("Colmado La Esquina", "SALE", f"Receipt {no}", "Cashier: Ana", "Arroz La Garza 2 lb",
                     "  2 x 75.00", "150.00", "Habichuelas Rojas 1 lb", "TOTAL DOP", "215.00", "incl. tax 18%",
                     "Cash", "300.00", "Change", "85.00", "Thank you for shopping with us"):
        assert expected in text, expected
    assert all(len(row) <= 42 for row in text.splitlines())
    narrow = ana.get(f"/till/receipt/{no}.txt?width=32").get_data(as_text=True)
    assert "-" * 32 + "\n" in narrow and "-" * 33 not in narrow  # 58 mm paper
    assert ana.get(f"/till/receipt/{no}.txt?width=500").status_code == 400
    html = ana.get(f"/till/receipt/{no}").get_data(as_text=True)
    assert 'id="receipt-no">' + no in html and "RD$215.00" in html and "RD$85.00" in html
    # another cashier cannot read Ana's receipts; a supervisor can
    luis = login_as("luis")
    assert luis.get(f"/api/receipts/{no}").status_code == 403
    assert luis.get(f"/till/receipt/{no}.txt").status_code == 403
    assert login_as("supervisor").get(f"/api/receipts/{no}").status_code == 200
    assert ana.get("/api/receipts/TILL-1-999999").status_code == 404
    assert ana.get("/api/receipts/%3Cscript%3E").status_code == 404


# -- look-ups and the drawer ---------------------------------------------------------------------------
def test_product_search_and_customers(ana):
    found = ana.get("/api/products/search?q=habichuelas").get_json()["products"]
    assert {p["sku"] for p in found} >= {BEANS, BEANS_BLACK} and all(p["price"] > 0 for p in found)
    assert ana.get(f"/api/products/search?q={RICE_BARCODE}").get_json()["products"][0]["sku"] == RICE
    assert ana.get("/api/products/search?q=").get_json()["products"] == []
    assert ana.get("/api/products/search?q=rice&limit=500").status_code == 400
    customers = ana.get("/api/customers").get_json()["customers"]
    assert len(customers) == 8 and all(c["available_credit"] == c["credit_limit"] - c["balance"] for c in customers)


def test_drawer_open_without_sale_is_recorded(login_as, web_context):
    s = login_as("cashier")
    assert s.post("/api/drawer/open", json={"reason": "change"}).status_code == 409  # no shift
    open_shift(s)
    assert s.post("/api/drawer/open", json={}).status_code == 400
    assert s.post("/api/drawer/open", json={"reason": "change for a customer"}).status_code == 200
    rows = web_context.store.db.query("SELECT * FROM events WHERE type = 'drawer_open' AND tx_id IS NULL")
    assert len(rows) == 1 and rows[0]["user_id"] == "ana"


def test_api_needs_login(app):
    client = app.test_client()
    for url in ("/api/checkout", "/api/customers", "/api/products/search?q=a", "/api/shift"):
        assert client.get(url).status_code == 401
