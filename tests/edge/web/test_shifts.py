"""Shifts: open with a float, the running X report, close with a cash count and the stored close
report (over/short, methods, voids, refunds, overrides, no-sale drawer opens, top items, alerts)."""

from __future__ import annotations

import pytest

from edge.demo.seed import seed_store
from edge.store import Store
from edge.store.errors import ValidationError
from firmware_config import ConfigError, load_config
from tests.edge.web.test_cashier_api import BEANS, MARIA, RICE, add, open_shift, sell, start_sale


def _busy_shift(ana, web_context) -> dict:
    """A shift with cash, card and mobile-money sales, a price override, a voided sale, a cash
    refund, an anomaly alert and a no-sale drawer open."""
    shift = open_shift(ana, "500.00")
    cash = sell(ana, [(RICE, 2)], [{"method": "cash", "amount": 15000, "tendered": 20000}])
    start_sale(ana)
    view = add(ana, BEANS)
    line = view["lines"][0]["line_id"]
    assert ana.post(f"/api/checkout/lines/{line}/price", json={"unit_price": 6000, **MARIA}).status_code == 200
    ana.post("/api/checkout/pay")
    card = {"payments": [{"method": "card", "amount": 6000}]}
    assert ana.post("/api/checkout/complete", json=card).status_code == 200
    web_context.checkout.scorer = lambda payload: ({"score": 0.91, "reasons": ["unusually large basket"],
                                                    "model": "test"}, True)
    flagged = sell(ana, [(RICE, 1)], [{"method": "mobile_money", "amount": 7500}])
    web_context.checkout.scorer = lambda payload: (None, False)
    start_sale(ana)
    add(ana, RICE)
    assert ana.post("/api/checkout/void", json={"reason": "customer left", **MARIA}).status_code == 200
    refund = ana.post("/api/refunds", json={"receipt_no": cash["receipt_no"], "items": {RICE: 1}, **MARIA})
    assert refund.status_code == 200, refund.get_json()
    assert ana.post("/api/drawer/open", json={"reason": "change for a customer"}).status_code == 200
    return {"shift": shift, "flagged": flagged["receipt_no"]}


def test_open_x_report_close_with_over_short(login_as, web_context):
    ana = login_as("cashier")
    busy = _busy_shift(ana, web_context)
    shift_id = busy["shift"]["id"]
    x = ana.get("/api/shift").get_json()["shift"]
    assert x["id"] == shift_id and x["open"] is True
    report = x["report"]
    assert report["counted_cash"] is None and report["expected_cash"] == 50000 + 15000 - 7500
    assert report["sales"] == {"count": 3, "amount": 15000 + 6000 + 7500}
    # a refund is not a sale: the cash row counts one sale and one refund, its amount net of the refund
    assert report["by_method"] == {
        "card": {"count": 1, "amount": 6000, "refund_count": 0, "refund_amount": 0},
        "cash": {"count": 1, "amount": 7500, "refund_count": 1, "refund_amount": -7500},
        "mobile_money": {"count": 1, "amount": 7500, "refund_count": 0, "refund_amount": 0}}
    assert report["refunds"] == {"count": 1, "amount": -7500} and report["net_sales"] == 28500 - 7500
    assert report["voids"]["sales"] == 1 and report["voids"]["lines"] == 0
    # the price override alone: the refund's approval is counted as a refund approval, not an override
    assert (report["overrides"], report["discounts"], report["refund_approvals"]) == (1, 0, 1)
    assert report["manual_entries"] == 4 and report["drawer_opens_no_sale"] == 1
    # rice: 2 + 1 sold, 1 refunded (the voided sale's rice was never sold)
    assert report["top_items"][0]["sku"] == RICE and report["top_items"][0]["qty"] == 2
    assert [a["receipt_no"] for a in report["alerts"]] == [busy["flagged"]]
    page = ana.get("/shift").get_data(as_text=True)
    assert "X report (running)" in page and 'id="r-expected">RD$575.00' in page
    assert 'id="r-overrides">1<' in page and 'id="r-refund-approvals">1<' in page and 'id="r-discounts">0<' in page

    # close: the drawer holds 570.00, five short
    resp = ana.post("/api/shift/close", json={"counted_cash": "570.00"})
    assert resp.status_code == 200, resp.get_json()
    closed = resp.get_json()["shift"]
    assert closed["open"] is False and closed["counted_cash"] == 57000 and closed["expected_cash"] == 57500
    assert closed["report"]["over_short"] == -500
    html = ana.get(f"/shift/{shift_id}/report").get_data(as_text=True)
    assert "Shift close report" in html and 'id="r-over-short">-RD$5.00' in html and ">Short<" in html
    assert 'id="r-no-sale">1<' in html and "unusually large basket" in html and 'id="r-counted">RD$570.00' in html
    # the stored report stays as it was, whatever happens later
    stored = web_context.store.shifts.get(shift_id)
    assert stored.report["over_short"] == -500 and stored.report["sales"]["count"] == 3
    assert ana.get("/api/shift").get_json()["shift"] is None
    assert ana.post("/api/checkout/start").status_code == 409  # no sales without a shift
    open_shift(ana, "100")
    sell(ana, [(RICE, 1)])
    again = ana.get(f"/api/shifts/{shift_id}").get_json()["shift"]
    assert again["report"] == closed["report"]


def test_over_is_shown_too(login_as):
    ana = login_as("cashier")
    shift = open_shift(ana, "100.00")
    sell(ana, [(RICE, 1)], [{"method": "cash", "amount": 7500, "tendered": 10000}])
    closed = ana.post("/api/shift/close", json={"counted_cash": 17600}).get_json()["shift"]
    assert closed["report"]["over_short"] == 100
    html = ana.get(f"/shift/{shift['id']}/report").get_data(as_text=True)
    assert ">Over<" in html and 'id="r-over-short">RD$1.00' in html


