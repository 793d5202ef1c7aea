"""The owner dashboard in a real headless Chromium: the app served in-process by waitress, the
owner logs in with the password, Chart.js draws both charts from the JSON API, the figures match
the seeded sales, an alert is acknowledged, and a sale's detail page shows its lines.  The browser
console must stay free of errors (a Content-Security-Policy violation would show there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.money import format_money
from tests.edge.store.test_reports import local, make_sale
from tests.edge.web.test_dashboard import fixed_clock, sales  # noqa: F401  (fixtures)
from tests.support.browser import console_errors

pytestmark = pytest.mark.slow


def test_owner_dashboard_in_a_real_browser(served, browser, sales, store, tmp_path: Path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # logged out: the dashboard sends the owner to the login screen, and back after the password
    browser.get(served + "/dashboard")
    assert "/login" in browser.current_url
    browser.find_element(By.CSS_SELECTOR, "label.tile[data-role=owner]").click()
    browser.find_element(By.ID, "password").send_keys("tillsight-owner")
    browser.find_element(By.ID, "login-submit").click()
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/dashboard"))

    # both charts are drawn by Chart.js from the API
    WebDriverWait(browser, 15).until(lambda d: d.execute_script(
        "return !!(window.Chart && Chart.getChart(document.getElementById('chart-hourly'))"
        " && Chart.getChart(document.getElementById('chart-payments')));"))
    hourly = browser.execute_script(
        "const c = Chart.getChart(document.getElementById('chart-hourly'));"
        " return {type: c.config.type, labels: c.data.labels, sets: c.data.datasets.map(d => d.data),"
        " width: c.width, height: c.height};")
    net = sales["a"].total + sales["b"].total + sales["refund"].total + sales["alerted"].total
    assert sum(hourly["sets"][0]) == net  # today's bars add up to the day's net sales
    assert len(hourly["sets"]) == 2 and sum(v or 0 for v in hourly["sets"][1]) == sales["old"].total  # usual
    assert "14:00" in hourly["labels"] and hourly["width"] > 200 and hourly["height"] > 100
    mix = browser.execute_script(
        "const c = Chart.getChart(document.getElementById('chart-payments'));"
        " return {type: c.config.type, labels: c.data.labels, data: c.data.datasets[0].data};")
    assert mix["type"] == "doughnut" and set(mix["labels"]) == {"Cash", "Card"} and sum(mix["data"]) == net

    # the figures match the seeded sales
    assert browser.find_element(By.ID, "kpi-net_sales").text == format_money(net, "DOP")
    assert browser.find_element(By.ID, "kpi-transactions").text == "3"
    assert "Leche en Polvo Nido-Sol 360 g" in browser.find_element(By.ID, "top-products").text
    pulse = browser.find_element(By.ID, "pulse").text.lower()
    assert "customers this hour" in pulse and "vs usual" in pulse

    # acknowledge the alert from the page
    browser.find_element(By.CSS_SELECTOR, "button.ack").click()
    WebDriverWait(browser, 10).until(
        lambda d: "acknowledged by you" in d.find_element(By.ID, "alerts").text)
    assert store.alerts.recent(open_only=True) == []
    assert browser.find_element(By.ID, "kpi-open_alerts").text == "0"

    # a new sale comes in; the 30-second refresh (run now) updates the figures, the pulse and the charts
    late = make_sale(store, local("2026-03-11 14:25"), [("SUGAR-2LB", 3)], method="mobile_money", cashier="ana")
    browser.execute_script("return window.TillsightDashboard.refresh();")
    assert browser.find_element(By.ID, "kpi-transactions").text == "4"
    assert browser.find_element(By.ID, "kpi-net_sales").text == format_money(net + late.total, "DOP")
    hour = browser.find_element(By.CSS_SELECTOR, "#pulse [data-metric=transactions_this_hour] .value").text
    assert hour == "2"
    assert "+100% vs usual" in browser.find_element(By.CSS_SELECTOR, "#pulse [data-metric=transactions_this_hour]").text
    assert "updated" in browser.find_element(By.ID, "pulse-status").text
    assert "Azucar Crema 2 lb" in browser.find_element(By.ID, "top-products").text
    labels = browser.execute_script("return Chart.getChart(document.getElementById('chart-payments')).data.labels;")
    assert "Mobile money" in labels
    assert "Mobile money" in browser.find_element(By.ID, "payment-table").text
    total = browser.execute_script(
        "return Chart.getChart(document.getElementById('chart-hourly'))"
        ".data.datasets[0].data.reduce((a, b) => a + b, 0);")
    assert total == net + late.total
    browser.save_screenshot(str(tmp_path / "dashboard.png"))
    assert console_errors(browser) == []

    # the sales list links to a sale's detail with its lines
    browser.get(served + "/sales?date=2026-03-11")
    browser.find_element(By.LINK_TEXT, sales["a"].receipt_no).click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "sale-lines"))
    names = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#sale-lines td.line-name")]
    assert names == ["Arroz La Garza 2 lb", "Aceite Sol Dorado 1 L"]
    assert browser.find_element(By.ID, "receipt-no").text == sales["a"].receipt_no
    assert browser.find_element(By.ID, "sale-total").text == format_money(sales["a"].total, "DOP")
    assert sales["refund"].receipt_no in browser.find_element(By.ID, "sale-refunds").text
    browser.save_screenshot(str(tmp_path / "sale.png"))
    assert console_errors(browser) == []
