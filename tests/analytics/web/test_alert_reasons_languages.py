"""Anomaly reasons on the hub in the reader's language (issue 28): the device stores and sends them as English
sentences; the store page's alerts, the alerts API (``reasons_text`` beside the stored ``reasons``) and the
insights page's alerts API re-word them for a Spanish or French user, with the amounts inside written their
way, and leave them as stored for an English one.  A sentence of no known template is shown as stored."""

from __future__ import annotations

import csv
import io
import json

import pytest
from flask import Flask
from sqlalchemy import Engine, update

from analytics.db import tables as t
from analytics.web.accounts import HubUsers
from tests.analytics.narratives.test_texts_languages import _device_reasons
from tests.analytics.web.seed import A

TOTAL = "total RD$50,000.00 is 100× the usual sale of RD$500.00"
SAID = {"en": TOTAL, "es": "el total de RD$50,000.00 es 100× la venta normal de RD$500.00",
        "fr": "le total de 50\u202f000,00\u00a0RD$ fait 100× la vente habituelle de 500,00\u00a0RD$"}
UNKNOWN = "a sentence from a newer device"


@pytest.fixture
def reasons(hub_engine: Engine) -> list[str]:
    """The seeded alert now carries reasons as the device's rules write them, and one of no known template."""
    written = [*_device_reasons(), UNKNOWN]
    assert TOTAL in written
    with hub_engine.begin() as conn:
        conn.execute(update(t.alerts).where(t.alerts.c.alert_id == "a-alert-1").values(reasons=written))
    return written


@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_the_store_page_and_alerts_api_show_reasons_in_the_users_language(app: Flask, hub_engine: Engine, login_as,
                                                                          reasons: list[str], language: str) -> None:
    HubUsers(hub_engine).set_language("op", language)
    op = login_as("op")
    page = op.get(f"/stores/{A}").get_data(as_text=True)
    assert SAID[language] in page and UNKNOWN in page
    if language != "en":
        assert TOTAL not in page

    data = op.get(f"/api/stores/{A}/alerts").get_json()
    row = next(r for r in data["rows"] if r["alert_id"] == "a-alert-1")
    assert row["reasons"] == reasons  # the stored English, as the device sent it
    assert SAID[language] in row["reasons_text"] and row["reasons_text"][-1] == UNKNOWN
    assert len(row["reasons_text"]) == len(reasons)
    exported = list(csv.DictReader(io.StringIO(op.get(f"/api/stores/{A}/alerts?format=csv").get_data(as_text=True)
                                           .lstrip("\ufeff"))))
    cells = next(r for r in exported if r["alert_id"] == "a-alert-1")
    assert json.loads(cells["reasons"]) == reasons and SAID[language] in json.loads(cells["reasons_text"])

    insights = op.get(f"/api/stores/{A}/insights/alerts").get_json()
    item = next(a for a in insights["alerts"] if a["alert_id"] == "a-alert-1")
    assert item["reasons"] == reasons and SAID[language] in item["reasons_text"]
