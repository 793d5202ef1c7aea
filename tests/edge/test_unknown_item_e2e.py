"""The issue's unknown-item acceptance test, end to end in one process: the appliance built from its config
on the synthetic camera with two-stage recognition and a gallery of a few demo products; a product nobody
enrolled is put on the tray; on the 800x480 till screen (real headless Chromium) it shows as an unknown
item, Pay is refused, the cashier scans its barcode, the line is priced and the sale is paid.  The crop of
the item is then waiting as a gallery candidate for the owner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.events import UnknownItem
from edge.appliance import Appliance
from tests.edge.web.test_till_screen_browser import _log_in_with_pin, _wait, in_view, screen  # noqa: F401
from tests.edge.web.test_unknown_items_browser import scan
from tests.support.recognising_till import recognising_till
from vision.unenrolled import unenrolled_product

pytestmark = pytest.mark.slow

ENROLLED = 4  # the first demo products make the store's gallery (enough to tell known from unknown)


@pytest.fixture
def window() -> tuple[int, int]:
    return (800, 480)


@pytest.fixture
def till(tmp_path: Path, demo_bundle: Path) -> Iterator[tuple[Appliance, str]]:
    with recognising_till(tmp_path, demo_bundle, seed=3, enrolled=ENROLLED) as running:
        yield running


def test_an_unenrolled_product_on_the_tray_is_an_unknown_item_the_cashier_rings_up_by_barcode(
        till: tuple[Appliance, str], screen, tmp_path: Path):  # noqa: F811
    from selenium.webdriver.common.by import By

    appliance, base = till
    new = unenrolled_product(1)
    # the shop sells it (it is in the catalogue with its barcode) but nobody taught the camera
    appliance.store.products.upsert(new.sku, new.name, new.price, barcode=new.barcode, category=new.category)
    source = appliance.vision.source
    source.add_products([new])

    wait = _wait(screen, 30)
    _log_in_with_pin(screen, base, "ana", "1357", "/till")
    screen.find_element(By.ID, "opening-float").send_keys("500")
    screen.find_element(By.ID, "shift-open").click()
    wait.until(lambda d: d.find_element(By.ID, "till-grid").is_displayed())
    screen.find_element(By.ID, "btn-start").click()
    wait.until(lambda d: d.find_element(By.ID, "sale-state").text == "Scanning")

    source.show([new.sku])  # the new product alone on the tray
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "li.unknown-line"))
    line = screen.find_element(By.CSS_SELECTOR, "li.unknown-line")
    assert "Unknown item" in line.text and "scan its barcode" in line.text
    assert not screen.find_elements(By.CSS_SELECTOR, f"li.line[data-sku='{new.sku}']")  # never a guessed SKU
    assert [ln["sku"] for ln in appliance.checkout.view()["lines"]] == [None]  # never a silent omission
    assert in_view(screen, line) == "ok"
    screen.save_screenshot(str(tmp_path / "unknown-on-tray.png"))

    screen.find_element(By.ID, "btn-pay").click()
    wait.until(lambda d: "unknown item" in d.find_element(By.ID, "message").text)
    assert not screen.find_element(By.ID, "pay-dialog").is_displayed()

    # the cashier scans the product's barcode with the USB scanner
    scan(screen, new.barcode)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"li.line[data-sku='{new.sku}']"))
    assert not screen.find_elements(By.CSS_SELECTOR, "li.unknown-line")
    # a few more settled baskets of the same tray reach the checkout: the line must not come back or double
    turns = appliance.vision.loop.progress
    wait.until(lambda d: appliance.vision.loop.progress >= turns + 5)
    assert [(ln["sku"], ln["source"]) for ln in appliance.checkout.view()["lines"]] == [(new.sku, "barcode")]

    screen.find_element(By.ID, "btn-pay").click()
    wait.until(lambda d: d.find_element(By.ID, "pay-dialog").is_displayed())
    screen.find_element(By.ID, "cash-tendered").send_keys("200")
    screen.find_element(By.ID, "pay-complete").click()
    wait.until(lambda d: d.find_element(By.ID, "receipt-dialog").is_displayed())

    sale = appliance.store.sales.by_receipt("TILL-1-000001")
    assert [(ln.sku, ln.qty, ln.unit_price, ln.source) for ln in sale.lines] == [(new.sku, 1, new.price, "barcode")]
    assert [(e.sku, e.how) for e in sale.events if isinstance(e, UnknownItem)] == [(new.sku, "barcode")]
    # the camera's picture of it waits for the owner as a candidate example of the new SKU
    assert appliance.checkout.corrections.wait_idle(10)
    [candidate] = appliance.checkout.corrections.candidates.pending()
    assert (candidate.sku, candidate.how, candidate.camera_said) == (new.sku, "barcode", None)
