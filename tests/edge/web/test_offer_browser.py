"""A multi-buy offer on the till's screen (headless Chromium at the till's 800x480): two bags of rice
on the tray under a "2 for" offer the hub sent show the offer under the rice line, its saving as a
line of its own, and the total less the saving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts.prices import Promotion, PromotionItem
from contracts.timestamps import format_utc
from tests.edge.web.test_cashier_api import RICE, snapshot

pytestmark = pytest.mark.slow


@pytest.fixture
def window() -> tuple[int, int]:
    return (800, 480)


def test_the_basket_shows_a_multi_buy_and_its_saving(served: str, browser, web_context) -> None:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    since = datetime.now(UTC) - timedelta(hours=1)  # the offer started before the sale (the till's own clock)
    rice = web_context.store.products.get(RICE)
    offer = Promotion("m-rice", "multibuy", "2 × Rice: RD$140.00", (PromotionItem(RICE, 2),), 2 * rice.price - 1000,
                      format_utc(since), "ann", format_utc(since))
    web_context.store.promotions.replace((offer,), 1, "d1", since)

    wait = WebDriverWait(browser, 10, poll_frequency=0.05,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))
    browser.get(served + "/till")
    browser.find_element(By.CSS_SELECTOR, "label.tile:has(input[value=ana])").click()
    for key in "1357":
        browser.find_element(By.CSS_SELECTOR, f".pinpad .key[data-key='{key}']").click()
    browser.find_element(By.CSS_SELECTOR, ".pinpad .key[data-key='OK']").click()
    wait.until(lambda d: d.current_url.endswith("/till"))
    browser.find_element(By.ID, "opening-float").send_keys("500")
    browser.find_element(By.ID, "shift-open").click()
    wait.until(lambda d: d.find_element(By.ID, "till-grid").is_displayed())
    browser.find_element(By.ID, "btn-start").click()
    wait.until(lambda d: d.find_element(By.ID, "sale-state").text == "Scanning")

    web_context.checkout.on_basket(snapshot((RICE, 0.94, ()), (RICE, 0.9, ())))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#basket-lines li.offer-line"))

    def texts(d) -> tuple[str, str, str]:
        line = d.find_element(By.CSS_SELECTOR, f"li.line[data-sku='{RICE}'] .line-offer").text
        saving = d.find_element(By.CSS_SELECTOR, "li.offer-line").text
        return line, saving, d.find_element(By.ID, "t-total").text

    line, saving, total = wait.until(texts)
    assert line == "2 × Rice: RD$140.00"
    assert "2 × Rice: RD$140.00" in saving and "−RD$10.00" in saving.replace("\n", " ")
    assert total == "RD$140.00" and browser.find_element(By.ID, "t-discount").text == "−RD$10.00"
    offer_line = browser.find_element(By.CSS_SELECTOR, "li.offer-line")
    assert offer_line.is_displayed() and offer_line.rect["x"] + offer_line.rect["width"] <= 800
