"""Pricing reasons, suggestion kinds and the deployment page's tags in the reader's language (issue 28):
the reason is kept as phrases with their figures and worded where it is shown, so a Spanish or French
owner reads it in their language, with money and numbers written their way, and the fact check still
passes on the localized text; the JSON keeps the English reason beside the reader's.  Every value the
report can carry has a word (words.py)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine

from analytics.pricing import changes as ch
from analytics.pricing import words
from analytics.pricing.suggest import ACTIONABLE, WHERE
from analytics.web.accounts import HubUsers
from analytics.web.fleet import DEPLOYMENT_KINDS, DEPLOYMENT_STATES
from i18n import translate_in
from tests.analytics.pricing.test_approval import coffee  # noqa: F401 - the fixture
from tests.analytics.web.seed import DEPLOY_MODEL, A


def _row(html: str, sku: str) -> str:
    row = re.search(rf'<tr id="suggestion-{sku}" data-kind="(\w+)">(.*?)</tr>', html, re.S)
    assert row, html[:2000]
    return row.group(2)


def test_an_owner_reads_the_reason_in_spanish_and_french_and_it_is_still_checked(
        coffee: Engine, login_as: Any) -> None:  # noqa: F811
    users = HubUsers(coffee)
    users.set_language("ann", "es")
    ann = login_as("ann")
    row = _row(ann.get(f"/stores/{A}/pricing").get_data(as_text=True), "COFFEE")
    assert "Subir el precio de RD$200.00 a RD$220.00" in row, row
    assert ">subir<" in row and "Su elasticidad precio es" in row
    assert 'pill bad' not in row  # every figure of the Spanish reason passed the fact check
    api = ann.get(f"/api/stores/{A}/pricing").get_json()
    coffee_row = next(s for s in api["suggestions"] if s["sku"] == "COFFEE")
    assert "Its price elasticity is" in coffee_row["reason"] and coffee_row["kind"] == "increase"
    assert "Subir el precio" in coffee_row["reason_shown"] and coffee_row["reason_shown_checked"]

    users.set_language("ann", "fr")
    row = _row(ann.get(f"/stores/{A}/pricing").get_data(as_text=True), "COFFEE")
    assert re.search(r"Augmenter le prix de 200,00\sRD\$ à 220,00\sRD\$", row), row
    assert ">augmenter<" in row and "intervalle à 80" in row and 'pill bad' not in row

    # a decision is worded in the reader's language too
    assert ann.post(f"/stores/{A}/pricing/decide", data={"sku": "COFFEE", "action": "reject"}).status_code == 303
    html = ann.get(f"/stores/{A}/pricing").get_data(as_text=True)
    other = re.search(r'<tr id="other-COFFEE" data-kind="rejected">(.*?)</tr>', html, re.S)
    assert other and "Refusé par ann" in other.group(1)


def test_every_value_of_the_report_has_a_word() -> None:
    assert set(ACTIONABLE) | {"keep", "none", "pending", "rejected"} <= set(words.KINDS)
    assert set(ch.STATUSES) <= set(words.STATUSES)
    assert set(WHERE) | {"none"} <= set(words.SOURCES)
    assert set(ch.OFFER_KINDS) <= set(words.OFFER_KINDS)
    for value in list(words.ALL):
        assert translate_in("es", words.ALL[value]) != words.ALL[value] or value == "normal", value


def test_the_deployment_page_says_its_kind_and_state_in_the_readers_language(hub_engine: Engine,
                                                                            login_as: Any) -> None:
    HubUsers(hub_engine).set_language("op", "es")
    html = login_as("op").get(f"/fleet/deployments/{DEPLOY_MODEL}").get_data(as_text=True)
    state = re.search(r'id="deployment-state" data-state="(\w+)">([^<]+)<', html)
    assert state, html[:2000]
    assert state.group(2) == translate_in("es", DEPLOYMENT_STATES[state.group(1)]) != state.group(1)
    title = re.search(r'<h1 id="deployment-title">([^<]+)<', html)
    assert title and title.group(1).startswith(translate_in("es", DEPLOYMENT_KINDS["model"]) + " v")
    assert translate_in("es", DEPLOYMENT_KINDS["model"]) != "Model"
