"""Unknown items through the till's JSON API: the line asks for a barcode or a search, Pay is refused
with a clear message until it is rung up, a barcode or a search resolves it, and "Teach this product"
is offered to supervisors and owners only."""

from __future__ import annotations

from tests.edge.checkout.helpers import tray, unknown_item
from tests.edge.web.test_cashier_api import RICE, RICE_BARCODE, open_shift, start_sale


def _unknown_on_tray(web_context, track_id: int = 11) -> None:
    web_context.checkout.on_basket(tray(unknown_item(track_id)))


def test_pay_is_refused_until_the_unknown_item_is_rung_up_by_barcode(login_as, web_context):
    ana = login_as("cashier")
    open_shift(ana)
    start_sale(ana)
    _unknown_on_tray(web_context)
    view = ana.get("/api/checkout").get_json()
    [line] = view["lines"]
    assert (line["unknown"], line["sku"], line["name"], line["line_total"]) == (True, None, "Unknown item", 0)
    assert view["unknown_lines"] == 1 and view["teach_url"] is None  # a cashier does not teach

    refused = ana.post("/api/checkout/pay")
    assert refused.status_code == 409
    assert "unknown item" in refused.get_json()["error"] and "barcode" in refused.get_json()["error"]

    resolved = ana.post(f"/api/checkout/lines/{line['line_id']}/resolve", json={"code": RICE_BARCODE, "how": "barcode"})
    assert resolved.status_code == 200, resolved.get_json()
    [line] = resolved.get_json()["lines"]
    assert (line["unknown"], line["sku"], line["source"], line["was_unknown"]) == (False, RICE, "barcode", True)
    assert line["line_total"] == 7500
    due = ana.post("/api/checkout/pay").get_json()["due"]
    done = ana.post("/api/checkout/complete", json={"payments": [{"method": "cash", "amount": due, "tendered": due}]})
    assert done.status_code == 200 and done.get_json()["receipt"]["total"] == 7500


def test_a_search_resolves_it_and_bad_requests_are_refused(login_as, web_context):
    ana = login_as("cashier")
    open_shift(ana)
    start_sale(ana)
    _unknown_on_tray(web_context)
    line_id = ana.get("/api/checkout").get_json()["lines"][0]["line_id"]
    url = f"/api/checkout/lines/{line_id}/resolve"
    assert ana.post(url, json={"code": RICE, "how": "guess"}).status_code == 400
    assert ana.post(url, json={"code": "NO-SUCH-THING", "how": "search"}).status_code == 409
    assert ana.post("/api/checkout/lines/999/resolve", json={"code": RICE, "how": "search"}).status_code == 409
    ok = ana.post(url, json={"code": RICE, "how": "search"}).get_json()
    assert [(ln["sku"], ln["source"]) for ln in ok["lines"]] == [(RICE, "manual")] and ok["unknown_lines"] == 0


def test_teach_this_product_is_offered_to_a_supervisor_and_an_owner(login_as):
    assert login_as("supervisor").get("/api/checkout").get_json()["teach_url"] == "/teach"
    assert login_as("owner").get("/api/checkout").get_json()["teach_url"] == "/teach"
