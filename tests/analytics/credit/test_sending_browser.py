"""The Credit tab in a real headless Chromium at 1280x800, for an owner who reads Spanish: she ticks Doña Carmen
(whose messages are in Spanish), sends the reminder, a double click on the button sends it once, and the SMS
arrives at the local Twilio-shaped server in Spanish; the page says so in Spanish."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import Engine

from analytics.db import make_engine
from analytics.web import create_app
from analytics.web.accounts import HubUsers
from analytics.web.credit_reminders import install_reminders
from tests.analytics.credit.outbound_servers import outbound_config, provider_server
from tests.analytics.credit.support import NOW
from tests.analytics.credit.test_sending import shop
from tests.support.browser import console_errors

pytestmark = pytest.mark.slow

WAIT_S = 20


@pytest.fixture
def window() -> tuple[int, int]:
    return (1280, 800)


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    from waitress import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(5)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = make_engine(f"sqlite:///{tmp_path / 'browser-send.db'}")
    shop(e)
    users = HubUsers(e)
    users.save("ana", "Ana Dueña", "owner", password="owner-es-pass-1", stores=["s-cr"])
    users.set_language("ana", "es")
    yield e
    e.dispose()


def test_an_owner_sends_a_reminder_in_spanish_from_the_credit_tab(engine: Engine, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    def wait(until):
        return WebDriverWait(browser, WAIT_S).until(until)

    with provider_server() as provider:
        app = create_app(engine, secret_key="test-secret", clock=lambda: NOW, testing=True)
        install_reminders(app, outbound_config(None, provider, default_region="DO"))
        with serve(app) as url:
            browser.get(f"{url}/stores/s-cr/credit")
            browser.find_element(By.ID, "user_id").send_keys("ana")
            browser.find_element(By.ID, "password").send_keys("owner-es-pass-1")
            browser.find_element(By.ID, "login-submit").click()
            wait(lambda d: d.find_elements(By.ID, "send-form"))
            section = browser.find_element(By.ID, "reminders")
            assert section.find_element(By.TAG_NAME, "h2").text == "Enviar recordatorios"
            row = browser.find_element(By.CSS_SELECTOR, 'tr[data-customer="c-carmen"]')
            assert row.find_element(By.CSS_SELECTOR, 'td[data-key="consent"]').text == "sí"
            pick = browser.find_element(By.ID, "send-pick-c-carmen")
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", pick)
            pick.click()
            Select(browser.find_element(By.ID, "send-channel")).select_by_value("sms")
            button = browser.find_element(By.ID, "send-submit")
            assert button.is_displayed() and button.text == "Enviar recordatorios"
            browser.execute_script("arguments[0].click(); arguments[0].click();", button)  # a double click
            wait(lambda d: d.find_element(By.ID, "send-form").get_attribute("data-done") == "yes")
            [line] = browser.find_elements(By.CSS_SELECTOR, "#send-results li")
            assert line.get_attribute("data-status") == "sent"
            assert line.text == "Doña Carmen Peña: enviado por SMS"
            assert not browser.find_element(By.ID, "send-error").is_displayed()
            # what reached the provider: one SMS, in Spanish, to her number in international form
            [req] = provider.requests
            assert req.form["To"] == "+18095550105"
            assert req.form["Body"].startswith("Hola Doña Carmen,") and "RD$750.50" in req.form["Body"]
            assert "¡Gracias por su preferencia!" in req.form["Body"]
            # her page lists it, in Spanish
            browser.get(f"{url}/stores/s-cr/credit/customers/c-carmen")
            wait(lambda d: d.find_elements(By.ID, "customer-reminders"))
            status = browser.find_element(By.CSS_SELECTOR, '#customer-reminders tr[data-status="sent"] .pill')
            assert status.text == "enviado"
            assert console_errors(browser) == []
