"""The receiving page's product picker in a real headless Chromium on the till's 800x480 screen, with a catalogue
of 3,600 products: a supervisor finds a product by typing part of its name (accents not needed), picks it with
the keyboard, books a delivery in; a scanned barcode (digits and Enter) picks its product without posting the
form; a short text that matches thousands says how many more there are.  The console stays free of errors."""

from __future__ import annotations

import time

import pytest

from edge.store import Store
from tests.edge.web.test_manage import seeded_store_file, store  # noqa: F401  (fast seeded store)
from tests.support.browser import console_errors

pytestmark = pytest.mark.slow

CATALOGUE = 3600
COFFEE = ("CAFE-NANDU-454", "Café Ñandú molido 454 g", "7460000012345")


@pytest.fixture
def window() -> tuple[int, int]:
    return (800, 480)


def _big_catalogue(store: Store) -> None:  # noqa: F811
    """3,600 products more (one transaction, through the store's writer), and the coffee to find."""
    words = ("Arroz", "Habichuelas", "Aceite", "Galletas", "Jugo", "Jabón", "Leche", "Pasta", "Salsa", "Harina")
    with store.db.transaction() as conn:
        for i in range(CATALOGUE):
            store.products.upsert(f"BULK-{i:04d}", f"{words[i % len(words)]} surtido {i:04d}", 1000 + i,
                                  barcode=f"{7400000000000 + i}", category=words[i % len(words)].lower(), conn=conn)
        sku, name, barcode = COFFEE
        store.products.upsert(sku, name, 32500, barcode=barcode, category="café", conn=conn)


def test_a_delivery_is_booked_by_typing_part_of_a_name_or_scanning_a_barcode(served, browser, store):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    _big_catalogue(store)

    def wait_for(predicate, seconds: float = 15):
        return WebDriverWait(browser, seconds).until(lambda d: predicate())

    def options() -> list:
        return browser.find_elements(By.CSS_SELECTOR, "#f-product-options [role=option]")

    browser.get(served + "/login")
    browser.find_element(By.CSS_SELECTOR, "label.tile[data-role=owner]").click()
    browser.find_element(By.ID, "password").send_keys("tillsight-owner")
    browser.find_element(By.ID, "login-submit").click()
    wait_for(lambda: "/login" not in browser.current_url)

    started = time.monotonic()
    browser.get(served + "/manage/receiving")
    field = browser.find_element(By.ID, "f-product")
    loaded = time.monotonic() - started
    assert loaded < 10, f"the page with {CATALOGUE} products took {loaded:.1f} s"

    # part of the name, without its accents: the coffee comes first, the list fits the screen, Enter picks it
    field.send_keys("cafe nandu")
    wait_for(lambda: len(options()) >= 1)
    first = options()[0]
    assert first.get_attribute("data-sku") == COFFEE[0] and first.get_attribute("aria-selected") == "true"
    assert COFFEE[1] in first.text and COFFEE[2] in first.text and "no cost" in first.text
    box = browser.execute_script("const r = document.getElementById('f-product-options').getBoundingClientRect();"
                                 " return [r.top, r.bottom, r.right, window.innerHeight, window.innerWidth];")
    assert box[0] >= 0 and box[1] <= box[3] and box[2] <= box[4]  # the matches are on the screen, not below it
    field.send_keys(Keys.ENTER)
    assert browser.find_element(By.ID, "f-sku").get_attribute("value") == COFFEE[0]
    assert field.get_attribute("value") == COFFEE[1]
    assert browser.switch_to.active_element.get_attribute("id") == "f-qty"  # Enter picked, it did not post
    assert "/manage/receiving" in browser.current_url and not store.costs.receipts(sku=COFFEE[0])
    browser.switch_to.active_element.send_keys("12")
    browser.find_element(By.ID, "f-unit_cost").send_keys("245.50")
    browser.find_element(By.ID, "receiving-submit").click()
    wait_for(lambda: "Received 12" in browser.page_source)
    [receipt] = store.costs.receipts(sku=COFFEE[0])
    assert (receipt.qty, receipt.unit_cost, receipt.cost_after) == (12, 24550, 24550)

    # a scanner types the barcode and Enter: its product is picked, the form waits for the quantity
    field = browser.find_element(By.ID, "f-product")
    field.send_keys(COFFEE[2] + Keys.ENTER)
    wait_for(lambda: browser.find_element(By.ID, "f-sku").get_attribute("value") == COFFEE[0])
    assert "RD$245.50" in browser.find_element(By.ID, "f-product-chosen").text  # its cost now
    browser.switch_to.active_element.send_keys("3" + Keys.ENTER)  # Enter in the quantity posts the form
    wait_for(lambda: "Received 3" in browser.page_source)
    assert [r.qty for r in store.costs.receipts(sku=COFFEE[0])] == [3, 12]

    # a word that thousands share: the first ones, and how many more (keep typing); the list scrolls
    field = browser.find_element(By.ID, "f-product")
    field.send_keys("surtido")
    wait_for(lambda: len(options()) == 40)
    more = browser.find_element(By.CSS_SELECTOR, "#f-product-options .picker-more").text
    assert more == f"{CATALOGUE - 40} more products: keep typing to narrow the list."
    field.send_keys(" 3599")
    wait_for(lambda: [o.get_attribute("data-sku") for o in options()] == ["BULK-3599"])
    field.send_keys(Keys.ESCAPE)
    assert not browser.find_element(By.ID, "f-product-options").is_displayed()

    assert console_errors(browser) == []
