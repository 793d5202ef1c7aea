"""Approvals and payment on the till's screen in a real headless Chromium, at a 800x480 touch screen and
at 1280x800 (issue 26): the void box freezes the basket and shows its items and amount, the supervisor's
approval box shows them too, and the voided record is exactly that basket although the camera went on
seeing items; a sale whose total is zero completes with no payment."""

from __future__ import annotations

import pytest

from tests.edge.web.test_cashier_api import BEANS, RICE, snapshot

pytestmark = pytest.mark.slow

# the box is drawn, inside the viewport, and nothing covers its middle
IN_VIEW = """
const el = document.getElementById(arguments[0]);
if (!el) return 'missing';
const r = el.getBoundingClientRect();
if (r.width === 0 || r.height === 0) return 'not drawn';
if (r.top < 0 || r.left < 0 || r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5)
  return 'outside the viewport: ' + [r.left, r.top, r.right, r.bottom].map(Math.round)
         + ' in ' + innerWidth + 'x' + innerHeight;
const top = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
if (top && top !== el && !el.contains(top) && !top.contains(el)) return 'covered by ' + top.outerHTML.slice(0, 80);
return 'ok';
"""


@pytest.fixture(params=[(800, 480), (1280, 800)], ids=["800x480", "1280x800"])
def window(request: pytest.FixtureRequest) -> tuple[int, int]:
    return request.param


@pytest.fixture
def till(served: str, browser, window: tuple[int, int]):
    """Ana logged in at the till with her shift open, the viewport exactly the screen's size."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    width, height = window
    inner = browser.execute_script("return [innerWidth, innerHeight];")
    outer = browser.get_window_size()
    browser.set_window_size(outer["width"] + width - inner[0], outer["height"] + height - inner[1])
    # the page redraws (and reloads once the shift opens), so elements go stale between polls
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
    return browser, wait


def _in_view(browser, element_id: str) -> str:
    return browser.execute_script(IN_VIEW, element_id)


def test_the_void_approval_shows_and_records_exactly_the_frozen_basket(till, web_context):
    from selenium.webdriver.common.by import By

    browser, wait = till
    checkout = web_context.checkout
    browser.find_element(By.ID, "btn-start").click()
    wait.until(lambda d: d.find_element(By.ID, "sale-state").text == "Scanning")
    checkout.on_basket(snapshot((RICE, 0.9, ()), (BEANS, 0.9, ())))  # 75.00 + 65.00 on the tray
    wait.until(lambda d: d.find_element(By.ID, "t-total").text == "RD$140.00")

    browser.find_element(By.ID, "btn-void").click()
    wait.until(lambda d: d.find_element(By.ID, "void-dialog").is_displayed())
    # asking for the void froze the basket: the camera sees a third item, the basket stays as shown
    assert browser.find_element(By.ID, "sale-state").text == "Review"
    assert browser.find_element(By.ID, "void-amount").text == "RD$140.00"
    assert "2 items" in browser.find_element(By.ID, "void-what").text
    checkout.on_basket(snapshot((RICE, 0.9, ()), (BEANS, 0.9, ()), (RICE, 0.9, ())))
    assert checkout.session.totals().total == 14000
    browser.find_element(By.ID, "void-reason").send_keys("customer left")
    browser.find_element(By.ID, "void-ok").click()

    wait.until(lambda d: d.find_element(By.ID, "approval-dialog").is_displayed())
    what = browser.find_element(By.ID, "approval-what").text
    assert "Void the whole sale by Ana" in what and "1 × Arroz" in what and "2 items" in what
    assert browser.find_element(By.ID, "approval-amount").text == "RD$140.00"
    for element_id in ("approval-amount", "approval-ok"):
        assert _in_view(browser, element_id) == "ok", element_id
    for key in "8024":
        browser.find_element(By.CSS_SELECTOR, f"#approval-dialog .key[data-key='{key}']").click()
    browser.find_element(By.ID, "approval-ok").click()
    wait.until(lambda d: d.find_element(By.ID, "sale-state").text == "Voided")

    voided = web_context.store.db.query_one("SELECT receipt_no FROM sales WHERE status = 'voided'")
    record = web_context.store.sales.by_receipt(voided["receipt_no"])
    assert record.total == 14000 and sorted((ln.sku, ln.qty) for ln in record.lines) == [(BEANS, 1), (RICE, 1)]


def test_cancelling_the_void_lets_the_camera_follow_the_tray_again(till, web_context):
    from selenium.webdriver.common.by import By

    browser, wait = till
    browser.find_element(By.ID, "btn-start").click()
    wait.until(lambda d: d.find_element(By.ID, "sale-state").text == "Scanning")
    web_context.checkout.on_basket(snapshot((RICE, 0.9, ())))
    wait.until(lambda d: d.find_element(By.ID, "t-total").text == "RD$75.00")
    browser.find_element(By.ID, "btn-void").click()
    wait.until(lambda d: d.find_element(By.ID, "void-dialog").is_displayed())
    browser.find_element(By.CSS_SELECTOR, "#void-dialog [data-close]").click()
    wait.until(lambda d: d.find_element(By.ID, "sale-state").text == "Scanning")
    web_context.checkout.on_basket(snapshot((RICE, 0.9, ()), (BEANS, 0.9, ())))
    wait.until(lambda d: d.find_element(By.ID, "t-total").text == "RD$140.00")


def test_a_zero_total_sale_completes_with_no_payment(till, web_context):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser, wait = till
    browser.find_element(By.ID, "btn-start").click()
    wait.until(lambda d: d.find_element(By.ID, "sale-state").text == "Scanning")
    browser.find_element(By.ID, "code").send_keys(RICE + Keys.ENTER)
    wait.until(lambda d: d.find_element(By.ID, "t-total").text == "RD$75.00")
    session = web_context.checkout.session
    session.override_price(session.lines[0].line_id, 0, web_context.store.users.get("maria"), "free sample")
    wait.until(lambda d: d.find_element(By.ID, "t-total").text == "RD$0.00")
    browser.find_element(By.ID, "btn-pay").click()
    wait.until(lambda d: d.find_element(By.ID, "pay-dialog").is_displayed())
    assert browser.find_element(By.ID, "pay-nothing-due").is_displayed()
    assert _in_view(browser, "pay-complete") == "ok"
    complete = browser.find_element(By.ID, "pay-complete")
    assert complete.text == "Complete with no payment" and complete.is_enabled()
    complete.click()
    wait.until(lambda d: d.find_element(By.ID, "receipt-dialog").is_displayed())
    assert "No payment due" in browser.find_element(By.ID, "receipt-text").text
    sale = web_context.store.sales.by_receipt("TILL-1-000001")
    assert sale.status == "completed" and sale.total == 0 and sale.payments == []


def test_a_supervisor_counts_the_drawer_and_closes_the_shift_that_holds_it(served: str, browser, window,
                                                                           web_context):
    """One drawer: Ana went home with her shift open; Luis cannot open his, María closes Ana's from the
    shift page with the count."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    store = web_context.store
    held = store.shifts.open("ana", 50000)
    width, height = window
    inner = browser.execute_script("return [innerWidth, innerHeight];")
    outer = browser.get_window_size()
    browser.set_window_size(outer["width"] + width - inner[0], outer["height"] + height - inner[1])
    wait = WebDriverWait(browser, 10, poll_frequency=0.05,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))
    browser.get(served + "/login?next=/shift")
    browser.find_element(By.CSS_SELECTOR, "label.tile:has(input[value=maria])").click()
    for key in "8024":
        browser.find_element(By.CSS_SELECTOR, f".pinpad .key[data-key='{key}']").click()
    browser.find_element(By.CSS_SELECTOR, ".pinpad .key[data-key='OK']").click()
    wait.until(lambda d: d.current_url.endswith("/shift"))
    assert f"Ana's shift #{held.id}" in browser.find_element(By.ID, "drawer-holder").text
    browser.find_element(By.ID, "counted-cash-other").send_keys("500")
    browser.find_element(By.ID, "shift-close-other").click()
    wait.until(lambda d: f"Shift #{held.id} closed" in d.find_element(By.ID, "shift-error").text)
    assert "expected RD$500.00, counted RD$500.00, exact" in browser.find_element(By.ID, "shift-error").text
    closed = store.shifts.get(held.id)
    assert not closed.is_open and closed.counted_cash == 50000 and store.shifts.open_on_till() == []


