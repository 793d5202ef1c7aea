"""The Pricing page's approval flow (Flask client, the seeded hub): an owner sees a suggestion with its
expected effect and reason, edits and approves it effective at a store time, the decision is recorded
with who made it; a viewer cannot decide, another store's owner cannot see, a price below cost is
refused; an approval goes to the tills through the push; once in effect the page shows what the change
did against what was predicted.  Sales are written by the importer's real writers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, select

from analytics.importer.invoices import COST_COLUMN, build_invoices
from analytics.importer.writer import write_sales
from analytics.pricing import changes as ch
from analytics.pricing.push import PushResult
from analytics.pricing.tables import price_changes
from analytics.web.pricing import PUSH_KEY
from tests.analytics.pricing.synthetic import price_path, sale_lines, weekly_units
from tests.analytics.web.seed import A

TZ = "America/Santo_Domingo"
START = datetime(2026, 7, 13, 9, 0)  # noqa: DTZ001 - a Monday, store-local as the importer reads files


def _write(engine: Engine, lines: list[Any]) -> None:
    docs = [inv.doc for inv in build_invoices(lines, store_id=A, device_id="import", currency="DOP", timezone_name=TZ,
                                              layout="test", cancel_prefix=None, cost=COST_COLUMN)]
    stored, _ = write_sales(engine, docs, "2026-11-21T12:00:00Z")
    assert stored == len(docs)


@pytest.fixture
def coffee(hub_engine: Engine) -> Engine:
    """18 weeks of coffee in store A at six prices, demand with elasticity -2, cost RD$120.00."""
    prices = price_path([20000, 18000, 22000, 19000, 21000, 20000], 3)
    _write(hub_engine, sale_lines("COFFEE", "Coffee 1 lb", prices, weekly_units(prices, -2.0, 30, None), 12000, START))
    return hub_engine


def _decide(session: Any, **form: str) -> Any:
    return session.post(f"/stores/{A}/pricing/decide", data={"sku": "COFFEE", **form})


def test_an_owner_approves_an_edited_suggestion_and_it_is_recorded(coffee: Engine, login_as: Any, app: Flask) -> None:
    ann = login_as("ann")
    html = ann.get(f"/stores/{A}/pricing").get_data(as_text=True)
    row = re.search(r'<tr id="suggestion-COFFEE" data-kind="(\w+)">(.*?)</tr>', html, re.S)
    assert row, html[:3000]
    assert row.group(1) == "increase"  # elasticity -2 at a 40 % margin: a higher price makes more
    assert "RD$220.00" in row.group(2)  # 10 % up, the rails' largest step, a .00 ending
    assert "Raising the price from RD$200.00 to RD$220.00" in row.group(2)
    assert "not checked" not in row.group(2)  # every figure of the reason passed the fact check
    api = ann.get(f"/api/stores/{A}/pricing").get_json()
    coffee_row = next(s for s in api["suggestions"] if s["sku"] == "COFFEE")
    assert -2.3 < coffee_row["elasticity"] < -1.7 and coffee_row["effect"]["profit"]["low"] > 0

    # a viewer cannot decide, another store's owner cannot even see, a price below cost is refused
    assert login_as("val").post(f"/stores/{A}/pricing/decide", data={"sku": "COFFEE", "action": "approve",
                                                                     "price": "210.00"}).status_code == 403
    assert login_as("bob").get(f"/stores/{A}/pricing").status_code == 404
    refused = _decide(ann, action="approve", price="100.00")
    assert refused.status_code == 400 and "never set below cost" in refused.get_data(as_text=True)
    off_rails = _decide(ann, action="approve", price="250.00")
    assert off_rails.status_code == 400 and "breaks a guard rail" in off_rails.get_data(as_text=True)
    no_csrf = app.test_client().post(f"/stores/{A}/pricing/decide", data={"sku": "COFFEE", "action": "approve"})
    assert no_csrf.status_code in (400, 401, 403)

    done = _decide(ann, action="approve", price="215.00", effective="2026-11-22T08:00")
    assert done.status_code == 303
    with coffee.connect() as conn:
        rows = conn.execute(select(price_changes)).mappings().all()
    assert len(rows) == 1
    r = rows[0]
    assert (r["sku"], r["status"], r["old_price"], r["new_price"], r["suggested_price"], r["decided_by"]) == \
        ("COFFEE", "approved", 20000, 21500, 22000, "ann")
    assert r["effective_at"] == "2026-11-22T12:00:00Z"  # 08:00 in Santo Domingo
    assert r["predicted"]["for_price"] == 21500 and r["predicted"]["effect"]["units"]["expected"] < 0

    html = ann.get(f"/stores/{A}/pricing").get_data(as_text=True)
    assert 'id="suggestion-COFFEE"' not in html  # decided: not asked again
    assert "1 approved price change waits to be sent to the tills." in html

    # with the signing key on this hub, the push goes out (here a stand-in for the fleet path)
    calls: list[tuple[str, datetime]] = []

    def push(store_id: str, at: datetime) -> PushResult:
        calls.append((store_id, at))
        ch.mark_sent(coffee, [r["change_id"]], "dep-0001", at)
        return PushResult("dep-0001", 1, [f"{A}/till-1"], 1, [r["change_id"]])

    app.extensions[PUSH_KEY] = push
    assert ann.post(f"/stores/{A}/pricing/push").status_code == 303
    assert [c[0] for c in calls] == [A]


def test_a_rejection_is_recorded_and_not_asked_again(coffee: Engine, login_as: Any) -> None:
    ann = login_as("ann")
    assert _decide(ann, action="reject").status_code == 303
    with coffee.connect() as conn:
        row = conn.execute(select(price_changes)).mappings().one()
    assert row["status"] == "rejected" and row["decided_by"] == "ann"
    html = ann.get(f"/stores/{A}/pricing").get_data(as_text=True)
    assert 'id="suggestion-COFFEE"' not in html and 'id="other-COFFEE" data-kind="rejected"' in html


def test_after_the_change_the_page_shows_what_it_did_against_the_prediction(coffee: Engine, login_as: Any,
                                                                          clock: dict) -> None:
    ann = login_as("ann")
    assert _decide(ann, action="approve", price="220.00", effective="2026-11-22T08:00").status_code == 303
    with coffee.connect() as conn:
        change_id = conn.execute(select(price_changes.c.change_id)).scalar_one()
    ch.mark_sent(coffee, [change_id], "dep-0002", clock["now"])
    # a week at the new price: 3 a day from Monday 23 November
    monday = datetime(2026, 11, 23, 9, 0)  # noqa: DTZ001 - store-local, as the importer reads files
    after = sale_lines("COFFEE", "Coffee 1 lb", [22000], [21], 12000, monday, first_row=10_000, invoice_prefix="N")
    _write(coffee, after)
    clock["now"] = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    changes = ann.get(f"/api/stores/{A}/pricing/changes").get_json()["changes"]
    out = changes[0]["outcome"]
    assert changes[0]["status"] == "sent" and out is not None
    assert out["days"] == 7 and out["units_after"] == 21
    assert out["actual_units"] == out["units_after"] - out["units_before"]
    assert out["predicted_units"] is not None and out["predicted_units_low"] <= out["predicted_units_high"]
    assert out["actual_profit"] is not None
    html = ann.get(f"/stores/{A}/pricing").get_data(as_text=True)
    assert re.search(rf'id="change-{change_id}" data-status="sent">.*?class="num outcome-units">\+\d+ vs', html, re.S)
    assert clock["now"] - timedelta(days=7) > datetime(2026, 11, 22, tzinfo=UTC)


def test_the_cli_prints_the_same_suggestions_as_json(coffee: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tillsight_cli.main import main

    assert main(["hub", "pricing", "--store", A, "--json", "--database-url", str(coffee.url)]) == 0
    doc = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert doc["store_id"] == A and doc["rails"]["max_step"] == 0.1
    coffee_row = next(s for s in doc["suggestions"] if s["sku"] == "COFFEE")
    assert coffee_row["kind"] == "increase" and coffee_row["suggested_price"] == 22000
    assert coffee_row["effect"]["profit"]["low"] <= coffee_row["effect"]["profit"]["expected"]


def test_a_store_with_nothing_to_price_shows_an_empty_page(hub_engine: Engine, login_as: Any) -> None:
    html = login_as("bob").get("/stores/s-002/pricing")
    assert html.status_code == 200
    text = html.get_data(as_text=True)
    assert 'id="no-suggestions"' in text and 'id="rails-form"' in text
    assert login_as("val").get(f"/stores/{A}/pricing").status_code == 200  # viewers see, without the forms
    assert 'name="action"' not in login_as("val").get(f"/stores/{A}/pricing").get_data(as_text=True)
