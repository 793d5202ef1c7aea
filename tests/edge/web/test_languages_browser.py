"""A full sale and the owner's dashboard in Spanish and in French, in a real headless Chromium on the
800x480 till screen: the words are the store's language (the page, and what the scripts write), the
longer words still fit (no page pushed sideways, no button whose label overflows it, Pay and the total in
view), and the receipt prints in the store's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.store import Store
from tests.edge.web.test_cashier_api import RICE, snapshot
from tests.edge.web.test_till_screen_browser import (
    _log_in_owner,
    _log_in_with_pin,
    _wait,
    in_view,
    page_width,
    sideways,
)
from tests.edge.web.test_till_screen_browser import screen as screen  # the fixture, reused

pytestmark = pytest.mark.slow

WORDS = {  # what a person reads, per language
    "es": {"scanning": "Escaneando", "pay": "Cobrar", "complete": "Completar venta",
           "receipt": "Venta completa — recibo", "sale": "VENTA", "cash": "Efectivo", "net": "Ventas netas",
           "pulse": "Ventas esta hora", "total": "RD$",
           "updated": "actualizado "},
    "fr": {"scanning": "Lecture", "pay": "Encaisser", "complete": "Terminer la vente",
           "receipt": "Vente terminée — ticket", "sale": "VENTE", "cash": "Espèces", "net": "Ventes nettes",
           "pulse": "Ventes cette heure", "total": "RD$",
           "updated": "mis à jour à "},
}

_CLIPPED = """
return [...document.querySelectorAll('button, .button, label, .pill, dt, th')].filter(el => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && el.offsetParent !== null && !el.classList.contains('sr-only')
         && el.scrollWidth > el.clientWidth + 1
         && getComputedStyle(el).overflowX !== 'visible';
}).map(el => (el.id || el.className) + ': ' + el.textContent.trim());
"""


@pytest.fixture
def window() -> tuple[int, int]:
    return (800, 480)  # the small till touch screen


@pytest.fixture(params=["es", "fr"])
def language(request: pytest.FixtureRequest, store: Store) -> str:
    store.settings.update(language=request.param)
    return request.param


def _no_script_errors(driver) -> list:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and e.get("source") != "network"]


def test_a_full_sale_in_the_stores_language_fits_the_small_till(served: str, screen, language: str,
                                                                 web_context, tmp_path: Path):
    from selenium.webdriver.common.by import By

    words = WORDS[language]
    wait = _wait(screen)
    _log_in_with_pin(screen, served, "ana", "1357", "/till")
    assert screen.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
    screen.find_element(By.ID, "opening-float").send_keys("500")
    screen.find_element(By.ID, "shift-open").click()
    wait.until(lambda d: d.find_element(By.ID, "till-grid").is_displayed())
    screen.find_element(By.ID, "btn-start").click()
    wait.until(lambda d: d.find_element(By.ID, "sale-state").text == words["scanning"])  # written by cashier.js
    web_context.checkout.on_basket(snapshot((RICE, 0.94, ()), (RICE, 0.9, ())))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#basket-lines li.line[data-sku='{RICE}']"))
    wait.until(lambda d: d.find_element(By.ID, "btn-pay").is_displayed())
    screen.save_screenshot(str(tmp_path / f"sale-{language}.png"))
    assert screen.find_element(By.ID, "btn-pay").text == words["pay"]
    assert words["total"] in screen.find_element(By.ID, "t-total").text
    shown = {what: in_view(screen, target) for what, target in (
        ("pay", "#btn-pay"), ("void", "#btn-void"), ("discount", "#btn-discount"), ("total", "#t-total"),
        ("first line", "#basket-lines li.line"), ("code entry", "#code"))}
    assert shown == dict.fromkeys(shown, "ok")
    width, viewport = page_width(screen)
    assert width <= viewport, (width, viewport)
    assert screen.execute_script(_CLIPPED) == []

    screen.find_element(By.ID, "btn-pay").click()
    wait.until(lambda d: d.find_element(By.ID, "pay-dialog").is_displayed())
    screen.find_element(By.ID, "cash-tendered").send_keys("1000")
    wait.until(lambda d: d.find_element(By.ID, "pay-complete").get_attribute("disabled") is None)
    screen.save_screenshot(str(tmp_path / f"pay-{language}.png"))
    assert screen.find_element(By.ID, "pay-complete").text == words["complete"]
    assert screen.execute_script(_CLIPPED) == []
    screen.find_element(By.ID, "pay-complete").click()
    wait.until(lambda d: d.find_element(By.ID, "receipt-dialog").is_displayed())
    screen.save_screenshot(str(tmp_path / f"receipt-{language}.png"))
    assert screen.find_element(By.ID, "receipt-title").text.startswith(words["receipt"])
    receipt = screen.find_element(By.ID, "receipt-text").text
    assert words["sale"] in receipt and words["cash"] in receipt
    assert in_view(screen, "#receipt-new") == "ok"
    assert _no_script_errors(screen) == []


def test_the_dashboard_in_the_stores_language_fits_the_small_screen(served: str, screen, language: str,
                                                                    login_as, tmp_path: Path):
    from tests.edge.web.test_cashier_api import open_shift, sell

    words = WORDS[language]
    ana = login_as("cashier")
    open_shift(ana)
    sell(ana, [(RICE, 2)])
    _log_in_owner(screen, served, "/dashboard")
    _wait(screen, 15).until(lambda d: words["pulse"].lower() in d.find_element("id", "pulse").text.lower())
    screen.execute_script("return window.TillsightDashboard.refresh();")  # what dashboard.js writes every 30 s
    _wait(screen, 15).until(lambda d: d.find_element("id", "pulse-status").text.startswith(words["updated"]))
    assert words["pulse"].lower() in screen.find_element("id", "pulse").text.lower()  # labels are in capitals
    screen.save_screenshot(str(tmp_path / f"dashboard-{language}.png"))
    assert words["net"] in screen.page_source
    width, viewport = page_width(screen)
    assert width <= viewport, ("dashboard", width, viewport)
    assert sideways(screen) == []
    assert _no_script_errors(screen) == []
