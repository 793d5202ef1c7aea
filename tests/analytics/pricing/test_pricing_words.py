"""What the Pricing page says about a decision, in the owner's language: an edited price that breaks a guard
rail is refused naming the rail in the owner's words, and the times in a decision's note are the store's
local time written the reader's way (not the stored UTC text)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine

from analytics.pricing.rails import GuardRails, broken_rail, check_price
from analytics.pricing.reasons import render
from analytics.web.accounts import HubUsers
from i18n import use_language
from tests.analytics.pricing.test_approval import coffee  # noqa: F401 - the fixture
from tests.analytics.web.seed import A


def _refusal(session: Any, price: str) -> str:
    got = session.post(f"/stores/{A}/pricing/decide", data={"sku": "COFFEE", "action": "approve", "price": price})
    assert got.status_code == 400
    text = got.get_data(as_text=True)
    err = re.search(r'class="[^"]*error[^"]*"[^>]*>(.*?)<', text, re.S)
    return err.group(1) if err else text


def test_a_broken_rail_is_named_in_the_owners_language(coffee: Engine, login_as: Any) -> None:  # noqa: F811
    users = HubUsers(coffee)
    users.set_language("ann", "es")
    ann = login_as("ann")
    step = _refusal(ann, "250.00")  # RD$200.00 today: 10 % is the largest step
    assert "no respeta un límite" in step and "más alto por paso" in step and "higher per step" not in step
    ending = _refusal(ann, "212.30")  # inside the step, but no shop ending (.00, .50, 5s)
    assert "no es una de las terminaciones de precio de la tienda (.00, .50, 5s)" in ending

    users.set_language("ann", "fr")
    ann = login_as("ann")
    assert "plus haut par étape" in _refusal(ann, "250.00")
    assert "ne finit pas comme les prix de la boutique" in _refusal(ann, "212.30")


def test_each_rail_has_words_and_the_english_text_is_unchanged() -> None:
    rails = GuardRails(min_margin=0.15, max_step=0.05, endings=(".00",))
    cases = {(0, 10000, None): "a price must be above zero", (995, 1000, 1050): "below cost",
             (9000, 10000, 5000): "at most 5% lower per step", (12000, 10000, 5000): "at most 5% higher per step",
             (9600, 10000, 9000): "keeps at least a 15% margin", (10250, 10000, 5000):
             "not one of the shop's price endings (.00)"}
    for (price, current, cost), english in cases.items():
        assert check_price(price, current, cost, rails, "GBP") == english
        phrase = broken_rail(price, current, cost, rails, "GBP")
        assert phrase is not None
        with use_language("es"):
            assert render(phrase, "GBP") != english, english
    assert broken_rail(10000, 10000, 5000, rails, "GBP") is None


def test_decision_times_are_in_store_time_the_readers_way(coffee: Engine, login_as: Any) -> None:  # noqa: F811
    ann = login_as("ann")
    done = ann.post(f"/stores/{A}/pricing/decide", data={"sku": "COFFEE", "action": "approve", "price": "215.00",
                                                         "effective": "2026-11-22T08:00"})
    assert done.status_code == 303

    def note() -> str:
        html = ann.get(f"/stores/{A}/pricing").get_data(as_text=True)
        row = re.search(r'<tr id="other-COFFEE" data-kind="pending">(.*?)</tr>', html, re.S)
        assert row, html[:3000]
        return row.group(1)

    english = note()
    # stored as 2026-11-22T12:00:00Z; the store is in Santo Domingo (UTC-4)
    assert "effective 2026-11-22 08:00 AST" in english and "12:00:00Z" not in english
    HubUsers(coffee).set_language("ann", "es")
    ann = login_as("ann")
    spanish = note()
    assert "vigente desde 22 nov 2026, 08:00 AST" in spanish, spanish


def test_rails_out_of_range_are_refused_in_the_owners_words(coffee: Engine, login_as: Any) -> None:  # noqa: F811
    HubUsers(coffee).set_language("ann", "es")
    got = login_as("ann").post(f"/stores/{A}/pricing/rails", data={"min_margin": "120", "max_step": "10",
                                                                   "endings": [".00"]})
    assert got.status_code == 400
    text = got.get_data(as_text=True)
    assert "indique un porcentaje de 0 a 95" in text and "must be between" not in text