def test_shift_values_are_checked(login_as):
    ana = login_as("cashier")
    for bad in (-1, "-5.00", "abc", 12.5, True, 10**12, "<script>", None, "1.234"):
        resp = ana.post("/api/shift/open", json={"opening_float": bad})
        assert resp.status_code == 400, (bad, resp.get_json())
    assert ana.post("/api/shift/close", json={"counted_cash": 100}).status_code == 409  # nothing open
    open_shift(ana, "0")
    assert ana.post("/api/shift/open", json={"opening_float": 100}).status_code == 400  # already open
    assert ana.post("/api/shift/close", json={"counted_cash": -1}).status_code == 400
    start_sale(ana)
    add(ana, RICE)
    resp = ana.post("/api/shift/close", json={"counted_cash": 0})
    assert resp.status_code == 409 and "sale in progress" in resp.get_json()["error"]
    resp = ana.client.post("/api/shift/close", json={"counted_cash": 0})  # no CSRF token
    assert resp.status_code == 400


def test_cashiers_see_only_their_own_shifts_owner_sees_all(login_as):
    ana = login_as("cashier")
    ana_shift = open_shift(ana)["id"]
    assert ana.post("/api/shift/close", json={"counted_cash": "500.00"}).status_code == 200
    luis = login_as("luis")
    luis_shift = open_shift(luis)["id"]
    assert luis.get(f"/api/shifts/{ana_shift}").status_code == 403
    assert luis.get(f"/shift/{ana_shift}/report").status_code == 403
    assert luis.get(f"/api/shifts/{luis_shift}").status_code == 200
    assert [s["id"] for s in luis.get("/api/shifts").get_json()["shifts"]] == [luis_shift]
    assert login_as("supervisor").get(f"/api/shifts/{ana_shift}").status_code == 403
    owner = login_as("owner")
    assert owner.get(f"/api/shifts/{ana_shift}").get_json()["shift"]["cashier"]["name"] == "Ana"
    assert {s["id"] for s in owner.get("/api/shifts").get_json()["shifts"]} == {ana_shift, luis_shift}
    assert owner.get("/api/shifts/9999").status_code == 404


@pytest.mark.parametrize("path", ["/shift", "/till", "/refunds"])
def test_pages_render_for_a_cashier_without_inline_script_or_style(login_as, path):
    ana = login_as("cashier")
    html = ana.get(path).get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html and " onclick=" not in html
    assert "Open your shift" in html or path == "/refunds"


def test_one_drawer_one_open_shift_until_it_is_counted(login_as, web_context):
    """Two cashiers on one till and one drawer: the second shift opens only after the first is closed
    (by its cashier, or by a supervisor when the cashier has gone), so each expected cash is right."""
    ana = login_as("cashier")
    ana_shift = open_shift(ana, "500.00")
    sell(ana, [(RICE, 1)])  # 75.00 cash into the drawer
    luis = login_as("luis")
    resp = luis.post("/api/shift/open", json={"opening_float": "575.00"})
    assert resp.status_code == 400, resp.get_json()
    error = resp.get_json()["error"]
    assert f"Ana's shift #{ana_shift['id']} is open on this till's cash drawer" in error
    assert len(web_context.store.shifts.open_on_till()) == 1
    page = luis.get("/shift").get_data(as_text=True)
    assert "The drawer is in use" in page and f"Ana's shift #{ana_shift['id']} has been open" in page
    assert 'id="shift-open-form"' not in page and 'id="shift-close-other-form"' not in page
    # Luis cannot close Ana's shift; the supervisor counts the drawer and closes it
    assert luis.post("/api/shift/close", json={"counted_cash": 57500, "shift_id": ana_shift["id"]}).status_code == 403
    maria = login_as("supervisor")
    assert f'data-close-shift="{ana_shift["id"]}"' in maria.get("/shift").get_data(as_text=True)
    closed = maria.post("/api/shift/close", json={"counted_cash": 57500, "shift_id": ana_shift["id"]})
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["shift"]["report"]["over_short"] == 0
    assert ana.post("/api/checkout/start").status_code == 409  # Ana's shift is over
    luis_shift = open_shift(luis, "575.00")
    sell(luis, [(RICE, 2)])
    report = luis.get("/api/shift").get_json()["shift"]["report"]
    assert report["expected_cash"] == 57500 + 15000 and luis_shift["id"] != ana_shift["id"]


def test_per_cashier_drawers_keep_one_open_shift_each(tmp_path):
    store = Store(tmp_path / "store.db", drawers="per_cashier")
    seed_store(store)
    try:
        ana = store.shifts.open("ana", 10000)
        luis = store.shifts.open("luis", 20000)
        assert {s.id for s in store.shifts.open_on_till()} == {ana.id, luis.id}
        with pytest.raises(ValidationError, match="already has an open shift"):
            store.shifts.open("ana", 100)
    finally:
        store.close()
    shared = Store(tmp_path / "shared.db")
    seed_store(shared)
    try:
        shared.shifts.open("ana", 10000)
        with pytest.raises(ValidationError, match="ana's shift #1 is open"):
            shared.shifts.open("luis", 20000)
    finally:
        shared.close()


def test_the_drawer_setting_is_validated():
    assert load_config(None).till.drawers == "shared"
    assert load_config(None, overrides={"till": {"drawers": "per_cashier"}}).till.drawers == "per_cashier"
    with pytest.raises(ConfigError, match=r"till\.drawers"):
        load_config(None, overrides={"till": {"drawers": "one_each"}})
