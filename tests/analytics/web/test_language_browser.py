"""The language layer's hub tabs in a real headless Chromium: the Insights tab (an owner rewrites the
daily narrative with the button, through the stand-in model, and sees the checked text with its source
mark and the dropped figure; without a model the rewrite is the computed narrative, marked as such),
the Credit tab (risk scores, their factors and the collections list; the message composer writes the
SMS, WhatsApp and e-mail texts in Spanish with the amount in the store's currency), and the AI usage
tab (an operator tops up a store's credits with the form and sees the balance and the ledger entry)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine

from analytics.db import make_engine
from analytics.llm import AIService
from analytics.web import create_app
from analytics.web.accounts import HubUsers
from firmware_config import load_config
from tests.analytics.credit.support import NOW as CREDIT_NOW
from tests.analytics.credit.support import four_customers
from tests.analytics.llm.conftest import Clocks, build_service
from tests.analytics.web.seed import PASSWORDS, A
from tests.support.browser import console_errors
from tests.support.llm_server import ChatServer, Reply, llm_server  # noqa: F401 - pytest fixture

pytestmark = pytest.mark.slow

WAIT_S = 20


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """The app served in-process by waitress on a free port; yields its base URL."""
    from waitress import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(5)


def wait(browser, until, timeout: float = WAIT_S):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(until)


def open_logged_in(browser, url: str, user: str, password: str, ready_id: str) -> None:
    """Open ``url``; the hub sends an anonymous visitor to the login form, which brings them back."""
    from selenium.webdriver.common.by import By

    browser.get(url)
    assert "/login?next=" in browser.current_url
    browser.find_element(By.ID, "user_id").send_keys(user)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "login-submit").click()
    wait(browser, lambda d: d.find_elements(By.ID, ready_id))
    assert "/login" not in browser.current_url


def texts(scope, css: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text for e in scope.find_elements(By.CSS_SELECTOR, css)]


def rows(browser, table_id: str) -> list[dict[str, str]]:
    """A data table's body rows as {column key: shown text}."""
    from selenium.webdriver.common.by import By

    return [{td.get_attribute("data-key"): td.text for td in tr.find_elements(By.TAG_NAME, "td")}
            for tr in browser.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr")]


def regenerate_daily(browser) -> None:
    """Click the daily narrative's "Write again" and wait for the page to reload with the new one."""
    from selenium.webdriver.common.by import By

    section = browser.find_element(By.ID, "narrative-daily")
    button = section.find_element(By.CSS_SELECTOR, "button.regen")
    assert button.text == "Write again"
    browser.execute_script("window.__before_reload = true;")
    button.click()
    wait(browser, lambda d: d.execute_script("return window.__before_reload === undefined;")
         and d.find_elements(By.ID, "narrative-daily"))


def test_insights_owner_rewrites_the_daily_narrative_with_and_without_the_ai(
        hub_engine: Engine, clock: dict, llm_server: ChatServer, browser) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    cfg = load_config(None, env={}, overrides={"llm": {"base_url": llm_server.base_url, "model": "stand-in-1",
                                                       "timeout_s": 2.0, "max_retries": 0}})
    with_ai = create_app(hub_engine, secret_key="test-secret", clock=lambda: clock["now"], testing=True,
                         ai=AIService.from_config(hub_engine, cfg))
    llm_server.script(Reply.json({"title": "Friday 20 November", "what_happened": [
        "One sale brought RD$7.00.", "Sales hit RD$9,999 on rice."], "what_changed": [], "what_to_do": [],
        "risks": []}))
    with serve(with_ai) as url:
        open_logged_in(browser, f"{url}/stores/{A}/insights", "ann", PASSWORDS["ann"], "narrative-daily")
        assert browser.find_element(By.CSS_SELECTOR, "#store-tabs a.current").text == "Insights"
        assert browser.find_element(By.ID, "ai-state").text.startswith("Written by the AI model stand-in-1")
        # nothing stored yet: the page shows a computed narrative and has not called the model
        assert browser.find_element(By.ID, "narrative-daily").get_attribute("data-source") == "computed"
        assert llm_server.calls == 0
        regenerate_daily(browser)
        daily = browser.find_element(By.ID, "narrative-daily")
        assert daily.get_attribute("data-source") == "llm"
        assert llm_server.calls == 1
        # the checked sentence is shown, the one with a made-up figure is not, and the page says so
        assert texts(daily, ".narrative-what_happened li") == ["One sale brought RD$7.00."]
        assert "RD$9,999 on rice" not in daily.text
        assert daily.find_element(By.CSS_SELECTOR, ".source-mark .pill").text == "written by AI, figures checked"
        assert browser.find_element(By.ID, "unsupported-daily").text == (
            "Dropped 1 sentence with figures not in your data: RD$9,999")
        assert browser.find_element(By.ID, "insights-error").get_attribute("hidden") is not None
        assert console_errors(browser) == []

    # the same hub without an AI endpoint: the stored AI narrative is still shown until the owner rewrites
    # it, and the rewrite is the computed one, marked as such, without a call to any model
    browser.delete_all_cookies()
    without_ai = create_app(hub_engine, secret_key="test-secret", clock=lambda: clock["now"], testing=True, ai=None)
    with serve(without_ai) as url:
        open_logged_in(browser, f"{url}/stores/{A}/insights", "ann", PASSWORDS["ann"], "narrative-daily")
        assert browser.find_element(By.ID, "ai-state").text == (
            "No AI endpoint is configured: everything here is computed from your figures (no AI).")
        assert browser.find_element(By.ID, "narrative-daily").get_attribute("data-source") == "llm"
        regenerate_daily(browser)
        daily = browser.find_element(By.ID, "narrative-daily")
        assert daily.get_attribute("data-source") == "computed"
        assert daily.find_element(By.CSS_SELECTOR, ".source-mark .pill").text == "computed from your figures (no AI)"
        happened = texts(daily, ".narrative-what_happened li")
        assert happened and "One sale brought RD$7.00." not in happened
        assert any("RD$" in s for s in happened)  # the computed text states the day's money in the store currency
        assert not browser.find_elements(By.ID, "unsupported-daily")
        assert llm_server.calls == 1
        assert console_errors(browser) == []


@pytest.fixture
def credit_engine(tmp_path: Path) -> Iterator[Engine]:
    """Store ``s-cr`` with the four known credit histories, and its owner Ann."""
    engine = make_engine(f"sqlite:///{tmp_path / 'credit.db'}")
    four_customers().write(engine)
    users = HubUsers(engine)
    users.save("ann", "Ann Owner", "owner", password="owner-cr-pass-1", stores=["s-cr"])
    yield engine
    engine.dispose()


def test_credit_owner_sees_risk_and_collections_and_writes_a_spanish_message(credit_engine: Engine,
                                                                             browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    app = create_app(credit_engine, secret_key="test-secret", clock=lambda: CREDIT_NOW, testing=True)
    with serve(app) as url:
        open_logged_in(browser, f"{url}/stores/s-cr/credit", "ann", "owner-cr-pass-1", "composer-form")
        assert browser.find_element(By.CSS_SELECTOR, "#store-tabs a.current").text == "Credit"
        assert browser.find_element(By.CSS_SELECTOR, "#kpi-total-owed .value").text == "RD$3,160.00"
        assert browser.find_element(By.CSS_SELECTOR, "#kpi-overdue .value").text == "RD$1,220.00"
        # the collections list: who to ask first, with the amount, the risk and the expected payment
        priority = rows(browser, "credit-priority")
        assert [(r["name"], r["balance"]) for r in priority] == [
            ("Luis Late", "RD$1,860.00"), ("Pedro Stopped", "RD$600.00"), ("Nina New", "RD$400.00"),
            ("Rosa Reliable", "RD$300.00")]
        assert priority[0]["predicted_payment_date"] == "2026-12-02"
        # the customers with their risk score, band and the factors behind it
        customers = {r["name"]: r for r in rows(browser, "credit-customers")}
        assert set(customers) == {"Luis Late", "Pedro Stopped", "Nina New", "Rosa Reliable"}
        assert (customers["Luis Late"]["risk_score"], customers["Luis Late"]["risk_band"]) == ("75", "high")
        assert "balance 93 % of limit" in customers["Luis Late"]["risk_factors"]
        assert "no repayment for 91 days" in customers["Pedro Stopped"]["risk_factors"]
        assert (customers["Rosa Reliable"]["risk_score"], customers["Rosa Reliable"]["risk_band"]) == ("10", "low")
        assert "pays within 5 days on average" in customers["Rosa Reliable"]["positive_factors"]
        assert "little history" in customers["Nina New"]["notes"]
        assert customers["Nina New"]["risk_score"] == "50"

        # the composer: Luis, firm, in Spanish
        assert browser.find_element(By.ID, "composer-result").get_attribute("hidden") is not None
        Select(browser.find_element(By.ID, "composer-customer")).select_by_value("c-late")
        Select(browser.find_element(By.ID, "composer-tone")).select_by_value("firm")
        Select(browser.find_element(By.ID, "composer-language")).select_by_value("es")
        browser.find_element(By.ID, "composer-submit").click()
        wait(browser, lambda d: d.find_element(By.ID, "composer-form").get_attribute("data-ready") == "yes")
        assert browser.find_element(By.ID, "composer-result").is_displayed()
        assert not browser.find_element(By.ID, "composer-error").is_displayed()

        def shown(element_id: str) -> str:
            return browser.find_element(By.ID, element_id).get_attribute("textContent")

        assert shown("composer-source") == "computed"
        assert shown("composer-note").startswith("computed from your figures (no AI)")
        assert shown("composer-sms") == ("Luis, su saldo en Colmado Ana es RD$1,860.00. Por favor, páguelo en el "
                                         "mostrador esta semana. Gracias por su preferencia.")
        assert shown("composer-sms-info") == "(121 characters, 2 SMS, ucs-2)"
        whatsapp = shown("composer-whatsapp")
        assert whatsapp.startswith("Hola Luis:\nSu saldo en Colmado Ana es de *RD$1,860.00*")
        assert "pendiente desde el 21 de octubre de 2026" in whatsapp
        assert shown("composer-subject") == "Su saldo de RD$1,860.00 en Colmado Ana"
        email = shown("composer-email")
        assert email.startswith("Hola Luis:\n\nSu cuenta en Colmado Ana tiene un saldo de RD$1,860.00")
        assert "Gracias por su preferencia." in email and "Luis Late" not in email
        assert console_errors(browser) == []


def test_operator_tops_up_credits_with_the_form_and_sees_balance_and_ledger(
        hub_engine: Engine, clock: dict, llm_server: ChatServer, browser) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    ai = build_service(hub_engine, llm_server, Clocks(), starting_credits=100, daily_cap=40, monthly_cap=300,
                       max_retries=0)
    app = create_app(hub_engine, secret_key="test-secret", clock=lambda: clock["now"], testing=True, ai=ai)
    with serve(app) as url:
        open_logged_in(browser, f"{url}/stores/{A}/ai", "op", PASSWORDS["op"], "ai-credits-form")
        assert browser.find_element(By.CSS_SELECTOR, "#store-tabs a.current").text == "AI usage"
        assert browser.find_element(By.CSS_SELECTOR, "#kpi-ai-balance .value").text == "100"
        assert not [r for r in rows(browser, "ai-ledger") if r["kind"] == "topup"]

        form = browser.find_element(By.ID, "ai-credits-form")
        browser.find_element(By.ID, "ai-add").send_keys("500")
        browser.find_element(By.ID, "ai-note").send_keys("November pack")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait(browser, lambda d: d.find_elements(By.ID, "ai-done"))
        assert browser.current_url.endswith(f"/stores/{A}/ai?done=saved")
        assert browser.find_element(By.ID, "ai-done").text == "Saved."
        assert browser.find_element(By.CSS_SELECTOR, "#kpi-ai-balance .value").text == "600"
        assert "of a daily cap of 40" in browser.find_element(By.ID, "kpi-ai-today").text  # caps kept
        topups = [r for r in rows(browser, "ai-ledger") if r["kind"] == "topup"]
        assert len(topups) == 1
        assert (topups[0]["credit_change"], topups[0]["balance_after"], topups[0]["note"]) == (
            "500", "600", "by op: November pack")
        assert ai.account(A).balance == 600
        assert console_errors(browser) == []

        # a mistyped amount: the form says what is wrong, keeps what was typed and changes nothing
        browser.find_element(By.ID, "ai-add").send_keys("lots")
        browser.find_element(By.CSS_SELECTOR, "#ai-credits-form button[type=submit]").click()
        wait(browser, lambda d: d.find_elements(By.ID, "ai-error"))
        assert "Credits to add must be a whole number" in browser.find_element(By.ID, "ai-error").text
        assert browser.find_element(By.ID, "ai-add").get_attribute("value") == "lots"
        assert browser.find_element(By.CSS_SELECTOR, "#kpi-ai-balance .value").text == "600"
        assert len([r for r in rows(browser, "ai-ledger") if r["kind"] == "topup"]) == 1
        assert ai.account(A).balance == 600
        # the form's 400 answer is the browser's only console error; nothing else failed
        assert [e.split(" - ")[0] for e in console_errors(browser)] == [f"{url}/stores/{A}/ai/credits"]
