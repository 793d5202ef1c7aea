"""The issue's acceptance test, end to end: the real ``tillsight demo`` process on the synthetic
camera, driven in a real headless Chromium.  A cashier logs in, rings up a basket the camera
filled, corrects a line, takes cash and prints the receipt; then the owner sees the sale, its line
items and the updated stock on the dashboard."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def appliance(demo_bundle: Path, tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TILLSIGHT__")}
    env["TILLSIGHT__STORE__LANGUAGE"] = "en"  # the demo store speaks Spanish; these checks read English
    env.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    data = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-m", "tillsight_cli.main", "demo", "--port", str(_free_port()),
                             "--camera", "synthetic:?seed=21&period=4", "--data-dir", str(data),
                             "--history-days", "3"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    base = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline()
        lines.append(line)
        m = re.search(r"Cashier screen:\s+(http://\S+)/till", line)
        if m:
            base = m.group(1)
        if "Demo logins" in line:
            break
    if base is None:
        proc.kill()
        pytest.fail("the appliance did not start:\n" + "".join(lines[-40:]))
    yield base, data / "store.db"
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _stock(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT sku, stock_qty FROM products"))
    finally:
        conn.close()


def _basket(driver) -> dict[str, int]:
    from selenium.webdriver.common.by import By

    out: dict[str, int] = {}
    for li in driver.find_elements(By.CSS_SELECTOR, "#basket-lines li.line"):
        out[li.get_attribute("data-sku")] = out.get(li.get_attribute("data-sku"), 0) + int(li.get_attribute("data-qty"))
    return out


def test_cashier_rings_up_the_camera_basket_and_the_owner_sees_it(appliance, browser, tmp_path: Path):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, db = appliance
    wait = WebDriverWait(browser, 20, poll_frequency=0.1,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))
    stock_before = _stock(db)

    # -- the cashier -----------------------------------------------------------------------------
    browser.get(base + "/till")
    browser.find_element(By.CSS_SELECTOR, "label.tile:has(input[value=ana])").click()
    for key in "1357":
        browser.find_element(By.CSS_SELECTOR, f".pinpad .key[data-key='{key}']").click()
    browser.find_element(By.ID, "login-submit").click()
    wait.until(lambda d: d.current_url.endswith("/till"))
    browser.find_element(By.ID, "opening-float").send_keys("1000")
    browser.find_element(By.ID, "shift-open").click()
    wait.until(lambda d: d.find_element(By.ID, "till-grid").is_displayed())
    # the live camera view streams
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "const i = document.getElementById('camera'); return i && i.complete && i.naturalWidth > 0"))
    browser.find_element(By.ID, "btn-start").click()
    # the synthetic camera puts products on the tray; the settled basket fills the sale
    WebDriverWait(browser, 60, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#basket-lines li.line"))
    browser.find_element(By.ID, "btn-review").click()
    wait.until(lambda d: d.find_element(By.ID, "sale-state").text == "Review")
    first = browser.find_element(By.CSS_SELECTOR, "#basket-lines li.line")
    sku, qty = first.get_attribute("data-sku"), int(first.get_attribute("data-qty"))
    first.find_element(By.CSS_SELECTOR, ".btn-plus").click()  # the correction: one more than the camera saw
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f"#basket-lines li.line[data-sku='{sku}']")
               .get_attribute("data-qty") == str(qty + 1))
    sold = _basket(browser)
    assert sold[sku] == qty + 1
    browser.find_element(By.ID, "btn-pay").click()
    wait.until(lambda d: d.find_element(By.ID, "pay-dialog").is_displayed())
    browser.find_element(By.ID, "cash-tendered").send_keys("20000")
    browser.find_element(By.ID, "pay-complete").click()
    wait.until(lambda d: d.find_element(By.ID, "receipt-dialog").is_displayed())
    receipt_text = browser.find_element(By.ID, "receipt-text").text
    receipt_no = re.search(r"Receipt (TILL-1-\d{6})", receipt_text).group(1)
    # print the receipt: the printable page, and the plain text for an ESC/POS printer
    browser.get(browser.find_element(By.ID, "receipt-page").get_attribute("href"))
    assert browser.find_element(By.ID, "receipt-no").text == receipt_no
    assert browser.find_element(By.ID, "print").is_displayed()
    browser.get(f"{base}/till/receipt/{receipt_no}.txt")
    assert receipt_no in browser.find_element(By.TAG_NAME, "body").text
    browser.save_screenshot(str(tmp_path / "receipt.png"))

    # -- the owner -------------------------------------------------------------------------------
    browser.get(base + "/till")
    browser.find_element(By.ID, "logout").click()
    wait.until(lambda d: "/login" in d.current_url)
    browser.find_element(By.CSS_SELECTOR, "label.tile:has(input[value=owner])").click()
    browser.find_element(By.ID, "password").send_keys("tillsight-owner")
    browser.find_element(By.ID, "login-submit").click()
    wait.until(lambda d: d.current_url.endswith("/dashboard"))
    browser.get(base + "/sales")
    link = browser.find_element(By.LINK_TEXT, receipt_no)
    link.click()
    wait.until(lambda d: d.find_element(By.ID, "receipt-no").text == receipt_no)
    rows = browser.find_elements(By.CSS_SELECTOR, "#sale-lines tbody tr")
    shown = {r.find_elements(By.TAG_NAME, "td")[1].text: int(r.find_elements(By.TAG_NAME, "td")[3].text)
             for r in rows if len(r.find_elements(By.TAG_NAME, "td")) > 4}
    assert shown == sold
    # the updated stock, on the dashboard
    browser.get(base + "/dashboard")
    stock_rows = {r.find_element(By.CSS_SELECTOR, "td .small").text: int(r.find_elements(By.TAG_NAME, "td")[1].text)
                  for r in browser.find_elements(By.CSS_SELECTOR, "#stock tbody tr")
                  if r.find_elements(By.CSS_SELECTOR, "td .small")}
    for s, q in sold.items():
        assert stock_rows[s] == stock_before[s] - q, (s, stock_rows[s], stock_before[s], q)
    assert _stock(db)[sku] == stock_before[sku] - sold[sku]
