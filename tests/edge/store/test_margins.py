"""Gross profit through real sales (checkout session -> store): the day's profit and margin, by hour, top
products by profit, a sale's detail, the shift report; a product with no cost is "no cost", never 100 %."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from contracts.margins import line_revenue
from edge.checkout.session import PaymentPart
from edge.store import Store
from edge.store.records import SaleRecord
from edge.store.reports import Reports
from tests.edge.checkout.helpers import basket, cashier, session_for

DAY = date(2026, 3, 10)  # a Tuesday; Santo Domingo is UTC-4 all year


def sell(store: Store, at: datetime, *skus: str, discount: int = 0, shift_id: int | None = None) -> SaleRecord:
    """A cash sale of ``skus`` (one each) rung up at the till at ``at`` (UTC)."""
    session = session_for(store, clock=lambda: at)
    session.start(cashier(store), shift_id)
    session.apply_basket(basket(*skus))
    if discount:
        session.review()
        session.set_discount(discount, store.users.get("maria"), "regular customer")
    total = session.to_payment().total
    return store.sales.record(session.pay([PaymentPart("cash", total, total)]))


@pytest.fixture
def costed(store: Store) -> Store:
    store.costs.set_cost("RICE-LG-5LB", 12000, "owner")  # sells at 175.00 with 18 % tax inside
    store.costs.set_cost("OIL-SOL-1L", 19000, "owner")  # sells at 210.00: 177.97 before tax, below cost
    store.costs.set_cost("SALAMI-500", None, "owner")  # no cost known
    return store


def net(sale: SaleRecord, sku: str) -> int:
    """The line's revenue net of discount and tax, by the rule of contracts.margins."""
    [line] = [ln for ln in sale.lines if ln.sku == sku]
    return line_revenue(line.line_total, sale.subtotal, sale.total, sale.tax)


def test_the_days_profit_leaves_out_the_product_with_no_cost(costed: Store) -> None:
    store = costed
    morning = sell(store, datetime(2026, 3, 10, 14, 5, tzinfo=UTC), "RICE-LG-5LB", "SALAMI-500")  # 10:05 store time
    evening = sell(store, datetime(2026, 3, 10, 21, 30, tzinfo=UTC), "RICE-LG-5LB", "OIL-SOL-1L")  # 17:30
    assert [ln.unit_cost for ln in morning.lines + evening.lines] == [12000, None, 12000, 19000]
    reports = Reports(store.db)
    p = reports.summary(DAY).profit
    assert p is not None
    rice1, salami, rice2, oil = (net(morning, "RICE-LG-5LB"), net(morning, "SALAMI-500"),
                                 net(evening, "RICE-LG-5LB"), net(evening, "OIL-SOL-1L"))
    assert abs(rice1 - round(17500 / 1.18)) <= 1 and abs(oil - round(21000 / 1.18)) <= 1
    assert p.costed_revenue == rice1 + rice2 + oil and p.cost == 2 * 12000 + 19000
    assert p.gross_profit == (rice1 - 12000) + (rice2 - 12000) + (oil - 19000)
    assert p.margin_pct == round(100 * p.gross_profit / p.costed_revenue, 1) < 100
    assert (p.uncosted_revenue, p.uncosted_products) == (salami, 1)
    assert p.revenue == p.costed_revenue + p.uncosted_revenue

    hours = {h["hour"]: h for h in reports.profit_by_hour(DAY)}
    assert hours[10]["gross_profit"] == rice1 - 12000 and hours[10]["uncosted_revenue"] == salami
    assert hours[17]["gross_profit"] == (rice2 - 12000) + (oil - 19000)
    assert reports.hourly(DAY).hours[17].gross_profit == hours[17]["gross_profit"]

    by_profit = reports.top_products(DAY, by="profit")
    assert [t.sku for t in by_profit] == ["RICE-LG-5LB", "OIL-SOL-1L", "SALAMI-500"]
    assert by_profit[1].gross_profit == oil - 19000 < 0  # sold below cost
    assert by_profit[2].gross_profit is None and by_profit[2].margin_pct is None  # "no cost", not 100 %
    by_revenue = reports.top_products(DAY)
    assert by_revenue[0].sku == "RICE-LG-5LB" and by_revenue[0].revenue == 2 * 17500


def test_a_discount_and_a_refund_come_off_the_profit(costed: Store) -> None:
    store = costed
    sale = sell(store, datetime(2026, 3, 10, 15, 0, tzinfo=UTC), "RICE-LG-5LB", discount=1750)
    reports = Reports(store.db)
    after_sale = reports.summary(DAY).profit
    assert after_sale is not None
    assert after_sale.costed_revenue == sale.total - sale.tax  # the discount and the tax are not revenue
    detail = reports.sale_detail(sale.tx_id)
    assert detail["lines"][0]["gross_profit"] == sale.total - sale.tax - 12000
    assert detail["profit"]["gross_profit"] == sale.total - sale.tax - 12000

    from edge.checkout.refund import build_refund
    refund = build_refund(sale, {"RICE-LG-5LB": 1}, {}, store.users.get("ana"), store.users.get("maria"), 1800,
                          reason="wrong item")
    refund.completed_at = refund.started_at = "2026-03-10T16:00:00Z"
    store.sales.record(refund)
    after_refund = reports.summary(DAY).profit
    assert after_refund is not None
    assert after_refund.cost == 0 and after_refund.gross_profit == after_sale.gross_profit - (sale.total - sale.tax
                                                                                              - 12000)


def test_the_shift_report_has_the_gross_profit(costed: Store) -> None:
    store = costed
    shift = store.shifts.open("ana", 100000, at="2026-03-10T13:00:00Z")
    sale = sell(store, datetime(2026, 3, 10, 14, 0, tzinfo=UTC), "RICE-LG-5LB", "SALAMI-500", shift_id=shift.id)
    report = store.shifts.report(store.shifts.get(shift.id), until="2026-03-10T20:00:00Z")
    assert report["profit"]["gross_profit"] == net(sale, "RICE-LG-5LB") - 12000
    assert report["profit"]["uncosted_revenue"] == net(sale, "SALAMI-500")
    closed = store.shifts.close(shift.id, 100000 + 17500 + 16500)
    assert closed.report is not None and closed.report["profit"]["cost"] == 12000  # kept with the closed shift
