"""Issue 5's done-when, end to end on real data: ``tillsight hub import`` of the shared retail file
(the real CLI, as a subprocess), ``tillsight hub jobs``, then in a headless Chromium a store owner
opens Trend, Customers and Products and sees the retailer's real segments, the forecast charts
drawn, reorder advice and a SKU forecast, with no console error (no CSP violation, no script error).

The whole file: 15,047 sales of a UK retailer (December 2010 to August 2011); import and jobs take
about 25 s on the development machine, the browser part a few seconds."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from analytics.db import make_engine
from analytics.importer.frames import RETAIL_DATA_ENV, locate_retail_data, retail_data_candidates
from analytics.jobs import results as rs
from analytics.web import create_app
from analytics.web.accounts import HubUsers
from tests.support.browser import console_errors

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]
STORE = "s-retail"
OWNER, PASSWORD = "rita", "retail-owner-pass-1"


def tillsight(*args: str) -> dict:
    """Run the real CLI; its last stdout line is the --json report."""
    done = subprocess.run([sys.executable, "-m", "tillsight_cli.main", *args, "--json"], cwd=REPO,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def retail_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    data = locate_retail_data()
    if data is None:
        pytest.skip(f"the shared retail data is not in any of {[str(p) for p in retail_data_candidates()]} "
                    f"(set ${RETAIL_DATA_ENV} to the file)")
    url = f"sqlite:///{tmp_path_factory.mktemp('retail-hub') / 'hub.db'}"
    report = tillsight("hub", "import", str(data), "--store-id", STORE, "--store-name", "UK gift retailer",
                       "--database-url", url)
    assert report["sales"] > 15_000 and report["stored"] == report["sales"]
    runs = tillsight("hub", "jobs", "--database-url", url, "--workers", "1")["runs"]
    assert [(r["store_id"], r["status"]) for r in runs] == [(STORE, "succeeded")]
    engine = make_engine(url)
    HubUsers(engine).save(OWNER, "Rita Retailer", "owner", password=PASSWORD, stores=[STORE])
    yield engine
    engine.dispose()


@pytest.fixture
def retail_site(retail_hub: Engine) -> Iterator[str]:
    from waitress import create_server

    app = create_app(retail_hub, secret_key="retail-browser-test")
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(5)


def _table(browser, table_id: str) -> list[dict[str, str]]:
    """The rows of a data table as shown (cell text by column key), read in one round trip."""
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#' + arguments[0] + ' tbody tr')).map(function (tr) {"
        "  const row = {}; tr.querySelectorAll('td').forEach(function (td) {"
        "    row[td.dataset.key] = td.innerText.trim(); }); return row; });", table_id)


def _ready(browser, canvas_id: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, canvas_id).get_attribute("data-ready") == "yes"
        or d.find_elements(By.CSS_SELECTOR, ".chart-box .error"))
    errors = browser.find_elements(By.CSS_SELECTOR, ".chart-box .error")
    assert not errors, errors[0].text


def test_an_owner_sees_the_retailers_segments_forecasts_and_reorder_advice(retail_hub: Engine, retail_site: str,
                                                                           browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    allowed = [STORE]
    run = rs.latest_run(retail_hub, STORE, allowed)
    assert run["as_of"] == "2011-09-01"  # the day after the file's last sale (2011-08-31)

    browser.get(f"{retail_site}/stores/{STORE}/trend")
    assert "/login?next=" in browser.current_url
    browser.find_element(By.ID, "user_id").send_keys(OWNER)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    WebDriverWait(browser, 20).until(lambda d: d.current_url.endswith(f"/stores/{STORE}/trend"))

    # Trend: the history and the 28-day forecast drawn, the heat map, staffing, run info
    _ready(browser, "trend-chart")
    _ready(browser, "sales-chart")
    chart = browser.find_element(By.ID, "trend-chart")
    assert (chart.get_attribute("data-actual-days"), chart.get_attribute("data-forecast-days")) == ("91", "28")
    assert "Analysis as of 2011-09-01" in browser.find_element(By.ID, "run-info").text
    assert browser.find_element(By.ID, "kpi-next28").text.split("\n")[1].startswith("£")
    forecast = _table(browser, "trend-forecast")
    assert len(forecast) == 28 and all(f["forecast"].startswith("£") for f in forecast)
    rows = browser.find_elements(By.CSS_SELECTOR, "#heatmap tbody tr")
    assert [r.find_element(By.TAG_NAME, "th").text for r in rows][:2] == ["Monday", "Tuesday"]
    busiest = browser.find_elements(By.CSS_SELECTOR, "#heatmap td.heat-5")
    assert busiest and all(c.text for c in busiest)
    staffing = _table(browser, "trend-staffing")
    assert staffing and all(int(s["staff"]) >= 1 for s in staffing)
    assert console_errors(browser) == []

    # Customers: the real RFM segments with counts, clusters, basket segments, churn risk
    browser.find_element(By.LINK_TEXT, "Customers").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#customers-rfm tbody tr"))
    segments = {c["segment"]: c for c in _table(browser, "customers-rfm")}
    want = {s["segment"]: s["members"] for s in rs.segments(retail_hub, STORE, allowed, "rfm")}
    assert {"Champions", "Loyal", "At risk", "Lost"} <= set(segments)
    assert int(segments["Champions"]["members"].replace(",", "")) == want["Champions"] > 100
    assert segments["Champions"]["median_monetary"].startswith("£")
    assert browser.find_elements(By.CSS_SELECTOR, "#customers-clusters tbody tr")
    assert browser.find_elements(By.CSS_SELECTOR, "#customers-baskets tbody tr")
    churn = _table(browser, "customers-churn-risk")
    assert len(churn) == 50 and churn[0]["churn_risk"].endswith("%")
    assert "AUC" in browser.find_element(By.ID, "churn-validation").text
    assert console_errors(browser) == []

    # Products: reorder advice rows, top products, the busiest SKU's forecast chart
    browser.find_element(By.LINK_TEXT, "Products").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#products-reorder tbody tr"))
    reorder = _table(browser, "products-reorder")
    assert len(reorder) == 100
    assert all(int(r["reorder_point"].replace(",", "")) >= 0 and r["lead_time_days"] == "7"
               and r["service_level"] == "95%" for r in reorder)
    assert any(int(r["order_qty"].replace(",", "")) > 0 for r in reorder)
    assert browser.find_elements(By.CSS_SELECTOR, "#products-top tbody tr")
    _ready(browser, "sku-chart")
    sku = browser.find_element(By.ID, "sku-chart").get_attribute("data-sku")
    assert sku == rs.forecast_skus(retail_hub, STORE, allowed, limit=1)[0]["sku"]
    assert browser.find_element(By.ID, "sku-chart").get_attribute("data-forecast-days") == "28"
    assert browser.find_element(By.ID, "sku-model").text
    assert console_errors(browser) == []
