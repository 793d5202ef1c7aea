"""A hub page in Spanish and in French in a real headless Chromium at 1280x800: an owner picks Spanish
on the account page, the navigation, the Ask tab and its computed answer (text, table headings, money
as the Dominican Republic writes it) read in Spanish; switching to French changes them again (money
"130,00 RD$"), and nothing overflows the window sideways."""

from __future__ import annotations

import pytest

from tests.analytics.web.seed import PASSWORDS, A
from tests.support.browser import console_errors

pytestmark = pytest.mark.slow


@pytest.fixture
def window() -> tuple[int, int]:
    return (1280, 800)


def _pick_language(browser, served: str, code: str) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(f"{served}/account")
    Select(browser.find_element(By.ID, "account-language")).select_by_value(code)
    browser.find_element(By.ID, "account-submit").click()
    return browser.find_element(By.ID, "account-saved").text


def _ask(browser, served: str, question: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{served}/stores/{A}/ask")
    WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "ask").get_attribute("data-ready") == "yes")
    before = len(browser.find_elements(By.CSS_SELECTOR, ".ask-exchange"))
    browser.find_element(By.ID, "ask-question").send_keys(question)
    browser.find_element(By.ID, "ask-submit").click()
    WebDriverWait(browser, 15).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".ask-exchange")) == before + 1)
    return browser.find_elements(By.CSS_SELECTOR, ".ask-exchange")[-1]


def _no_sideways_overflow(browser) -> None:
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def test_an_owner_reads_the_ask_tab_in_spanish_then_in_french(served: str, browser) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{served}/login")
    browser.find_element(By.ID, "user_id").send_keys("ann")
    browser.find_element(By.ID, "password").send_keys(PASSWORDS["ann"])
    browser.find_element(By.ID, "login-submit").click()

    assert _pick_language(browser, served, "es").startswith("Guardado: sus páginas se muestran ahora en")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es"
    assert browser.find_element(By.ID, "logout").text == "Salir"
    exchange = _ask(browser, served, "¿Cuánto vendí hoy?")
    assert browser.find_element(By.CSS_SELECTOR, "#store-tabs a.current").text == "Preguntar"
    assert browser.find_element(By.CSS_SELECTOR, "#ask h2").text.startswith("Pregunte sobre")
    assert exchange.find_element(By.CSS_SELECTOR, ".ask-text").text == (
        "Ventas el sábado 21 nov 2026: RD$130.00 netos en 2 ventas, compra media RD$75.00 (descontando 1 devolución).")
    assert exchange.find_element(By.CSS_SELECTOR, ".ask-mark").text == "calculado (sin IA)"
    heads = [th.text for th in exchange.find_elements(By.CSS_SELECTOR, "thead th")]
    assert heads == ["Día", "Ventas netas", "Ventas", "Compra media"]
    cells = {td.get_attribute("data-key"): td.text for td in exchange.find_elements(By.CSS_SELECTOR, "tbody td")}
    assert cells["net_sales"] == "RD$130.00" and cells["sales"] == "2"
    assert exchange.find_element(By.CSS_SELECTOR, ".ask-q").text.startswith("P: ¿Cuánto vendí hoy?")
    _no_sideways_overflow(browser)

    assert _pick_language(browser, served, "fr").startswith("Enregistré : vos pages sont maintenant affichées en")
    exchange = _ask(browser, served, "Combien j'ai vendu aujourd'hui ?")
    assert browser.find_element(By.CSS_SELECTOR, "#store-tabs a.current").text == "Demander"
    text = exchange.find_element(By.CSS_SELECTOR, ".ask-text").text.replace("\u202f", " ").replace("\u00a0", " ")
    assert text == ("Ventes le samedi 21 nov. 2026 : 130,00 RD$ nets en 2 ventes, panier moyen 75,00 RD$ "
                    "(après déduction de 1 remboursement).")
    cells = {td.get_attribute("data-key"): td.text.replace("\u202f", " ").replace("\u00a0", " ")
             for td in exchange.find_elements(By.CSS_SELECTOR, "tbody td")}
    assert cells["net_sales"] == "130,00 RD$" and cells["average"] == "75,00 RD$"
    assert browser.find_element(By.CSS_SELECTOR, "#nav a").text == "Magasins"
    _no_sideways_overflow(browser)
    assert console_errors(browser) == []
