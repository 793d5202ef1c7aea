"""Tenant isolation: a store owner sees only their stores, on pages, in the JSON API and in every
CSV / Excel export; another tenant's store is a 404, exactly like a store that does not exist."""

from __future__ import annotations

import html
import io

import pytest
from flask import Flask
from sqlalchemy import column, select

from analytics.web.tenancy import StoreScope
from tests.analytics.web.seed import B_MARKERS, DEPLOY_MODEL, A, B
from tests.analytics.web.test_security import get_urls


def _xlsx_text(data: bytes) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row)


def _all_text(resp) -> str:
    if resp.mimetype.endswith("spreadsheetml.sheet"):
        return _xlsx_text(resp.data)
    return resp.get_data(as_text=True)


# GET routes that answer about one thing named in the query string (their own tests cover them)
NEEDS_QUERY = {"credit.api_ledger", "credit.api_open_items"}
ONE_CUSTOMER = {"credit.customer_page"}  # the seed has no credit customers: a 404 that names the id, nothing else


def test_the_owner_of_a_sees_nothing_of_b_anywhere(app: Flask, login_as) -> None:
    """Every GET route the owner may open, in every format, with store A's ids filled in."""
    ann = login_as("ann")
    checked = 0
    for endpoint, url in get_urls(app):
        if endpoint in ("static", "i18n.static"):  # files, the same for everyone
            continue
        for fmt in ("", "format=csv", "format=xlsx") if url.startswith("/api/") else ("",):
            full = url + (("&" if "?" in url else "?") + fmt if fmt else "")
            resp = ann.get(full)
            if resp.status_code == 403:  # the fleet is for operators
                assert endpoint.startswith(("fleet.", "dead_letters.")), full  # operators only
                continue
            if endpoint in NEEDS_QUERY:  # one customer's rows: without ?customer= a clear 400, nothing else
                assert resp.status_code == 400 and "customer is required" in resp.get_data(as_text=True), full
                continue
            if endpoint in ONE_CUSTOMER:
                assert resp.status_code == 404 and "no credit customer cust-1" in resp.get_data(as_text=True), full
                continue
            assert resp.status_code == 200, (full, resp.status_code)
            text = _all_text(resp)
            for marker in B_MARKERS:
                assert marker not in text, (full, marker)
            checked += 1
    assert checked >= 12


def test_another_tenants_store_is_a_404_on_pages_apis_and_exports(login_as) -> None:
    ann = login_as("ann")
    for url in (f"/stores/{B}", f"/api/stores/{B}", f"/api/stores/{B}/sales", f"/api/stores/{B}/sales?format=csv",
                f"/api/stores/{B}/sales?format=xlsx", f"/api/stores/{B}/alerts?format=csv",
                f"/api/stores/{B}/devices", f"/api/stores/{B}/daily?format=xlsx"):
        resp = ann.get(url)
        assert resp.status_code == 404, url
        assert "no store 's-002'" in html.unescape(resp.get_data(as_text=True))
    # the same answer as a store that does not exist at all
    assert ann.get("/api/stores/s-999").get_json() == {"error": "no store 's-999'"}
    assert ann.get(f"/api/stores/{B}").get_json() == {"error": "no store 's-002'"}
    # and bob, the other way round
    bob = login_as("bob")
    assert bob.get(f"/stores/{A}").status_code == 404
    assert bob.get(f"/stores/{B}").status_code == 200


def test_store_lists_and_exports_are_scoped(login_as) -> None:
    ids = lambda who: [r["store_id"] for r in login_as(who).get("/api/stores").get_json()["rows"]]  # noqa: E731
    assert ids("op") == [B, A]  # by name: Bodega Bob, Colmado Ana
    assert ids("ann") == [A]
    assert ids("val") == [A]
    assert ids("bob") == [B]
    assert ids("nobody") == []
    csv_text = login_as("ann").get("/api/stores?format=csv").get_data(as_text=True)
    lines = csv_text.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith(A)
    op_csv = login_as("op").get("/api/stores?format=csv").get_data(as_text=True)
    assert "Bodega Bob" in op_csv and "Colmado Ana" in op_csv
    page = login_as("nobody").get("/").get_data(as_text=True)
    assert "No stores are assigned to your login yet" in page


def test_dead_letters_are_counted_for_operators_only(login_as) -> None:
    assert login_as("op").get(f"/api/stores/{A}").get_json()["dead_letters"] == 2
    assert "dead_letters" not in login_as("ann").get(f"/api/stores/{A}").get_json()
    assert "Dead letters" not in login_as("ann").get(f"/stores/{A}").get_data(as_text=True)
    assert "Dead letters" in login_as("op").get(f"/stores/{A}").get_data(as_text=True)


def test_a_viewer_reads_their_store(login_as) -> None:
    val = login_as("val")
    body = val.get(f"/api/stores/{A}").get_json()
    assert body["store"]["name"] == "Colmado Ana"
    assert val.get(f"/fleet/deployments/{DEPLOY_MODEL}").status_code == 403


def test_the_scope_value() -> None:
    store = column("store_id")
    everything, only_a, nothing = StoreScope.everything(), StoreScope.only([A]), StoreScope.only([])
    assert everything.allows(B) and only_a.allows(A) and not only_a.allows(B) and not nothing.allows(A)
    assert "store_id IN" in str(select(store).where(only_a.where(store)))
    assert str(nothing.where(store).compile(compile_kwargs={"literal_binds": True})) in ("false", "0 = 1")
    assert only_a.narrow(B) == StoreScope.only([]) and everything.narrow(B) == StoreScope.only([B])
    with pytest.raises(AttributeError):
        only_a.all_stores = True  # type: ignore[misc] - frozen
