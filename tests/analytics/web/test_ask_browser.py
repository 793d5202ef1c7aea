"""The Ask tab in a real headless Chromium: an owner types a question in the chat box and sees the
answer text, its table and the source mark, then clicks a follow-up question."""

from __future__ import annotations

import pytest

from tests.analytics.web.seed import PASSWORDS, A
from tests.support.browser import console_errors

pytestmark = pytest.mark.slow


def test_owner_asks_a_question_and_sees_the_answer_with_its_table(served: str, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{served}/stores/{A}/ask")
    assert "/login?next=" in browser.current_url
    browser.find_element(By.ID, "user_id").send_keys("ann")
    browser.find_element(By.ID, "password").send_keys(PASSWORDS["ann"])
    browser.find_element(By.ID, "login-submit").click()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "ask")
                                     and d.find_element(By.ID, "ask").get_attribute("data-ready") == "yes")
    assert browser.find_element(By.CSS_SELECTOR, "#store-tabs a.current").text == "Ask"
    box = browser.find_element(By.ID, "ask-question")
    box.send_keys("What were sales today?")
    browser.find_element(By.ID, "ask-submit").click()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".ask-exchange .ask-text"))
    exchange = browser.find_element(By.CSS_SELECTOR, ".ask-exchange")
    assert exchange.find_element(By.CSS_SELECTOR, ".ask-text").text == (
        "Sales on Saturday 21 Nov 2026: RD$130.00 net in 2 sales, average basket RD$75.00 (1 refund netted).")
    assert exchange.find_element(By.CSS_SELECTOR, ".ask-mark").text == "computed (no AI)"
    cells = {td.get_attribute("data-key"): td.text for td in exchange.find_elements(By.CSS_SELECTOR, "tbody td")}
    assert cells == {"day": "2026-11-21", "net_sales": "RD$130.00", "sales": "2", "average": "RD$75.00"}
    # a follow-up question is one click away, and asks at once
    follow = exchange.find_elements(By.CSS_SELECTOR, ".ask-follow-ups .ask-follow-up")
    assert len(follow) == 3
    follow[0].click()
    WebDriverWait(browser, 15).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".ask-exchange")) == 2)
    second = browser.find_elements(By.CSS_SELECTOR, ".ask-exchange")[1]
    assert second.find_element(By.CSS_SELECTOR, ".ask-q").text.startswith("Q: " + follow[0].text)
    # the history survives a reload
    browser.refresh()
    WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "ask").get_attribute("data-answers") == "2")
    assert console_errors(browser) == []