def test_a_line_void_approval_shows_the_line_and_its_amount(till, web_context):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser, wait = till
    browser.find_element(By.ID, "btn-start").click()
    wait.until(lambda d: d.find_element(By.ID, "sale-state").text == "Scanning")
    browser.find_element(By.ID, "code").send_keys(RICE + Keys.ENTER)
    wait.until(lambda d: d.find_element(By.ID, "t-total").text == "RD$75.00")
    browser.find_element(By.ID, "btn-pay").click()  # the customer sees the total: the line is locked
    wait.until(lambda d: d.find_element(By.ID, "pay-dialog").is_displayed())
    browser.find_element(By.ID, "pay-back").click()
    wait.until(lambda d: d.find_element(By.ID, "sale-state").text == "Review")
    browser.find_element(By.CSS_SELECTOR, f"li.line[data-sku='{RICE}'] .btn-remove").click()
    wait.until(lambda d: d.find_element(By.ID, "approval-dialog").is_displayed())
    what = browser.find_element(By.ID, "approval-what").text
    assert "Take off a line the customer has seen" in what and "1 × Arroz" in what
    assert browser.find_element(By.ID, "approval-amount").text == "RD$75.00"
    assert _in_view(browser, "approval-amount") == "ok"
    browser.find_element(By.ID, "approval-cancel").click()
    wait.until(lambda d: not d.find_element(By.ID, "approval-dialog").is_displayed())
    assert web_context.checkout.session.totals().total == 7500  # nothing was taken off
