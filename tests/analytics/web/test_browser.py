"""The hub in a real headless Chromium, served by waitress: an operator logs in and reads the
fleet page (a device online with its versions, backlog and update progress; a deployment's
progress), opens the deployment and a store whose chart draws under the strict content policy."""

from __future__ import annotations

import pytest

from tests.analytics.web.seed import DEPLOY_MODEL, PASSWORDS, A
from tests.support.browser import console_errors

pytestmark = pytest.mark.slow


def _log_in(browser, base: str, user_id: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(base + "/fleet")  # not logged in: the login page, coming back here afterwards
    assert "/login?next=" in browser.current_url
    browser.find_element(By.ID, "user_id").send_keys(user_id)
    browser.find_element(By.ID, "password").send_keys(PASSWORDS[user_id])
    browser.find_element(By.ID, "login-submit").click()


def _cells(row) -> dict[str, str]:
    from selenium.webdriver.common.by import By

    return {td.get_attribute("data-key"): td.text for td in row.find_elements(By.TAG_NAME, "td")}


def test_operator_sees_the_fleet_and_a_deployments_progress(served: str, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _log_in(browser, served, "op")
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/fleet") and d.find_elements(
        By.CSS_SELECTOR, "#deployments tbody tr"))
    assert browser.find_element(By.ID, "who").text == "Olga Operator · operator"
    rows = [_cells(r) for r in browser.find_elements(By.CSS_SELECTOR, "#devices tbody tr")]
    till1 = next(r for r in rows if r["store_id"] == A and r["device_id"] == "till-1")
    assert till1["state"] == "online" and till1["model"] == "v8 · 20261120.8" and till1["backlog"] == "7"
    assert till1["update"] == "model v9: downloading 45%"
    assert {r["device_id"]: r["state"] for r in rows if r["store_id"] == A} == {
        "till-1": "online", "till-2": "offline", "till-3": "never seen"}
    dep = next(_cells(r) for r in browser.find_elements(By.CSS_SELECTOR, "#deployments tbody tr")
               if DEPLOY_MODEL in r.text)
    assert (dep["state"], dep["progress"], dep["succeeded"], dep["failed"], dep["targets"]) == \
        ("active", "25%", "1", "1", "4")

    browser.find_element(By.LINK_TEXT, DEPLOY_MODEL).click()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "deployment-progress"))
    bar = browser.find_element(By.ID, "deployment-progress")
    assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("1", "4")
    failure = _cells(browser.find_element(By.CSS_SELECTOR, "#failures tbody tr"))
    assert failure["device_id"] == "till-2" and failure["detail"] == "sha256 mismatch after download"

    browser.get(f"{served}/stores/{A}")
    WebDriverWait(browser, 15).until(
        lambda d: d.find_element(By.ID, "daily-chart").get_attribute("data-ready") == "yes")
    # the last 14 days, from the store's first sale (11 Nov) on: 11 days
    assert browser.find_element(By.ID, "daily-chart").get_attribute("data-days") == "11"
    assert console_errors(browser) == []  # no CSP violation, no script error


def test_owner_sees_only_their_store(served: str, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _log_in(browser, served, "ann")
    # back on the page asked for, which is not for owners
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "error-message"))
    assert "operator role" in browser.find_element(By.ID, "error-message").text
    browser.get_log("browser")  # that 403 is expected; from here on the console must stay clean
    browser.get(served + "/")
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#nav a")] == ["Stores"]
    names = [r.find_elements(By.TAG_NAME, "td")[1].text for r in browser.find_elements(By.CSS_SELECTOR,
                                                                                           "#stores tbody tr")]
    assert names == ["Colmado Ana"]
    browser.find_element(By.LINK_TEXT, "Colmado Ana").click()
    WebDriverWait(browser, 15).until(
        lambda d: d.find_element(By.ID, "daily-chart").get_attribute("data-ready") == "yes")
    assert console_errors(browser) == []
    browser.get(served + "/stores/s-002")
    assert "no store 's-002'" in browser.find_element(By.ID, "error-message").text
