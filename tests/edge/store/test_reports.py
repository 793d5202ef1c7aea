"""Dashboard reports on known sales: store-local days and hours, the usual for a weekday, payment
mix, top products, stock that runs low, credit, the live pulse, the sales list and a sale's detail."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from contracts.events import (
    DiscountChange,
    DrawerOpen,
    LineVoid,
    ManualEntry,
    PriceOverride,
    RefundApproval,
    SaleEvent,
    SaleVoid,
    VisionMismatch,
)
from edge.store import Store
from edge.store.records import Payment, SaleLine, SaleRecord
from edge.store.reports import Reports, day_bounds, describe_event
from i18n import use_language

SD = ZoneInfo("America/Santo_Domingo")  # UTC-4 all year


def utc(text: str) -> str:
    """'2026-03-11 02:30' (UTC) -> the store's timestamp text."""
    return datetime.fromisoformat(text).strftime("%Y-%m-%dT%H:%M:%SZ")


def local(text: str, zone: ZoneInfo = SD) -> str:
    """'2026-03-10 22:30' (store-local) -> UTC timestamp text."""
    moment = datetime.fromisoformat(text).replace(tzinfo=zone)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_sale(store: Store, completed_at: str, items: list[tuple[str, int]] | None = None, method: str = "cash",
              status: str = "completed", cashier: str = "ana", refund_of: str | None = None,
              customer_id: str | None = None, events: list[SaleEvent] | None = None,
              anomaly: dict | None = None, alert: bool = False, prices: dict[str, int] | None = None,
              sources: dict[str, tuple[str, float | None]] | None = None) -> SaleRecord:
    """Record a consistent sale (tx/1 arithmetic) of ``items`` [(sku, qty)] at ``completed_at``.
    Refunds take positive quantities here and are stored negative."""
    items = items if items is not None else [("RICE-LG-2LB", 1)]
    sign = -1 if status == "refunded" else 1
    lines = []
    for sku, qty in items:
        product = store.products.get(sku)
        unit = (prices or {}).get(sku, product.price)
        source, conf = (sources or {}).get(sku, ("vision", 0.9))
        lines.append(SaleLine(sku, product.name, sign * qty, unit, sign * qty * unit, source, conf))
    subtotal = sum(ln.line_total for ln in lines)
    total = subtotal
    payments = []
    if status != "voided":
        if method == "cash" and total > 0:
            tendered = (total // 50000 + 1) * 50000
            payments = [Payment("cash", total, tendered, tendered - total)]
        else:
            payments = [Payment(method, total, total, 0, customer_id if method == "credit" else None)]
    started = (datetime.fromisoformat(completed_at.replace("Z", "+00:00")) - timedelta(seconds=90))
    rec = SaleRecord(tx_id=str(uuid.uuid4()), status=status, store_id="s-001", device_id="till-1",
                     cashier_id=cashier, currency="DOP", started_at=started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     completed_at=completed_at, lines=lines, payments=payments, events=events or [],
                     subtotal=subtotal, discount=0, tax=round(total * 18 / 118), total=total,
                     customer_id=customer_id if method == "credit" else None, refund_of=refund_of,
                     anomaly=anomaly)
    return store.sales.record(rec, raise_alert_for=alert)


@pytest.fixture
def reports(store: Store) -> Reports:
    return Reports(store.db)


def price(store: Store, sku: str) -> int:
    return store.products.get(sku).price


# -- days and hours in store time ------------------------------------------------------------

def test_day_bounds_are_store_local_midnights():
    assert day_bounds(date(2026, 3, 10), SD) == ("2026-03-10T04:00:00Z", "2026-03-11T04:00:00Z")
    ny = ZoneInfo("America/New_York")  # spring forward on 2026-03-08: a 23-hour day
    assert day_bounds(date(2026, 3, 8), ny) == ("2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z")


def test_a_sale_at_0230z_is_2230_of_the_previous_store_day(store, reports):
    sale = make_sale(store, utc("2026-03-11 02:30"), [("RICE-LG-2LB", 2)])
    day_before = reports.summary(date(2026, 3, 10))
    assert day_before.transactions == 1 and day_before.net_sales == sale.total
    assert reports.summary(date(2026, 3, 11)).transactions == 0
    hours = reports.hourly(date(2026, 3, 10)).hours
    assert hours[22].sales == sale.total and hours[22].transactions == 1
    assert sum(h.sales for h in hours) == sale.total
    assert reports.hourly(date(2026, 3, 11)).hours[2].sales == 0
    assert reports.sales(day=date(2026, 3, 10))["sales"][0]["completed_local"] == "2026-03-10 22:30"


def test_today_is_the_store_day_when_utc_has_already_turned_the_year(store, reports):
    # 23:30 on 31 December in Santo Domingo is 03:30 on 1 January in UTC
    late = datetime(2027, 1, 1, 3, 30, tzinfo=UTC)
    sale = make_sale(store, utc("2027-01-01 03:29"))
    assert reports.today(late) == date(2026, 12, 31)
    today = reports.summary(reports.today(late))
    assert today.date == "2026-12-31" and today.transactions == 1 and today.net_sales == sale.total
    pulse = reports.pulse(late)
    assert pulse.date == "2026-12-31"
    assert pulse.transactions_today.actual == 1 and pulse.transactions_this_hour.actual == 1
    assert reports.today(late + timedelta(minutes=30)) == date(2027, 1, 1)  # the store's midnight


def test_hours_follow_daylight_saving_time(store, reports):
    store.settings.update(timezone="America/New_York")
    # 07:30Z on the spring-forward day is 03:30 EDT (02:00-03:00 does not exist that night)
    make_sale(store, utc("2026-03-08 07:30"))
    # 04:30Z on 2026-03-09 is still 00:30 EDT of the 9th, not the 8th
    make_sale(store, utc("2026-03-09 04:30"))
    hours = reports.hourly(date(2026, 3, 8)).hours
    assert hours[3].transactions == 1 and hours[2].transactions == 0
    assert reports.summary(date(2026, 3, 8)).transactions == 1
    assert reports.hourly(date(2026, 3, 9)).hours[0].transactions == 1


def test_summary_nets_refunds_and_leaves_out_voided_sales(store, reports):
    rice, oil = price(store, "RICE-LG-2LB"), price(store, "OIL-SOL-1L")
    a = make_sale(store, local("2026-03-10 09:00"), [("RICE-LG-2LB", 3), ("OIL-SOL-1L", 1)])
    make_sale(store, local("2026-03-10 11:00"), [("OIL-SOL-1L", 2)], method="card")
    make_sale(store, local("2026-03-10 12:00"), [("RICE-LG-2LB", 5)], status="voided")
    refund = make_sale(store, local("2026-03-10 13:00"), [("RICE-LG-2LB", 1)], status="refunded", refund_of=a.tx_id)
    s = reports.summary(date(2026, 3, 10))
    gross = 3 * rice + oil + 2 * oil
    assert s.gross_sales == gross
    assert s.net_sales == gross - rice == gross + refund.total
    assert s.transactions == 2 and s.refunds == 1 and s.voided == 1
    assert s.refund_total == rice
    assert s.avg_basket == round(gross / 2)
    assert s.items_sold == 3 + 1 + 2 - 1
    assert s.currency == "DOP" and s.timezone == "America/Santo_Domingo"


# -- the usual for this weekday --------------------------------------------------------------

def test_usual_is_the_mean_of_the_same_weekday_in_earlier_weeks(store, reports):
    rice = price(store, "RICE-LG-2LB")
    day = date(2026, 3, 11)  # a Wednesday
    make_sale(store, local("2026-02-18 15:10"))  # 3 weeks before: the store's first sale, at 15h
    make_sale(store, local("2026-03-04 10:15"), [("RICE-LG-2LB", 1)])  # 1 week before
    make_sale(store, local("2026-02-25 10:40"), [("RICE-LG-2LB", 3)])  # 2 weeks before
    make_sale(store, local("2026-03-05 10:30"), [("RICE-LG-2LB", 9)])  # a Thursday: not the usual
    make_sale(store, local("2026-03-11 10:05"), [("RICE-LG-2LB", 2)])  # the day itself
    series = reports.hourly(day)
    assert series.weekday == "Wednesday"
    assert series.usual_weeks == 3  # weeks before the first sale do not dilute the mean
    assert series.usual_dates == ["2026-03-04", "2026-02-25", "2026-02-18"]
    h10 = series.hours[10]
    assert h10.sales == 2 * rice and h10.transactions == 1
    assert h10.usual_sales == round((1 + 3 + 0) * rice / 3)
    assert h10.usual_transactions == round(2 / 3, 2)
    assert series.hours[15].usual_transactions == round(1 / 3, 2)
    one_week = reports.hourly(day, weeks=1)
    assert one_week.usual_weeks == 1 and one_week.hours[10].usual_sales == rice


def test_a_new_store_has_no_usual_yet(store, reports):
    make_sale(store, local("2026-03-11 10:05"))
    series = reports.hourly(date(2026, 3, 11))
    assert series.usual_weeks == 0 and series.hours[10].usual_sales is None
    pulse = reports.pulse(now=datetime.fromisoformat(local("2026-03-11 10:30").replace("Z", "+00:00")))
    assert pulse.usual_weeks == 0 and pulse.sales_this_hour.change_pct is None
    assert pulse.sales_this_hour.trend == "none"


# -- products, payments ----------------------------------------------------------------------

def test_top_products_and_payment_mix(store, reports):
    rice, oil, beans = price(store, "RICE-LG-2LB"), price(store, "OIL-SOL-1L"), price(store, "BEAN-RED-1LB")
    a = make_sale(store, local("2026-03-10 09:00"), [("RICE-LG-2LB", 4), ("OIL-SOL-1L", 1)], method="cash")
    make_sale(store, local("2026-03-10 10:00"), [("OIL-SOL-1L", 2), ("BEAN-RED-1LB", 1)], method="card")
    make_sale(store, local("2026-03-10 11:00"), [("BEAN-RED-1LB", 1)], method="mobile_money")
    make_sale(store, local("2026-03-10 12:00"), [("RICE-LG-2LB", 1)], method="credit", customer_id="cust-02")
    make_sale(store, local("2026-03-10 13:00"), [("RICE-LG-2LB", 2)], status="refunded", refund_of=a.tx_id)
    make_sale(store, local("2026-03-09 13:00"), [("BEAN-RED-1LB", 50)])  # another day
    top = {p.sku: p for p in reports.top_products(date(2026, 3, 10))}
    assert top["RICE-LG-2LB"].qty == 4 + 1 - 2 and top["RICE-LG-2LB"].revenue == 3 * rice
    assert top["OIL-SOL-1L"].qty == 3 and top["OIL-SOL-1L"].revenue == 3 * oil
    assert top["BEAN-RED-1LB"].qty == 2 and top["BEAN-RED-1LB"].transactions == 2
    ranked = reports.top_products(date(2026, 3, 10))
    assert [p.revenue for p in ranked] == sorted((p.revenue for p in ranked), reverse=True)
    assert len(reports.top_products(date(2026, 3, 10), limit=1)) == 1

    mix = {m.method: m for m in reports.payment_mix(date(2026, 3, 10))}
    assert mix["cash"].amount == 4 * rice + oil - 2 * rice  # the cash refund comes off cash
    assert mix["card"].amount == 2 * oil + beans and mix["card"].transactions == 1
    assert mix["mobile_money"].amount == beans
    assert mix["credit"].amount == rice
    total = sum(m.amount for m in mix.values())
    assert total == reports.summary(date(2026, 3, 10)).net_sales
    assert abs(sum(m.share for m in mix.values()) - 1.0) < 0.001
    assert mix["credit"].share == round(rice / total, 4)


# -- stock -----------------------------------------------------------------------------------

def test_low_stock_first_then_what_runs_out_soon(store, reports):
    now = datetime(2026, 3, 11, 16, 0, tzinfo=UTC)
    # 10 a day of rice over the last 14 days (the window is the store's life when shorter)
    for d in range(14):
        make_sale(store, (now - timedelta(days=d, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), [("RICE-LG-2LB", 10)])
    with store.db.transaction() as c:  # stock levels as a count would have left them
        c.execute("UPDATE products SET stock_qty = 100, reorder_level = 5")
        c.execute("UPDATE products SET stock_qty = 3, reorder_level = 8 WHERE sku = 'OIL-SOL-1L'")
        c.execute("UPDATE products SET stock_qty = 8, reorder_level = 8 WHERE sku = 'BEAN-RED-1LB'")
        c.execute("UPDATE products SET stock_qty = 15, reorder_level = 5 WHERE sku = 'RICE-LG-2LB'")
    rows = reports.stock(now)
    assert [r.sku for r in rows[:2]] == ["OIL-SOL-1L", "BEAN-RED-1LB"]  # most short of its level first
    assert rows[0].low and rows[1].low
    rice = rows[2]
    assert rice.sku == "RICE-LG-2LB" and not rice.low
    assert rice.daily_rate == pytest.approx(10.0, abs=0.8)
    assert rice.days_left == pytest.approx(1.5, abs=0.15) and rice.runs_out_soon
    assert all(not r.low and not r.runs_out_soon for r in rows[3:])
    assert {r.sku for r in reports.stock(now, low_only=True)} == {"OIL-SOL-1L", "BEAN-RED-1LB", "RICE-LG-2LB"}
    store.products.set_active("OIL-SOL-1L", False)
    assert "OIL-SOL-1L" not in {r.sku for r in reports.stock(now)}


# -- credit ----------------------------------------------------------------------------------

def test_credit_customers_who_owes_what(store, reports):
    rice = price(store, "RICE-LG-2LB")
    make_sale(store, local("2026-03-10 09:00"), [("RICE-LG-2LB", 4)], method="credit", customer_id="cust-02")
    make_sale(store, local("2026-03-10 10:00"), [("RICE-LG-2LB", 1)], method="credit", customer_id="cust-04")
    rows = reports.credit()
    by_id = {r.id: r for r in rows}
    assert rows[0].id == "cust-02" and rows[1].id == "cust-04"  # who owes most first
    c2 = by_id["cust-02"]
    assert c2.balance == 4 * rice and c2.credit_limit == 500_000
    assert c2.available == 500_000 - 4 * rice and c2.used_pct == round(100 * 4 * rice / 500_000)
    assert c2.last_credit_at == local("2026-03-10 09:00")
    assert by_id["cust-01"].balance == 0 and by_id["cust-01"].last_credit_at is None
    assert len(rows) == 8


# -- the live pulse --------------------------------------------------------------------------

def test_pulse_this_hour_and_basket_against_the_usual(store, reports):
    rice = price(store, "RICE-LG-2LB")
    now = datetime.fromisoformat(local("2026-03-11 10:30").replace("Z", "+00:00"))
    # two earlier Wednesdays: one sale in 10:00-10:30 each, and one more at 10:50 on one of them
    make_sale(store, local("2026-03-04 10:10"), [("RICE-LG-2LB", 1)])
    make_sale(store, local("2026-03-04 10:50"), [("RICE-LG-2LB", 1)])
    make_sale(store, local("2026-02-25 10:20"), [("RICE-LG-2LB", 1)])
    make_sale(store, local("2026-02-25 08:00"), [("RICE-LG-2LB", 1)])
    # today so far: three sales this hour (two of them of two units), one earlier
    make_sale(store, local("2026-03-11 07:45"), [("RICE-LG-2LB", 1)])
    make_sale(store, local("2026-03-11 10:05"), [("RICE-LG-2LB", 2)])
    make_sale(store, local("2026-03-11 10:12"), [("RICE-LG-2LB", 2)])
    make_sale(store, local("2026-03-11 10:29"), [("RICE-LG-2LB", 1)])
    make_sale(store, local("2026-03-11 10:45"), [("RICE-LG-2LB", 7)])  # after "now": not counted
    with store.db.transaction() as c:
        c.execute("UPDATE products SET stock_qty = 2, reorder_level = 6 WHERE sku = 'OIL-SOL-1L'")
    p = reports.pulse(now=now)
    assert p.hour == 10 and p.window == "10:00–10:30" and p.usual_weeks == 2
    assert p.transactions_this_hour.actual == 3 and p.transactions_this_hour.usual == 1.0
    assert p.transactions_this_hour.change_pct == 200 and p.transactions_this_hour.trend == "up"
    assert p.sales_this_hour.actual == 5 * rice and p.sales_this_hour.usual == rice
    assert p.usual_full_hour_transactions == 1.5 and p.usual_full_hour_sales == round(1.5 * rice)
    # today so far: 4 sales, 6 units; usual by 10:30: (2 + 1) sales over 2 weeks
    assert p.transactions_today.actual == 4 and p.transactions_today.usual == 1.5
    assert p.transactions_today.change_pct == 167
    assert p.basket_value.actual == round(6 * rice / 4) and p.basket_value.usual == rice
    assert p.basket_value.change_pct == 50
    assert p.basket_items.actual == 1.5 and p.basket_items.usual == 1.0
    assert "OIL-SOL-1L" in {s.sku for s in p.running_low}


def test_pulse_before_the_first_sale_of_the_day_shows_the_usual_without_a_change(store, reports):
    rice = price(store, "RICE-LG-2LB")
    make_sale(store, local("2026-03-04 07:30"), [("RICE-LG-2LB", 2)])
    p = reports.pulse(now=datetime.fromisoformat(local("2026-03-11 08:00").replace("Z", "+00:00")))
    assert p.transactions_today.actual == 0 and p.transactions_today.change_pct == -100
    assert p.basket_value.actual == 0 and p.basket_value.usual == 2 * rice
    assert p.basket_value.change_pct is None and p.basket_value.trend == "none"
    assert p.sales_this_hour.usual == 0 and p.sales_this_hour.change_pct is None  # nothing usually by 08:00


# -- alerts, sales list, sale detail ---------------------------------------------------------

def test_alerts_carry_receipt_score_and_reasons(store, reports):
    sale = make_sale(store, local("2026-03-10 22:00"), anomaly={"score": 0.91, "reasons": ["4 voids", "odd hour"],
                                                                 "model": "iforest-test"}, alert=True)
    make_sale(store, local("2026-03-10 09:00"))
    alerts = reports.alerts()
    assert len(alerts) == 1
    a = alerts[0]
    assert a.tx_id == sale.tx_id and a.receipt_no == sale.receipt_no and a.score == 0.91
    assert a.reasons == ["4 voids", "odd hour"] and a.acknowledged_at is None
    assert a.created_local == "2026-03-10 22:00"
    store.alerts.acknowledge(a.id, "owner")
    assert reports.alerts(open_only=True) == []
    assert reports.alert(a.id).acknowledged_by == "owner"
    assert reports.summary(date(2026, 3, 10)).open_alerts == 0


def test_sales_list_filters_by_store_day_cashier_and_status(store, reports):
    a = make_sale(store, utc("2026-03-11 02:30"), cashier="ana")  # 22:30 on the 10th, store time
    b = make_sale(store, local("2026-03-10 09:00"), cashier="luis")
    make_sale(store, local("2026-03-10 10:00"), cashier="luis", status="voided")
    make_sale(store, local("2026-03-11 09:00"), cashier="ana")
    r = reports.sales(day=date(2026, 3, 10))
    assert r["count"] == 3 and r["sales"][0]["tx_id"] == a.tx_id  # newest first
    assert r["net_total"] == a.total + b.total
    assert {s["tx_id"] for s in reports.sales(day=date(2026, 3, 10), cashier_id="ana")["sales"]} == {a.tx_id}
    luis = reports.sales(cashier_id="luis", status="completed")
    assert [s["tx_id"] for s in luis["sales"]] == [b.tx_id] and luis["sales"][0]["cashier_name"] == "Luis"
    assert reports.sales(status="voided")["count"] == 1
    page = reports.sales(limit=2, offset=2)
    assert page["count"] == 4 and len(page["sales"]) == 2
    assert reports.sales(limit=1)["sales"][0]["line_count"] == 1


def test_sale_detail_has_lines_payments_readable_events_and_refunds(store, reports):
    events: list[SaleEvent] = [  # the typed records the checkout writes (contracts.events)
        LineVoid(at=local("2026-03-10 09:00"), by="maria", sku="OIL-SOL-1L", qty=1, reason="changed mind"),
        PriceOverride(at=local("2026-03-10 09:00"), by="maria", sku="RICE-LG-2LB", old_price=7500, new_price=7000,
                      reason="dented"),
        VisionMismatch(at=local("2026-03-10 09:01"), sku="BEAN-RED-1LB", seen=2, sold=1),
        DrawerOpen(at=local("2026-03-10 09:01"), by="ana", no_sale=False, reason="sale"),
    ]
    sale = make_sale(store, local("2026-03-10 09:01"), [("RICE-LG-2LB", 2), ("BEAN-RED-1LB", 1)],
                     prices={"RICE-LG-2LB": 7000}, events=events,
                     sources={"BEAN-RED-1LB": ("barcode", 1.0)},
                     anomaly={"score": 0.7, "reasons": ["a price override"], "model": "m1"}, alert=True)
    refund = make_sale(store, local("2026-03-10 12:00"), [("BEAN-RED-1LB", 1)], status="refunded",
                       refund_of=sale.tx_id)
    d = reports.sale_detail(sale.tx_id)
    assert d["receipt_no"] == sale.receipt_no and d["status"] == "completed"
    assert d["completed_local"] == "2026-03-10 09:01" and d["cashier_name"] == "Ana"
    assert [(ln["sku"], ln["qty"], ln["unit_price"], ln["line_total"], ln["source"]) for ln in d["lines"]] == [
        ("RICE-LG-2LB", 2, 7000, 14000, "vision"),
        ("BEAN-RED-1LB", 1, price(store, "BEAN-RED-1LB"), price(store, "BEAN-RED-1LB"), "barcode")]
    assert d["lines"][0]["confidence"] == pytest.approx(0.9)
    assert d["payments"][0]["method"] == "cash" and d["payments"][0]["amount"] == sale.total
    texts = [e["text"] for e in d["events"]]
    assert texts[0] == f"Removed 1 × {store.products.get('OIL-SOL-1L').name} (changed mind)"
    assert texts[1] == (f"Price of {store.products.get('RICE-LG-2LB').name} changed from RD$75.00 to RD$70.00"
                        " (dented)")
    assert "Camera saw 2 ×" in texts[2] and "1 were sold" in texts[2]
    assert texts[3] == "Cash drawer opened for the payment"
    assert d["events"][0]["by_name"] == "María"
    assert d["anomaly"]["score"] == 0.7 and d["alerts"][0]["reasons"] == ["a price override"]
    assert [r["tx_id"] for r in d["refunds"]] == [refund.tx_id]
    back = reports.sale_detail(refund.tx_id)
    assert back["refund_of_sale"]["receipt_no"] == sale.receipt_no and back["total"] < 0


def test_sale_detail_of_an_unknown_sale_is_not_found(reports):
    from edge.store.errors import NotFoundError
    with pytest.raises(NotFoundError):
        reports.sale_detail(str(uuid.uuid4()))


def test_event_sentences_for_every_event_record():
    names = {"A": "Apple", "B": "Banana"}
    at = "2026-03-10T13:00:00Z"
    cases = [
        (VisionMismatch(at=at, sku="A", rung="B"), "Camera saw Apple but Banana was rung up"),
        (VisionMismatch(at=at, sku="A", seen=3, sold=1), "Camera saw 3 × Apple on the tray but 1 were sold"),
        (PriceOverride(at=at, sku="A", old_price=1000, new_price=400),
         "Price of Apple changed from RD$10.00 to RD$4.00"),
        (DiscountChange(at=at, old_discount=0, new_discount=500), "Discount changed from RD$0.00 to RD$5.00"),
        (RefundApproval(at=at, of="TILL-1-000004", reason="broken"),
         "Refund of receipt TILL-1-000004 approved (broken)"),
        (DrawerOpen(at=at, no_sale=True, reason="change for a note"),
         "Cash drawer opened without a sale (change for a note)"),
        (DrawerOpen(at=at, no_sale=False, reason="refund"), "Cash drawer opened to pay a refund"),
        (SaleVoid(at=at, lines=3, reason="customer left"), "Whole sale voided with 3 lines (customer left)"),
        (SaleVoid(at=at, lines=1, reason="customer left"), "Whole sale voided with 1 line (customer left)"),
        (LineVoid(at=at, sku="B", name="Banana", qty=1, line_total=2500), "Removed 1 × Banana, RD$25.00"),
        (ManualEntry(at=at, sku="A", qty=2), "Apple typed in by hand (qty 2)"),
    ]
    for event, text in cases:
        assert describe_event(event, "DOP", names) == text
    # in the reader's language, money written its way
    with use_language("es", "America/Santo_Domingo"):
        assert describe_event(SaleVoid(at=at, lines=2, reason=""), "DOP", names) == "Venta entera anulada con 2 líneas"
        assert describe_event(LineVoid(at=at, sku="B", name="Banana", qty=1, line_total=2500), "DOP", names) == \
            "Quitado 1 × Banana, RD$25.00"
    with use_language("fr"):
        assert describe_event(DiscountChange(at=at, old_discount=0, new_discount=500), "DOP", names) == \
            "Remise modifiée de 0,00\xa0RD$ à 5,00\xa0RD$"


# -- speed on six weeks of history -----------------------------------------------------------

def bulk_history(store: Store, end: datetime, days: int = 42) -> int:
    """Six weeks of the demo's synthetic history written straight into the tables (fast)."""
    from edge.demo.history import generate_history
    from vision.catalogue import demo_catalogue

    history = generate_history(demo_catalogue(), ["ana", "luis", "maria"], "s-001", "till-1",
                               "America/Santo_Domingo", "DOP", end=end, days=days)
    with store.db.transaction() as c:
        for i, p in enumerate(history.payloads):
            c.execute("INSERT INTO sales (tx_id, seq, receipt_no, status, cashier_id, customer_id, started_at,"
                      " completed_at, subtotal, discount, tax, total, payment_method, payload)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (p["tx_id"], i + 1, f"TILL-1-{i + 1:06d}", p["status"], p["cashier_id"], p["customer_id"],
                       p["started_at"], p["completed_at"], p["subtotal"], p["discount"], p["tax"], p["total"],
                       p["payment"]["method"], json.dumps(p)))
            c.executemany("INSERT INTO sale_lines (tx_id, line_no, sku, name, qty, unit_price, line_total, source,"
                          " confidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          [(p["tx_id"], j + 1, ln["sku"], ln["name"], ln["qty"], ln["unit_price"], ln["line_total"],
                            ln["source"], ln["confidence"]) for j, ln in enumerate(p["lines"])])
            c.execute("INSERT INTO payments (tx_id, method, amount, tendered, change, customer_id)"
                      " VALUES (?, ?, ?, ?, ?, ?)", (p["tx_id"], p["payment"]["method"], p["total"],
                                                     p["payment"]["tendered"], p["payment"]["change"],
                                                     p["customer_id"]))
            c.executemany("INSERT INTO events (tx_id, type, at, detail) VALUES (?, ?, ?, ?)",
                          [(p["tx_id"], e["type"], e["at"], json.dumps(e["detail"])) for e in p["events"]])
    return len(history.payloads)


def test_a_dashboard_load_on_six_weeks_of_history_compares_with_the_usual(store, reports):
    # how fast this is belongs to `tillsight bench edge` (dashboard API paths, as a ratio), not to a timed test
    now = datetime(2026, 11, 21, 15, 37, tzinfo=UTC)  # a Saturday, 11:37 store time
    n = bulk_history(store, now)
    assert n > 3500
    today = reports.today(now)
    summary = reports.summary(today)
    series = reports.hourly(today)
    assert reports.top_products(today) and reports.payment_mix(today)
    pulse = reports.pulse(now)
    reports.stock(now)
    reports.credit()
    reports.alerts()
    assert reports.sales(day=today, limit=100)
    assert summary.transactions > 20 and series.usual_weeks == 5 and pulse.usual_weeks == 5
    # the usual is the mean of the earlier Saturdays, hour by hour
    saturdays = [today - timedelta(weeks=k) for k in range(1, 6)]
    expected_9 = sum(reports.hourly(d, weeks=1).hours[9].sales for d in saturdays) / 5
    assert series.hours[9].usual_sales == round(expected_9)
