"""Margins in the owner's pages (Flask client): the dashboard's gross profit, top products by profit and
profit by hour, a sale's cost and profit, the CSV / Excel downloads, and the shift report (profit for
supervisors and owners, not for the cashier)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from edge.checkout.session import PaymentPart
from edge.store import Store
from edge.store.records import SaleRecord
from edge.web import dashboard
from tests.edge.checkout.helpers import basket, cashier, session_for

NOW = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)  # 19:00 in Santo Domingo
DAY = "2026-03-10"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashboard, "now_utc", lambda: NOW)


def sell(store: Store, at: datetime, *skus: str, shift_id: int | None = None) -> SaleRecord:
    session = session_for(store, clock=lambda: at)
    session.start(cashier(store), shift_id)
    session.apply_basket(basket(*skus))
    total = session.to_payment().total
    return store.sales.record(session.pay([PaymentPart("cash", total, total)]))


@pytest.fixture
def sales(store: Store) -> dict[str, SaleRecord]:
    store.costs.set_cost("RICE-LG-5LB", 12000, "owner")
    store.costs.set_cost("OIL-SOL-1L", 19000, "owner")
    store.costs.set_cost("SALAMI-500", None, "owner")
    return {"morning": sell(store, datetime(2026, 3, 10, 14, 5, tzinfo=UTC), "RICE-LG-5LB", "SALAMI-500"),
            "evening": sell(store, datetime(2026, 3, 10, 21, 30, tzinfo=UTC), "RICE-LG-5LB", "OIL-SOL-1L")}


def test_the_dashboard_shows_profit_margin_and_the_products_with_no_cost(login_as, sales, store: Store) -> None:
    owner = login_as("owner")
    html = owner.get(f"/dashboard?date={DAY}").get_data(as_text=True)
    summary = owner.get(f"/api/dashboard/summary?date={DAY}").get_json()
    profit = summary["profit"]
    assert profit["uncosted_products"] == 1 and 0 < profit["margin_pct"] < 100
    assert 'id="kpi-gross_profit"' in html and 'id="top-products-profit"' in html and 'id="profit-hours"' in html
    assert "1 product has no cost: left out of the margin" in html
    top = owner.get(f"/api/dashboard/top-products?date={DAY}&by=profit").get_json()["products"]
    assert [p["sku"] for p in top] == ["RICE-LG-5LB", "OIL-SOL-1L", "SALAMI-500"]
    assert top[-1]["gross_profit"] is None and top[1]["gross_profit"] < 0
    assert owner.get(f"/api/dashboard/top-products?date={DAY}&by=luck").status_code == 400
    hours = owner.get(f"/api/dashboard/hourly?date={DAY}").get_json()["hours"]
    assert hours[17]["gross_profit"] < hours[10]["gross_profit"] + 20000  # oil sold below cost at 17:30

    page = owner.get(f"/sales/{sales['morning'].tx_id}").get_data(as_text=True)
    assert 'id="sale-profit"' in page and "no cost" in page
    assert "Lines with no cost are left out of the profit and the margin." in page


def test_the_exports_have_each_line_and_each_products_profit(login_as, sales, store: Store) -> None:
    owner = login_as("owner")
    resp = owner.get(f"/dashboard/export/sales?start={DAY}&end={DAY}&format=csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    header, lines = rows[0], rows[1:]
    assert len(lines) == 4 and "gross profit (DOP)" in header
    by_sku = {r[header.index("sku")]: r for r in lines}
    assert by_sku["SALAMI-500"][header.index("unit cost (DOP)")] == ""  # no cost: empty, not zero
    assert by_sku["OIL-SOL-1L"][header.index("unit cost (DOP)")] == "190.00"
    assert float(by_sku["OIL-SOL-1L"][header.index("gross profit (DOP)")]) < 0

    resp = owner.get(f"/dashboard/export/products?start={DAY}&format=xlsx")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.get_data())).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    head, products = values[0], {r[0]: r for r in values[1:]}
    assert set(products) == {"RICE-LG-5LB", "OIL-SOL-1L", "SALAMI-500"}
    assert products["SALAMI-500"][head.index("margin %")] is None
    assert products["RICE-LG-5LB"][head.index("margin %")] == pytest.approx(
        round(100 * (products["RICE-LG-5LB"][4] - 240) / products["RICE-LG-5LB"][4], 1), abs=0.05)

    assert owner.get(f"/dashboard/export/sales?start={DAY}&end=2026-03-01").status_code == 400
    assert owner.get(f"/dashboard/export/sales?start={DAY}&format=pdf").status_code == 400
    assert login_as("supervisor").get(f"/dashboard/export/sales?start={DAY}").status_code == 403


def test_the_shift_report_shows_profit_to_the_owner_not_the_cashier(login_as, store: Store) -> None:
    store.costs.set_cost("RICE-LG-5LB", 12000, "owner")
    shift = store.shifts.open("ana", 100000)
    sell(store, datetime.now(UTC), "RICE-LG-5LB", shift_id=shift.id)
    ana = login_as("cashier")
    assert "profit" not in ana.get(f"/api/shifts/{shift.id}").get_json()["shift"]["report"]
    assert 'id="r-profit"' not in ana.get(f"/shift/{shift.id}/report").get_data(as_text=True)
    owner = login_as("owner")
    answer = owner.get(f"/api/shifts/{shift.id}")
    assert answer.status_code == 200, answer.get_json()
    report = answer.get_json()["shift"]["report"]
    assert report["profit"]["cost"] == 12000
    assert 'id="r-gross-profit"' in owner.get(f"/shift/{shift.id}/report").get_data(as_text=True)
