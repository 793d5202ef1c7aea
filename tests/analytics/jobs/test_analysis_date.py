"""The hub's analysis date follows the store's clock (issue 26): the demo device sold something at
03:39 on Monday, the hub ran its jobs at 03:40, and the device showed "Tuesday: about 83 sales"
under "Today's forecast" (the analysis date was the day after the last sale).  The device's
dashboard names the day of a document that is not about its today."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from analytics.jobs.insights import build_insights
from analytics.jobs.runner import run_store
from edge.auth.service import Authenticator
from edge.checkout.service import CheckoutService
from edge.checkout.session import PaymentPart
from edge.store import Store
from edge.web import create_app
from edge.web import dashboard as device_dashboard
from edge.web.context import WebContext
from tests.analytics.demo_device import DEVICE, STORE, demo_device, sync
from tests.edge.checkout.helpers import basket, cashier, session_for
from tests.edge.web.conftest import csrf_token

SALE_AT = datetime(2026, 12, 7, 7, 39, tzinfo=UTC)  # Monday 03:39 in Santo Domingo
RUN_AT = SALE_AT + timedelta(minutes=1)


@pytest.fixture(scope="module")
def night_sale(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Engine]:
    """The demo device (history up to Sunday night) with one sale rung up at 03:39 on Monday, synced."""
    store, hub = demo_device(tmp_path_factory.mktemp("analysis-date"), datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
    session = session_for(store, STORE, clock=lambda: SALE_AT)
    session.start(cashier(store), None)
    skus = [p.sku for p in store.products.list()][:2]
    session.apply_basket(basket(*skus))
    total = session.to_payment().total
    store.sales.record(session.pay([PaymentPart("cash", total, total)]))
    assert sync(store, hub, RUN_AT) >= 1
    return store, hub


def test_the_run_and_the_morning_document_are_as_of_the_stores_today(night_sale: tuple[Store, Engine]) -> None:
    _, hub = night_sale
    run = run_store("", STORE, force=True, engine=hub, now=RUN_AT)
    assert run.status == "succeeded", run.detail
    doc = build_insights(hub, STORE, now=RUN_AT, narrative=False)
    assert doc is not None
    assert doc["as_of"] == "2026-12-07" and doc["day"] == "2026-12-07"
    assert doc["headline"].startswith("Monday 07 December: about ")
    titles = [it["title"] for it in doc["items"]]
    assert "Today's forecast" in titles


def test_a_document_for_another_day_does_not_call_it_today(night_sale: tuple[Store, Engine]) -> None:
    _, hub = night_sale
    assert run_store("", STORE, force=True, engine=hub, now=RUN_AT).status == "succeeded"
    # read on Wednesday, before the next run: the forecast covers it, and it is today again
    wednesday = build_insights(hub, STORE, now=RUN_AT + timedelta(days=2), narrative=False)
    assert wednesday is not None and wednesday["day"] == "2026-12-09"
    assert "Today's forecast" in [it["title"] for it in wednesday["items"]]
    # read the evening before the run's first day (the document's day is not the store's today)
    sunday = build_insights(hub, STORE, now=RUN_AT - timedelta(hours=6), narrative=False)
    assert sunday is not None and sunday["day"] == "2026-12-07"
    titles = [it["title"] for it in sunday["items"]]
    assert "Today's forecast" not in titles and "Forecast for Monday 07 December" in titles


def test_a_new_day_is_a_new_run_even_without_new_sales(night_sale: tuple[Store, Engine]) -> None:
    _, hub = night_sale
    assert run_store("", STORE, engine=hub, now=RUN_AT).status in ("succeeded", "skipped")
    assert run_store("", STORE, engine=hub, now=RUN_AT + timedelta(minutes=5)).status == "skipped"
    tuesday = run_store("", STORE, engine=hub, now=RUN_AT + timedelta(days=1))
    assert tuesday.status == "succeeded"
    doc = build_insights(hub, STORE, now=RUN_AT + timedelta(days=1), narrative=False)
    assert doc is not None and doc["as_of"] == "2026-12-08" and doc["day"] == "2026-12-08"


def test_the_device_dashboard_names_the_day_of_a_document_from_another_day(
        night_sale: tuple[Store, Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    store, hub = night_sale
    assert run_store("", STORE, force=True, engine=hub, now=RUN_AT).status == "succeeded"
    doc = build_insights(hub, STORE, now=RUN_AT, narrative=False)
    assert doc is not None
    store.insights.save(json.dumps(doc))  # what the sync agent does with the retained message
    auth = Authenticator(store.users)
    app = create_app(WebContext(store=store, auth=auth, checkout=CheckoutService(store, auth, STORE, DEVICE),
                                store_id=STORE, device_id=DEVICE, insights=store.insights.latest),
                     secret_key="test-secret", testing=True)
    client = app.test_client()
    token = csrf_token(client)
    assert client.post("/api/login", json={"user_id": "owner", "password": "tillsight-owner"},
                       headers={"X-CSRFToken": token}).status_code == 200

    def titles_at(moment: datetime) -> list[str]:
        monkeypatch.setattr(device_dashboard, "now_utc", lambda: moment)
        shown = client.get("/api/insights").get_json()["insights"]
        assert shown["day"] == "2026-12-07"
        return [it["title"] for it in shown["items"]]

    assert "Today's forecast" in titles_at(RUN_AT + timedelta(hours=1))  # Monday, the document's day
    tuesday = titles_at(RUN_AT + timedelta(days=1))  # the next morning, before the next run
    assert "Today's forecast" not in tuesday and "Forecast for Monday 7 December" in tuesday
    monkeypatch.setattr(device_dashboard, "now_utc", lambda: RUN_AT + timedelta(days=1))
    assert "Forecast for Monday 7 December" in client.get("/dashboard").get_data(as_text=True)


def test_the_morning_narrative_tells_the_last_whole_day_not_the_minutes_since_midnight(
        night_sale: tuple[Store, Engine]) -> None:
    # at 03:40 on Monday the day that just ended is Sunday; Monday so far (one sale) is not "a day"
    _, hub = night_sale
    assert run_store("", STORE, force=True, engine=hub, now=RUN_AT).status == "succeeded"
    doc = build_insights(hub, STORE, now=RUN_AT)
    assert doc is not None
    told = doc["narrative"]
    assert told["period"] == "daily"
    assert "Sunday 6 December 2026" in told["title"] or "Sunday 06 December 2026" in told["title"], told["title"]
    assert "Monday" not in told["title"]
