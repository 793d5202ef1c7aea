"""An unknown item on the till's 800x480 screen, in a real headless Chromium: the camera found a product it
does not know, the line says so and asks for a barcode or a search, Pay is refused with the reason in view,
a USB scanner's barcode rings the item up as a normal priced line, and the sale is paid; the recorded sale
carries the unknown item as a vision event."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.events import UnknownItem
from tests.edge.checkout.helpers import tray, unknown_item
from tests.edge.web.test_cashier_api import BEANS, RICE, snapshot
from tests.edge.web.test_till_screen_browser import _log_in_with_pin, _wait, in_view, page_width, screen  # noqa: F401

pytestmark = pytest.mark.slow


@pytest.fixture
def window() -> tuple[int, int]:
    return (800, 480)


def scan(driver, code: str) -> None:
    """A USB barcode scanner: a burst of key presses (far under 50 ms apart) and Enter, on the page.  Sent as
    one script so a loaded test machine cannot stretch the burst into what the till reads as typing."""
    driver.execute_script("""
      for (const key of arguments[0].split('').concat(['Enter']))
        document.dispatchEvent(new KeyboardEvent('keydown', {key: key, bubbles: true, cancelable: true}));
    """, code)


def test_an_unknown_item_is_rung_up_by_its_barcode_then_paid(served: str, screen, web_context,  # noqa: F811
                                                             tmp_path: Path):
    from selenium.webdriver.common.by import By

    wait = _wait(screen)
    _log_in_with_pin(screen, served, "ana", "1357", "/till")
    screen.find_element(By.ID, "opening-float").send_keys("500")
    screen.find_element(By.ID, "shift-open").click()
    wait.until(lambda d: d.find_element(By.ID, "till-grid").is_displayed())
    screen.find_element(By.ID, "btn-start").click()
    wait.until(lambda d: d.find_element(By.ID, "sale-state").text == "Scanning")

    # the tray settles: a bag of rice the camera knows, and a product nobody enrolled
    rice = snapshot((RICE, 0.93, ())).items[0]
    web_context.checkout.on_basket(tray(rice, unknown_item(21, alternatives=((BEANS, 0.0),))))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "li.unknown-line"))
    line = screen.find_element(By.CSS_SELECTOR, "li.unknown-line")
    assert "Unknown item" in line.text and "scan its barcode or search its name" in line.text
    assert "0%" not in line.text and not line.find_elements(By.CSS_SELECTOR, ".alt")  # no 0 % alternative
    assert not line.find_elements(By.CSS_SELECTOR, ".teach-link")  # a cashier does not teach
    screen.save_screenshot(str(tmp_path / "unknown-line.png"))
    assert in_view(screen, line) == "ok"
    assert screen.find_element(By.ID, "code").get_attribute("placeholder") == "Scan or search the unknown item"
    assert screen.find_element(By.ID, "t-total").text == "RD$75.00"  # the unknown item is not priced

    # Pay is refused with the reason, in view
    screen.find_element(By.ID, "btn-pay").click()
    wait.until(lambda d: d.find_element(By.ID, "message").is_displayed())
    message = screen.find_element(By.ID, "message")
    assert "unknown item" in message.text and "barcode" in message.text
    assert in_view(screen, message) == "ok"
    assert in_view(screen, "li.unknown-line .line-main") == "ok"  # and the line it is about
    assert not screen.find_element(By.ID, "pay-dialog").is_displayed()
    screen.save_screenshot(str(tmp_path / "unknown-item.png"))

    # a USB scanner types the item's barcode anywhere on the page: the unknown line becomes beans
    barcode = web_context.store.products.get(BEANS).barcode
    scan(screen, barcode)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"li.line[data-sku='{BEANS}']"))
    assert not screen.find_elements(By.CSS_SELECTOR, "li.unknown-line")
    beans = screen.find_element(By.CSS_SELECTOR, f"li.line[data-sku='{BEANS}']")
    assert "barcode" in beans.text and "RD$65.00" in beans.text
    assert screen.find_element(By.ID, "t-total").text == "RD$140.00"
    assert page_width(screen)[0] <= page_width(screen)[1]

    # now it pays
    screen.find_element(By.ID, "btn-pay").click()
    wait.until(lambda d: d.find_element(By.ID, "pay-dialog").is_displayed())
    screen.find_element(By.ID, "cash-tendered").send_keys("200")
    screen.find_element(By.ID, "pay-complete").click()
    wait.until(lambda d: d.find_element(By.ID, "receipt-dialog").is_displayed())
    assert screen.find_element(By.ID, "receipt-change").text == "RD$60.00"

    sale = web_context.store.sales.by_receipt("TILL-1-000001")
    assert sale.total == 14000 and sorted((ln.sku, ln.source) for ln in sale.lines) == [
        (BEANS, "barcode"), (RICE, "vision")]
    assert [(e.sku, e.how) for e in sale.events if isinstance(e, UnknownItem)] == [(BEANS, "barcode")]


def test_a_wrong_camera_line_is_corrected_by_something_else_and_a_scan(served: str, screen, web_context,  # noqa: F811
                                                                        tmp_path: Path):
    from selenium.webdriver.common.by import By

    wait = _wait(screen)
    _log_in_with_pin(screen, served, "ana", "1357", "/till")
    screen.find_element(By.ID, "opening-float").send_keys("500")
    screen.find_element(By.ID, "shift-open").click()
    wait.until(lambda d: d.find_element(By.ID, "till-grid").is_displayed())
    screen.find_element(By.ID, "btn-start").click()
    wait.until(lambda d: d.find_element(By.ID, "sale-state").text == "Scanning")
    # the camera says red beans (maybe black beans): it is neither, it is rice
    web_context.checkout.on_basket(snapshot((BEANS, 0.51, (("BEAN-BLK-1LB", 0.3),))))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"li.line[data-sku='{BEANS}'] .alt-other"))
    screen.find_element(By.CSS_SELECTOR, f"li.line[data-sku='{BEANS}'] .alt-other").click()
    assert screen.find_element(By.ID, "code").get_attribute("placeholder") == "Scan or search the right product"
    scan(screen, web_context.store.products.get(RICE).barcode)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"li.line[data-sku='{RICE}']"))
    assert not screen.find_elements(By.CSS_SELECTOR, f"li.line[data-sku='{BEANS}']")
    [line] = web_context.checkout.view()["lines"]
    assert (line["sku"], line["source"], line["qty"]) == (RICE, "barcode", 1)
    assert screen.find_element(By.ID, "sale-state").text == "Review"  # the tray no longer overwrites it
    assert screen.find_element(By.ID, "code").get_attribute("placeholder") == "Scan, type a code or search a name"
