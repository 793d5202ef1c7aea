"""Catalogue and stock count in a real headless Chromium, the app served in-process by waitress:
the owner logs in with the password, adds a product with a barcode through the form, edits its
price, counts it on the stock-count sheet (the difference appears as the count is typed; its value is at
cost, and a product with no cost says so), posts the count and sees the new book stock.  The console must
stay free of errors (a Content-Security-Policy violation would show there)."""

from __future__ import annotations

import pytest

from tests.edge.web.test_manage import seeded_store_file, store  # noqa: F401  (fast seeded store)
from tests.support.browser import console_errors

pytestmark = pytest.mark.slow


def test_owner_adds_edits_and_counts_a_product(served, browser, store):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    def wait_for(predicate, seconds: float = 15):
        return WebDriverWait(browser, seconds).until(lambda d: predicate())

    def text(css: str) -> str:
        return browser.find_element(By.CSS_SELECTOR, css).text.strip()

    # logged out: the catalogue sends the owner to the login screen, and back after the password
    browser.get(served + "/manage/products")
    assert "/login" in browser.current_url
    browser.find_element(By.CSS_SELECTOR, "label.tile[data-role=owner]").click()
    browser.find_element(By.ID, "password").send_keys("tillsight-owner")
    browser.find_element(By.ID, "login-submit").click()
    wait_for(lambda: browser.current_url.endswith("/manage/products"))

    # add a product through the form
    form = browser.find_element(By.ID, "add-product-form")
    for name, value in (("sku", "BRW-SOAP"), ("name", "Browser soap"), ("price", "12.50"),
                        ("barcode", "7709876543210"), ("category", "Household")):
        form.find_element(By.NAME, name).send_keys(value)
    level = form.find_element(By.NAME, "reorder_level")
    level.clear()
    level.send_keys("3")
    browser.find_element(By.ID, "add-product-submit").click()
    wait_for(lambda: browser.current_url.endswith("/manage/products/BRW-SOAP"))
    assert "Added BRW-SOAP" in text(".flash")
    assert text("#product-price") == "RD$12.50"
    saved = store.products.get("BRW-SOAP")
    assert (saved.price, saved.barcode, saved.reorder_level, saved.stock_qty) == (1250, "7709876543210", 3, 0)
    assert store.products.by_barcode("7709876543210").sku == "BRW-SOAP"

    # edit its price
    price = browser.find_element(By.CSS_SELECTOR, "#edit-product-form input[name=price]")
    assert price.get_attribute("value") == "12.50"
    price.clear()
    price.send_keys("13.25")
    browser.find_element(By.ID, "save-product").click()
    wait_for(lambda: "Saved BRW-SOAP" in browser.page_source)
    assert text("#product-price") == "RD$13.25"
    assert store.products.get("BRW-SOAP").price == 1325

    # count it: the sheet filters as the name is typed and shows the difference and its value live
    browser.get(served + "/manage/stock-count")
    browser.find_element(By.ID, "count-search").send_keys("browser soap")
    visible = [r.get_attribute("data-sku") for r in browser.find_elements(By.CSS_SELECTOR, "#count-sheet tr[data-sku]")
               if r.is_displayed()]
    assert visible == ["BRW-SOAP"]
    row = browser.find_element(By.CSS_SELECTOR, "#count-sheet tr[data-sku='BRW-SOAP']")
    assert row.find_element(By.CSS_SELECTOR, "[data-col=book]").text == "0"
    row.find_element(By.CSS_SELECTOR, "input.count-input").send_keys("7")
    wait_for(lambda: row.find_element(By.CSS_SELECTOR, "[data-col=delta]").text == "+7")
    # valued at cost, and the new product has none: "no cost", counted apart, never a zero loss
    assert row.find_element(By.CSS_SELECTOR, "[data-col=value]").text == "no cost"
    assert text("#count-lines") == "1" and text("#count-units") == "+7" and text("#count-value") == "RD$0.00"
    assert text("#count-uncosted").startswith("1 product with a difference has no cost")
    Select(browser.find_element(By.ID, "f-reason")).select_by_value("correction")
    browser.find_element(By.ID, "f-note").send_keys("first shelf count")
    browser.find_element(By.ID, "post-count").click()
    wait_for(lambda: "Stock count posted" in browser.page_source)
    result = browser.find_element(By.CSS_SELECTOR, "#result-table tr[data-sku='BRW-SOAP']")
    assert result.find_element(By.CSS_SELECTOR, "[data-col=delta]").text == "+7"
    assert result.find_element(By.CSS_SELECTOR, "[data-col=value]").text == "no cost"

    # the new book stock, on the product page and in the catalogue
    browser.get(served + "/manage/products/BRW-SOAP")
    assert text("#product-stock").startswith("7")
    assert "Correction" in text("#movement-table") and "first shelf count" in text("#movement-table")
    browser.get(served + "/manage/products?q=BRW-SOAP")
    assert text("#product-table tr[data-sku='BRW-SOAP'] [data-col=stock]").startswith("7")
    assert store.products.get("BRW-SOAP").stock_qty == 7
    moves = store.stock.movements("BRW-SOAP")
    assert [(m.delta, m.reason, m.note) for m in moves] == [(7, "correction", "first shelf count")]

    # deactivating asks first; once confirmed the barcode no longer sells it
    browser.get(served + "/manage/products/BRW-SOAP")
    browser.find_element(By.ID, "deactivate").click()
    WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert).accept()
    wait_for(lambda: "inactive" in text("#product-summary"))
    assert store.products.by_barcode("7709876543210") is None

    assert console_errors(browser) == []
