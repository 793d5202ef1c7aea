"""The Products page's costs and margins (issue 27): gross profit and margin per product over a
period, which make the most money, which lose money, products without a cost shown as such (never
100 % margin) and costs made up from a default margin marked "assumed"; the JSON API sorts and
filters the same way; another store's owner sees none of it.  Sales are written by the importer's
real writers (a cost column and a default margin) beside the seeded hub's till sales, which have no
cost."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from analytics.importer.invoices import COST_COLUMN, DEFAULT_MARGIN, build_invoices
from analytics.importer.reader import SaleLine
from analytics.importer.writer import write_sales
from tests.analytics.web.seed import A

TZ = "America/Santo_Domingo"


def _line(row: int, invoice: str, sku: str, name: str, qty: int, price: int, cost: int | None, day: int) -> SaleLine:
    # the importer's lines carry the file's naive store-local time
    at = datetime(2026, 11, day, 10, 0)  # noqa: DTZ001
    return SaleLine(row=row, invoice=invoice, cancelled=False, sku=sku, name=name, qty=qty, unit_price=price,
                    local_time=at, customer=None, country=None, unit_cost=cost)


@pytest.fixture
def costed(hub_engine: Engine) -> Engine:
    """Store A also sold coffee at a profit, sugar below cost, both with real costs; bread with costs
    assumed from a 30 % margin."""
    real = [_line(1, "K1", "COFFEE", "Coffee 1 lb", 3, 20000, 12000, 19),
            _line(2, "K1", "SUGAR", "Sugar 2 lb", 2, 5000, 6000, 19),
            _line(3, "K2", "COFFEE", "Coffee 1 lb", 1, 20000, 12000, 20)]
    assumed = [_line(4, "K3", "BREAD", "Bread", 5, 4000, None, 20)]
    docs = [inv.doc for inv in build_invoices(real, store_id=A, device_id="import", currency="DOP", timezone_name=TZ,
                                              layout="test", cancel_prefix=None, cost=COST_COLUMN)]
    docs += [inv.doc for inv in build_invoices(assumed, store_id=A, device_id="import", currency="DOP",
                                               timezone_name=TZ, layout="test", cancel_prefix=None,
                                               cost=DEFAULT_MARGIN, default_margin_pct=Decimal(30))]
    assert write_sales(hub_engine, docs, "2026-11-21T12:00:00Z") == (3, 0)
    return hub_engine


def _block(html: str, name: str) -> str:
    m = re.search(rf'id="block-{name}".*?</table>', html, re.S)
    assert m, f"no table {name}"
    return m.group(0)


def _skus(block: str) -> list[str]:
    return re.findall(r"<code>([A-Z0-9-]+)</code>", block)


def test_products_page_shows_profit_margin_losers_and_assumed_costs(costed: Engine, login_as) -> None:
    ann = login_as("ann")
    html = ann.get(f"/stores/{A}/products").get_data(as_text=True)
    # coffee 4 x (200 - 120) = 320.00; sugar 2 x (50 - 60) = -20.00; bread 5 x 40 x 30 % = 60.00
    kpi = re.search(r'id="kpi-gross-profit".*?class="value">([^<]+)<', html, re.S)
    assert kpi and "360.00" in kpi.group(1)
    assert re.search(r'id="kpi-losing".*?class="value">1<', html, re.S)
    assert 'id="assumed-note"' in html
    assert _skus(_block(html, "products-best")) == ["COFFEE", "BREAD"]
    losing = _block(html, "products-losing")
    assert _skus(losing) == ["SUGAR"] and "-20%" in losing  # -20.00 on 100.00 of sales
    every = _block(html, "products-margins")
    assert _skus(every) == ["COFFEE", "BREAD", "SUGAR", "RICE-5LB"]  # no cost last
    rows = {m.group(1): m.group(0) for m in re.finditer(r"<code>([A-Z0-9-]+)</code>.*?</tr>", every, re.S)}
    assert ">assumed<" in rows["BREAD"] and ">imported<" in rows["COFFEE"]
    assert ">no cost<" in rows["RICE-5LB"] and "100%" not in rows["RICE-5LB"]

    by_margin = ann.get(f"/stores/{A}/products?by=margin&days=7").get_data(as_text=True)
    assert _skus(_block(by_margin, "products-margins"))[:3] == ["COFFEE", "BREAD", "SUGAR"]  # 40 %, 30 %, -20 %


def test_margins_api_sorts_filters_and_keeps_stores_apart(costed: Engine, login_as) -> None:
    ann, bob = login_as("ann"), login_as("bob")
    body = ann.get(f"/api/stores/{A}/margins?by=loss").get_json()
    assert [r["sku"] for r in body["rows"]] == ["SUGAR"]
    assert body["rows"][0]["gross_profit"] == -2000 and body["rows"][0]["loses_money"] is True
    every = ann.get(f"/api/stores/{A}/margins?days=7").get_json()
    assert every["gross_profit"] == 36000 and every["assumed_costs"] is True
    assert every["last_day"] == "2026-11-21" and every["first_day"] == "2026-11-15"
    bread = next(r for r in every["rows"] if r["sku"] == "BREAD")
    assert (bread["cost_basis"], bread["unit_cost"], bread["margin"]) == ("assumed", 2800, pytest.approx(0.3))
    csv = ann.get(f"/api/stores/{A}/margins?format=csv").get_data(as_text=True)
    assert csv.lstrip("\ufeff").splitlines()[0].startswith("sku,name,units,revenue,cost,gross_profit,margin")
    assert ann.get(f"/api/stores/{A}/margins?by=cheapest").status_code == 400
    assert bob.get(f"/api/stores/{A}/margins").status_code == 404
    assert bob.get(f"/stores/{A}/products").status_code == 404


def test_refunds_outweighing_sales_are_not_selling_at_a_loss() -> None:
    from analytics.web.queries.costs import ProductMargin, sort_margins

    def margin(sku: str, costed_revenue: int, cost: int, net_price: int, unit_cost: int) -> ProductMargin:
        return ProductMargin(sku=sku, name=sku, units=1, revenue=costed_revenue, costed_revenue=costed_revenue,
                             cost=cost, gross_profit=costed_revenue - cost, margin=None, cost_coverage=1.0,
                             price=net_price, net_price=net_price, unit_cost=unit_cost, unit_margin=None,
                             assumed=False, cost_source="import", costed_units=1)

    refunded = margin("FEE", -10000, -6500, 3000, 1950)  # more refunded than sold: negative, but not a loss
    at_a_loss = margin("SUGAR", 5000, 6000, 2500, 3000)
    below_cost_now = margin("SALT", 5000, 4000, 900, 1000)  # made money, but today's price is below cost
    assert [m.sku for m in sort_margins([refunded, at_a_loss, below_cost_now], "loss")] == ["SUGAR", "SALT"]
