"""The home page and the store page with their JSON API and exports."""

from __future__ import annotations

import csv
import html
import io
import re

from sqlalchemy import update

from analytics.db import tables as t
from tests.analytics.web.seed import A, B
from tests.analytics.web.test_fleet import _rows


def _kpi(page: str, kpi_id: str) -> str:
    m = re.search(rf'id="{kpi_id}"><span class="label">[^<]*</span>\s*<span class="value">([^<]*)</span>', page)
    assert m, kpi_id
    return html.unescape(m.group(1))


def test_home_lists_the_users_stores_with_sales_and_devices(login_as) -> None:
    page = login_as("op").get("/").get_data(as_text=True)
    assert _kpi(page, "kpi-stores") == "2" and _kpi(page, "kpi-online") == "2 of 4"
    assert f'<a href="/stores/{A}">Colmado Ana</a>' in page
    assert "RD$130.00" in page and "RD$337.00" in page and "€123.45" in page
    body = login_as("ann").get("/api/stores").get_json()
    assert body["table"] == "stores" and [c["key"] for c in body["columns"]][:3] == ["store_id", "name", "sales_today"]
    assert body["rows"] == [{"store_id": A, "name": "Colmado Ana", "sales_today": 13000, "transactions_today": 2,
                             "sales_7d": 33700, "transactions_7d": 4, "devices": 3, "online": 1,
                             "last_heard": "2026-11-21T14:59:40Z", "currency": "DOP",
                             "timezone": "America/Santo_Domingo"}]


def test_store_page_shows_devices_sales_and_alerts(login_as) -> None:
    ann = login_as("ann")
    page = ann.get(f"/stores/{A}").get_data(as_text=True)
    assert "Colmado Ana" in page and _kpi(page, "kpi-sales-today") == "RD$130.00"
    assert _kpi(page, "kpi-sales-7d") == "RD$337.00" and _kpi(page, "kpi-online") == "1 of 3"
    assert [r["device_id"] for r in _rows(page, "store-devices")] == ["till-1", "till-2", "till-3"]
    assert [r["total"] for r in _rows(page, "sales")][:3] == ["RD$99.99", "-RD$20.00", "RD$50.00"]
    assert "void after payment, odd basket" in page
    assert 'data-url="/api/stores/s-001/daily?days=14"' in page and "vendor/chart.umd.min.js" in page
    # the default period is 7 days: the sale of 10 days ago is not listed; 30 days shows it
    assert "RD$700.00" not in page and "RD$700.00" in ann.get(f"/stores/{A}?days=30").get_data(as_text=True)
    assert ann.get(f"/stores/{A}?days=0").status_code == 400
    assert ann.get(f"/stores/{A}?days=abc").get_json() is None  # a page, not JSON
    assert "days must be a whole number from 1 to 90" in ann.get(f"/stores/{A}?days=abc").get_data(as_text=True)


def test_store_api_and_table_exports(login_as) -> None:
    ann = login_as("ann")
    body = ann.get(f"/api/stores/{A}").get_json()
    assert body["store"]["timezone"] == "America/Santo_Domingo" and body["kpis"]["sales_today"] == 13000
    assert {d["device_id"]: d["state"] for d in body["devices"]} == {"till-1": "online", "till-2": "offline",
                                                                      "till-3": "never seen"}
    assert set(body["tables"]) == {"devices", "sales", "daily", "alerts"}
    sales = ann.get(body["tables"]["sales"] + "?days=30").get_json()
    assert len(sales["rows"]) == 7 and sales["days"] == 30 and all(r["currency"] == "DOP" for r in sales["rows"])
    daily = ann.get(f"/api/stores/{A}/daily?days=3").get_json()
    assert [(r["date"], r["sales"]) for r in daily["rows"]] == [("2026-11-19", 0), ("2026-11-20", 700),
                                                               ("2026-11-21", 13000)]
    resp = ann.get(f"/api/stores/{A}/sales?format=csv&days=30")
    assert resp.mimetype == "text/csv" and f'filename="{A}-sales-' in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 7 and sorted(int(r["total"]) for r in rows)[0] == -2000
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(ann.get(f"/api/stores/{A}/alerts?format=xlsx").data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "raised_at" and values[1][-1] == "a-alert-1" and values[1][values[0].index("score")] == 0.91
    assert values[1][values[0].index("state")] == "open"
    assert ann.get(f"/api/stores/{A}/sales?limit=0").status_code == 400


def test_exports_never_run_a_formula(login_as, hub_engine) -> None:
    """A name that a spreadsheet would run as a formula is written as text."""
    with hub_engine.begin() as conn:
        conn.execute(update(t.stores).where(t.stores.c.store_id == B).values(name='=HYPERLINK("http://x","y")'))
    op = login_as("op")
    text = op.get("/api/stores?format=csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(op.get("/api/stores?format=xlsx").data)).active
    cell = next(c for row in sheet.iter_rows() for c in row if str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s"
    assert "&lt;" not in text and '=HYPERLINK' in html.unescape(op.get("/").get_data(as_text=True))


def test_an_alert_the_store_closed_shows_as_closed(login_as, hub_engine) -> None:
    ann = login_as("ann")
    assert "Still open at the store" in ann.get(f"/stores/{A}/insights").get_data(as_text=True)
    with hub_engine.begin() as conn:
        conn.execute(update(t.alerts).where(t.alerts.c.alert_id == "a-alert-1")
                     .values(closed_at="2026-11-21T15:10:00Z", closed_how="acknowledged"))
    [row] = ann.get(f"/api/stores/{A}/alerts").get_json()["rows"]
    assert (row["state"], row["closed_at"]) == ("acknowledged", "2026-11-21T15:10:00Z")
    page = ann.get(f"/stores/{A}").get_data(as_text=True)
    assert "acknowledged" in page
    insights = ann.get(f"/stores/{A}/insights").get_data(as_text=True)
    assert "Acknowledged at the store" in insights and "Still open at the store" not in insights
