"""What a person reads on the hub's pages, in a real headless Chromium served by waitress (issue 26,
"Hub pages"): the model a device runs in words (no "Model 0" column), times in the store's own time
in tables as in figures, the dead letters listed for operators (reason, time, device), a store's daily
chart starting at its first sale (no run of zeros before the data), the "no AI endpoint" notice once,
and the Ask page's examples taken from the store's own sales, with "Who owes me the most money?"
answered from the credit figures."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from analytics.credit.report import credit_report
from analytics.ingest.parse import parse
from analytics.ingest.store import apply
from contracts.money import format_money
from contracts.topics import DEFAULT_PREFIX, device_topic
from tests.analytics.credit.support import four_customers
from tests.analytics.web.seed import NOW, PASSWORDS, A, B, iso, reported
from tests.support.browser import console_errors

pytestmark = pytest.mark.slow

SANTO_DOMINGO, MADRID = ZoneInfo("America/Santo_Domingo"), ZoneInfo("Europe/Madrid")


@pytest.fixture
def window() -> tuple[int, int]:
    return (1280, 800)


def _log_in(browser, base: str, user_id: str, path: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(base + path)
    browser.find_element(By.ID, "user_id").send_keys(user_id)
    browser.find_element(By.ID, "password").send_keys(PASSWORDS[user_id])
    browser.find_element(By.ID, "login-submit").click()
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith(path))


def _rows(browser, table_id: str) -> list[dict[str, str]]:
    from selenium.webdriver.common.by import By

    return [{td.get_attribute("data-key"): td.text for td in tr.find_elements(By.TAG_NAME, "td")}
            for tr in browser.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr")]


def _headers(browser, table_id: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [th.text for th in browser.find_elements(By.CSS_SELECTOR, f"#{table_id} thead th")]


def _store_time(value: str, tz: ZoneInfo) -> str:
    local = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _report_model(engine: Engine, store: str, device: str, version: int) -> None:
    """The device's reported state through the hub's own ingest (parse + apply), as it arrives by MQTT."""
    doc = reported(store, device, version, 3)
    msg = parse(device_topic(DEFAULT_PREFIX, store, device, "reported"), json.dumps(doc).encode(), DEFAULT_PREFIX)
    with engine.begin() as conn:
        apply(conn, msg, iso(NOW))  # type: ignore[arg-type]


def test_fleet_shows_models_in_words_store_times_and_lists_the_dead_letters(served: str, browser, hub_engine):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _report_model(hub_engine, A, "till-3", 0)  # running the bundle it was set up with: fleet version 0
    _log_in(browser, served, "op", "/fleet")
    headers = _headers(browser, "devices")
    assert headers.count("Model") == 1 and "Model bundle" not in headers
    devices = {(r["store_id"], r["device_id"]): r for r in _rows(browser, "devices")}
    assert devices[(A, "till-1")]["model"] == "v8 · 20261120.8"
    assert devices[(A, "till-3")]["model"] == "20261120.0 (as installed)"  # not a "model 0"
    # times in each store's own time, as its figures are
    assert devices[(A, "till-1")]["status_at"] == _store_time(iso(NOW.replace(hour=13)), SANTO_DOMINGO)
    assert devices[(A, "till-1")]["status_at"].endswith(" AST")
    assert devices[(B, "till-1")]["first_seen"].endswith(" CET")

    # the dead letters are counted on the fleet page, and the count opens them
    assert browser.find_element(By.CSS_SELECTOR, "#kpi-dead-letters .value").text == "3"
    browser.find_element(By.ID, "link-dead-letters").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#dead-letters tbody tr"))
    letters = _rows(browser, "dead-letters")
    assert sorted((r["store_id"], r["device_id"], r["message"], r["reason"]) for r in letters) == [
        (A, "till-1", "tx", "not JSON"), (A, "till-2", "tx", "schema"), (B, "till-1", "tx", "schema")]
    when = {r["store_id"]: r["received_at"] for r in letters}
    assert when == {A: _store_time(iso(NOW), SANTO_DOMINGO), B: _store_time(iso(NOW), MADRID)}
    assert "{not json" in next(r["payload"] for r in letters if r["reason"] == "not JSON")

    # one store's, from its overview
    browser.get(served + f"/stores/{A}")
    browser.find_element(By.ID, "link-dead-letters").click()
    WebDriverWait(browser, 10).until(lambda d: "store=" in d.current_url)
    assert sorted(r["device_id"] for r in _rows(browser, "dead-letters")) == ["till-1", "till-2"]
    assert console_errors(browser) == []


def test_the_store_page_starts_its_chart_at_the_first_sale_and_reads_times_in_store_time(served: str, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    _log_in(browser, served, "ann", f"/stores/{A}")
    WebDriverWait(browser, 15).until(lambda d: d.execute_script(
        "return !!(window.Chart && Chart.getChart(document.getElementById('daily-chart')));"))
    labels = browser.execute_script("return Chart.getChart(document.getElementById('daily-chart')).data.labels;")
    # the store's first sale was on 11 Nov (store time): no zeros for the days before the hub had any
    assert labels[0] == "11-11" and labels[-1] == "11-21" and len(labels) == 11, labels
    sales = _rows(browser, "sales")
    # the sale at 03:30Z on the 21st was on the 20th in Santo Domingo: the table says so, in store time
    late = next(r for r in sales if r["total"] == "RD$7.00")
    assert late["completed_at"] == "2026-11-20 23:30 AST"
    alerts = _rows(browser, "alerts")
    assert alerts[0]["raised_at"] == _store_time(iso(NOW.replace(hour=14)), SANTO_DOMINGO)
    assert console_errors(browser) == []


def test_insights_say_once_that_no_ai_is_configured(served: str, browser):
    from selenium.webdriver.common.by import By

    _log_in(browser, served, "ann", f"/stores/{A}/insights")
    text = browser.find_element(By.TAG_NAME, "main").text
    assert text.count("No AI endpoint") == 1, text
    # and the alert's time in the heading is the store's, as in its explanation
    assert "2026-11-21 10:00 AST" in browser.find_element(By.CSS_SELECTOR, "main").text


def test_ask_offers_the_stores_own_products_and_answers_who_owes_the_most(served: str, browser, hub_engine):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    credit = four_customers()
    credit.write(hub_engine)  # a store with credit customers (store s-cr), through the hub's tables
    _log_in(browser, served, "op", f"/stores/{credit.store}/ask")
    examples = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#ask-examples button")]
    # the product example names what this store sells (Rice 5 lb), never a product it does not
    assert "How many Rice 5 lb sold last week?" in examples and not any("Presidente" in e for e in examples)
    assert "Presidente" not in browser.find_element(By.ID, "ask-question").get_attribute("placeholder")
    assert "Who owes me the most money?" in examples

    browser.find_element(By.ID, "ask-question").send_keys("Who owes me the most money?")
    browser.find_element(By.ID, "ask-submit").click()
    WebDriverWait(browser, 15).until(lambda d: "owes the most" in d.find_element(By.ID, "ask-history").text)
    report = credit_report(hub_engine, credit.store, as_of=NOW)
    top = max(report.customers, key=lambda c: c.balance)
    answer = browser.find_element(By.ID, "ask-history").text
    assert f"{top.name} owes the most: {format_money(top.balance, 'DOP')}" in answer
    assert format_money(report.kpis.total_owed, "DOP") in answer
    assert console_errors(browser) == []


def test_a_viewer_gets_no_dead_letters_and_no_credit_answer(login_as):
    val = login_as("val")
    assert val.get("/fleet/dead-letters").status_code == 403
    assert val.get("/api/fleet/dead-letters").status_code == 403
    assert login_as("ann").get("/fleet/dead-letters").status_code == 403  # an owner is not an operator
    page = val.get(f"/stores/{A}/ask").get_data(as_text=True)
    assert "Who owes me the most money?" not in page
    answer = val.post(f"/api/stores/{A}/ask", json={"question": "Who owes me the most money?"}).get_json()
    assert answer["tools_used"] == ["credit_owed"] and "only the owner" in answer["text"]
