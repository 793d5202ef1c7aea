"""The hub's analytics tabs (Trend, Customers, Products) over a small synthetic shop run through the
real ``hub jobs``: each page shows the run's real figures, each table's API returns its rows and
exports as CSV and Excel that parse, a store outside the user's scope is a 404 on every new route,
a store without a run shows the empty state, and SQLite and PostgreSQL answer the same."""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import Engine, select

from analytics.db import make_engine
from analytics.db import tables as t
from analytics.importer.invoices import import_tx_id
from analytics.importer.writer import write_sales
from analytics.jobs import results as rs
from analytics.jobs.runner import run_jobs
from analytics.web import create_app
from tests.analytics.jobs.support import synthetic_docs
from tests.analytics.web.conftest import Session, csrf_token
from tests.analytics.web.seed import PASSWORDS, A, B, seed_hub, seed_users
from tests.support.hubdb import hub_database_url

TZ_A = ZoneInfo("America/Santo_Domingo")
STAMP = "2026-11-01T00:00:00Z"


def store_docs(store_id: str, seed: int, currency: str, **kw: Any) -> list[dict[str, Any]]:
    docs = synthetic_docs(store_id, seed=seed, **kw)
    for d in docs:
        d["currency"] = currency
    return docs


def late_docs(store_id: str, currency: str) -> list[dict[str, Any]]:
    """A week of sales after the first run (every customer back), with their own transaction ids."""
    docs = store_docs(store_id, 99, currency, days=7, end=date(2026, 11, 20), lapse_at=1.0)
    for d in docs:
        d["tx_id"] = import_tx_id(store_id, f"late-{d['seq']}")
        d["seq"] += 100_000
    return docs


def rare_sales(store_id: str, currency: str) -> list[dict[str, Any]]:
    """Two sales of a glue stick, months ago: a slow mover."""
    out = []
    for i, day in enumerate((date(2026, 7, 1), date(2026, 8, 3))):
        doc = store_docs(store_id, 7 + i, currency, days=1, end=day, per_day=30)[0]
        doc["tx_id"] = import_tx_id(store_id, f"rare-{i}")
        doc["seq"] += 200_000 + i
        doc["lines"] = [{"sku": "GLUE-STICK", "name": "GLUE STICK", "qty": 1, "unit_price": 2500, "line_total": 2500,
                         "source": "barcode"}]
        doc["subtotal"] = doc["total"] = doc["payment"]["tendered"] = 2500
        doc["status"] = "completed"
        out.append(doc)
    return out


def analyse(url: str, engine: Engine) -> None:
    """Eight months of sales for both seeded stores (which already hold a few sales of 2026-11-21,
    so the analysis date is 2026-11-22), the first run, a week more of store A's sales, the second run."""
    end = date(2026, 11, 13)
    write_sales(engine, store_docs(A, 1, "DOP", days=240, lapse_at=0.3, end=end) + rare_sales(A, "DOP"), STAMP)
    write_sales(engine, store_docs(B, 2, "EUR", days=120, per_day=6, end=end), STAMP)
    assert {r.store_id: r.status for r in run_jobs(url, workers=1)} == {A: "succeeded", B: "succeeded"}
    write_sales(engine, late_docs(A, "DOP"), STAMP)
    assert {r.store_id: r.status for r in run_jobs(url, workers=1)} == {A: "succeeded", B: "skipped"}


@pytest.fixture(scope="module")
def analysed(seeded_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded two-tenant hub plus synthetic sales and two real runs (made once, copied per test)."""
    path = tmp_path_factory.mktemp("hub-analysed") / "hub.db"
    shutil.copyfile(seeded_file, path)
    engine = make_engine(f"sqlite:///{path}")
    analyse(f"sqlite:///{path}", engine)
    engine.dispose()
    return path


@pytest.fixture
def hub_engine(analysed: Path, tmp_path: Path) -> Iterator[Engine]:
    """Overrides conftest's: the analysed hub, so ``app`` and ``login_as`` serve it."""
    path = tmp_path / "hub.db"
    shutil.copyfile(analysed, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def docs(hub_engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every stored sale of each store (time, total, status, lines) read straight from the tables:
    what the pages' figures are checked against."""
    tx, ln = t.transactions.c, t.tx_lines.c
    out: dict[str, list[dict[str, Any]]] = {A: [], B: []}
    with hub_engine.connect() as conn:
        lines: dict[str, list[dict[str, Any]]] = {}
        for tx_id, sku, qty in conn.execute(select(ln.tx_id, ln.sku, ln.qty)):
            lines.setdefault(tx_id, []).append({"sku": sku, "qty": qty})
        for tx_id, store_id, completed_at, total, status in conn.execute(
                select(tx.tx_id, tx.store_id, tx.completed_at, tx.total, tx.status)):
            if status in ("completed", "refunded"):
                out[store_id].append({"completed_at": completed_at, "total": total, "status": status,
                                      "lines": lines.get(tx_id, [])})
    return out


def new_routes(app: Flask) -> list[str]:
    """Every GET route of the three analytics pages (URL rules with ``<store_id>``)."""
    blueprints = ("trend_page", "customers_page", "products_page")
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in blueprints]
    assert all(set(r.arguments) == {"store_id"} for r in rules)
    return sorted(r.rule for r in rules)


def url(rule: str, store_id: str) -> str:
    return rule.replace("<store_id>", store_id)


def api(session: Session, path: str) -> dict[str, Any]:
    resp = session.get(path)
    assert resp.status_code == 200, (path, resp.get_data(as_text=True)[:300])
    return resp.get_json()


def html(session: Session, path: str) -> str:
    resp = session.get(path)
    assert resp.status_code == 200, path
    return resp.get_data(as_text=True)


def local_day(d: dict[str, Any]) -> date:
    return local_time(d).date()


def local_time(d: dict[str, Any]) -> datetime:
    return datetime.strptime(d["completed_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).astimezone(TZ_A)


def table_rows(page: str, table_id: str) -> list[dict[str, str]]:
    """The cells (by data-key) of the rows of the HTML table ``table_id``."""
    body = re.search(rf'<table class="data" id="{table_id}">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, f"no table {table_id}"
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S):
        cells = re.findall(r'<td[^>]*data-key="([^"]+)">(.*?)</td>', tr, re.S)
        rows.append({k: re.sub(r"<[^>]+>", "", v).strip() for k, v in cells})
    return rows


# -- the pages show the run's figures ---------------------------------------------------------

def test_trend_shows_history_forecast_heat_map_and_staffing(login_as, hub_engine: Engine, docs) -> None:
    ann = login_as("ann")
    run = rs.latest_run(hub_engine, A, [A])
    assert run["as_of"] == "2026-11-22"
    as_of = date.fromisoformat(run["as_of"])

    series = api(ann, f"/api/stores/{A}/trend")
    actual = [r for r in series["rows"] if r["kind"] == "actual"]
    ahead = [r for r in series["rows"] if r["kind"] == "forecast"]
    assert len(actual) == 91 and len(ahead) == 28 and series["currency"] == "DOP" and series["as_of"] == "2026-11-22"
    assert actual[-1]["day"] == "2026-11-21" and ahead[0]["day"] == "2026-11-22"
    # the history is the store's own sales, store-local days, net of refunds
    want = Counter()
    count = Counter()
    for d in docs[A]:
        day = local_day(d)
        if as_of - timedelta(days=91) <= day < as_of:
            want[day.isoformat()] += d["total"]
            count[day.isoformat()] += d["status"] == "completed"
    assert {r["day"]: r["revenue"] for r in actual if r["revenue"]} == {k: v for k, v in want.items() if v}
    assert {r["day"]: r["sales"] for r in actual if r["sales"]} == {k: v for k, v in count.items() if v}
    assert all(r["revenue"] == 0 for r in actual if date.fromisoformat(r["day"]).weekday() == 6)  # closed Sundays
    forecast = rs.store_forecast(hub_engine, A, [A], "revenue")
    assert [(r["day"], r["forecast"], r["lo80"], r["hi95"]) for r in ahead] == \
        [(f["day"], f["mean"], f["lo80"], f["hi95"]) for f in forecast]
    assert all(r["lo95"] <= r["lo80"] <= r["forecast"] <= r["hi80"] <= r["hi95"] for r in ahead)
    sales = rs.store_forecast(hub_engine, A, [A], "sales")
    assert [r["sales_forecast"] for r in ahead] == [s["mean"] for s in sales]

    page = html(ann, f"/stores/{A}/trend")
    assert 'id="trend-chart"' in page and f'data-url="/api/stores/{A}/trend?days=91"' in page
    assert "Analysis as of <strong>2026-11-22</strong>" in page and "analytics-empty" not in page
    rows = table_rows(page, "trend-forecast")
    assert len(rows) == 28 and rows[0]["day"] == "2026-11-22" and rows[0]["weekday"] == "Sunday"
    assert rows[0]["forecast"] == "RD$0.00"  # closed on Sundays
    assert rows[1]["day"] == "2026-11-23" and rows[1]["weekday"] == "Monday"
    monday = next(f for f in forecast if f["day"] == "2026-11-23")
    assert rows[1]["forecast"] == f"RD${monday['mean'] // 100:,}.{monday['mean'] % 100:02d}"
    next7 = sum(f["mean"] for f in forecast[:7])
    assert f"RD${next7 // 100:,}.{next7 % 100:02d}" in page

    # the heat map: 12 weeks of completed sales by store-local weekday and hour
    heat = api(ann, f"/api/stores/{A}/heatmap")
    assert len(heat["rows"]) == 7 * 24 and heat["weeks"] == 12
    slots = Counter()
    for d in docs[A]:
        day = local_day(d)
        if d["status"] == "completed" and as_of - timedelta(weeks=12) <= day < as_of:
            local = local_time(d)
            slots[(local.weekday(), local.hour)] += 1
    assert {(r["weekday_no"], r["hour"]): r["sales"] for r in heat["rows"] if r["sales"]} == dict(slots)
    grid = re.search(r'<table class="heatmap" id="heatmap">(.*?)</table>', page, re.S).group(1)
    hours = [h for _, h in slots]
    assert re.findall(r'<th scope="col" class="num">(\d\d)</th>', grid) == \
        [f"{h:02d}" for h in range(min(hours), max(hours) + 1)]
    assert re.findall(r'<th scope="row">(\w+)</th>', grid) == ["Monday", "Tuesday", "Wednesday", "Thursday",
                                                                "Friday", "Saturday", "Sunday"]
    shades = {(int(w), int(h)): int(level) for level, w, h in
              re.findall(r'class="heat-(\d)" data-weekday="(\d)" data-hour="(\d+)"', grid)}
    busiest = max(slots, key=slots.get)
    assert shades[busiest] == 5 and all(shades[(6, h)] == 0 for h in range(8, 20))  # closed on Sundays
    assert all(shades[slot] >= 1 for slot in slots)
    assert all(shades[(d, 10)] == 0 for d in range(7))  # nobody buys at 10:00 in this shop

    # staffing for the first trading day, and for a day picked in the form
    staffing = rs.staffing(hub_engine, A, [A])
    rows = table_rows(page, "trend-staffing")
    assert [r["hour_label"] for r in rows] == [f"{h['hour']:02d}:00" for h in staffing["hours"]]
    assert [int(r["staff"]) for r in rows] == [h["staff"] for h in staffing["hours"]]
    day = ahead[2]["day"]
    picked = html(ann, f"/stores/{A}/trend?day={day}")
    assert f'<option value="{day}" selected>' in picked
    assert len(table_rows(picked, "trend-staffing")) == len(rs.hourly_traffic(hub_engine, A, [A], day))
    hourly = api(ann, f"/api/stores/{A}/staffing?day={day}")
    assert hourly["rows"] and {r["day"] for r in hourly["rows"]} == {day}
    assert all(r["staff"] >= 1 for r in hourly["rows"])
    assert ann.get(f"/api/stores/{A}/staffing?day=2031-01-01").status_code == 400

    runs = api(ann, f"/api/stores/{A}/runs")
    assert [r["status"] for r in runs["rows"]] == ["succeeded", "succeeded"]


def test_customers_shows_segments_clusters_baskets_bands_movers_and_churn(login_as, hub_engine: Engine) -> None:
    ann = login_as("ann")
    allowed = [A]
    customers = rs.customers(hub_engine, A, allowed, limit=10_000)
    rfm = api(ann, f"/api/stores/{A}/segments/rfm")
    want = rs.segments(hub_engine, A, allowed, "rfm")
    assert [(r["segment"], r["members"], r["revenue"]) for r in rfm["rows"]] == \
        [(s["segment"], s["members"], s["revenue"]) for s in want]
    assert sum(r["members"] for r in rfm["rows"]) == len(customers)
    for row in rfm["rows"]:
        mine = sorted(c["monetary"] for c in customers if c["segment"] == row["segment"])
        mid = len(mine) // 2
        median = mine[mid] if len(mine) % 2 else (mine[mid - 1] + mine[mid]) / 2
        assert row["median_monetary"] == int(median + 0.5)
    champions = next(r for r in rfm["rows"] if r["segment"] == "Champions")
    assert champions["rule"] == "R 5 and FM 4-5" and champions["action"].startswith("bought recently")
    hibernating = next((r for r in rfm["rows"] if r["segment"] == "Hibernating"), None)
    if hibernating:
        assert hibernating["rule"] == "R 2 and FM 1-2; or R 1 and FM 2"

    page = html(ann, f"/stores/{A}/customers")
    shown = {r["segment"]: r for r in table_rows(page, "customers-rfm")}
    assert shown["Champions"]["members"] == str(champions["members"])
    assert shown["Champions"]["median_monetary"].startswith("RD$")

    clusters = api(ann, f"/api/stores/{A}/segments/clusters")
    assert sum(r["members"] for r in clusters["rows"]) == len(customers) and len(clusters["rows"]) >= 2
    assert all(r["main_rfm_segments"] for r in clusters["rows"])
    baskets = api(ann, f"/api/stores/{A}/segments/baskets")
    assert baskets["rows"] and abs(sum(r["revenue_share"] for r in baskets["rows"]) - 1) < 0.01
    assert all(re.fullmatch(r"\d\d:00(, \d\d:00)*", r["peak_hours"]) for r in baskets["rows"])
    assert all("cash" in r["payment_mix"] and "card" in r["payment_mix"] for r in baskets["rows"])
    assert [r["segment"] for r in table_rows(page, "customers-baskets")] == [r["segment"] for r in baskets["rows"]]

    time_bands = api(ann, f"/api/stores/{A}/bands/time")["rows"]
    assert [b["band"] for b in time_bands][:3] == ["Early morning", "Morning", "Midday"]
    assert next(b for b in time_bands if b["band"] == "Afternoon")["sales"] == 0  # no sale 14:00-17:00
    value_bands = api(ann, f"/api/stores/{A}/bands/value")["rows"]
    assert value_bands[0]["band"].startswith("RD$0.00 to under RD$") and value_bands[-1]["band"].endswith("and more")

    # the second run knows who moved since the first
    moved = api(ann, f"/api/stores/{A}/movers")
    assert moved["previous_run"] is True and moved["moved"] == len(moved["rows"]) > 0
    assert all(r["prev_segment"] != r["segment"] for r in moved["rows"])
    transitions = api(ann, f"/api/stores/{A}/transitions")
    assert sum(r["customers"] for r in transitions["rows"] if r["from"] != "(new)") == moved["moved"]
    assert f"<strong>{moved['moved']:,}</strong> customers changed segment" in page

    churn = api(ann, f"/api/stores/{A}/churn-risk")["rows"]
    assert churn and [c["churn_risk"] for c in churn] == sorted((c["churn_risk"] for c in churn), reverse=True)
    assert all(c["monetary"] > 0 for c in churn)
    first = churn[0]
    assert first["last_purchase"] == (date(2026, 11, 22) - timedelta(days=first["recency_days"])).isoformat()
    assert table_rows(page, "customers-churn-risk")[0]["customer_id"] == first["customer_id"]
    assert "AUC" in page
    everyone = api(ann, f"/api/stores/{A}/customers?segment=Champions")["rows"]
    assert len(everyone) == champions["members"] and {c["segment"] for c in everyone} == {"Champions"}


def test_products_shows_top_reorder_slow_movers_and_a_skus_forecast(login_as, hub_engine: Engine, docs) -> None:
    ann = login_as("ann")
    top = api(ann, f"/api/stores/{A}/top-products")["rows"]
    assert top[0]["sku"] == "RICE-5LB" and top == sorted(top, key=lambda r: -r["revenue"])
    reorder = api(ann, f"/api/stores/{A}/reorder")["rows"]
    assert {r["sku"] for r in reorder} >= {"RICE-5LB", "MILK-1L", "SODA"}
    assert all(r["advice"] == "stock unknown" and r["order_qty"] == r["order_up_to"] - r["reorder_point"]
               for r in reorder if r["order_qty"] > 0)  # this shop's devices report no stock
    assert all(r["lead_time_days"] == 7 and r["service_level"] == 0.95 for r in reorder)
    page = html(ann, f"/stores/{A}/products")
    rice = next(r for r in table_rows(page, "products-reorder") if r["sku"] == "RICE-5LB")
    want = next(r for r in reorder if r["sku"] == "RICE-5LB")
    assert rice["reorder_point"] == f"{want['reorder_point']:,}" and rice["order_qty"] == f"{want['order_qty']:,}"
    assert rice["service_level"] == "95%" and rice["advice"] == "stock unknown"
    assert [r["sku"] for r in table_rows(page, "products-top")][:1] == ["RICE-5LB"]
    slow = api(ann, f"/api/stores/{A}/slow-movers")["rows"]
    assert [r["sku"] for r in slow] == ["GLUE-STICK"] and slow[0]["last_sold"] == "2026-08-03"
    assert slow[0]["slow_reason"] and [r["sku"] for r in table_rows(page, "products-slow")] == ["GLUE-STICK"]

    # the busiest SKU is the default; another is picked with ?sku=
    skus = rs.forecast_skus(hub_engine, A, [A])
    assert f'data-url="/api/stores/{A}/sku-forecast?sku={skus[0]["sku"]}"' in page
    milk = html(ann, f"/stores/{A}/products?sku=MILK-1L")
    model = rs.sku_forecast(hub_engine, A, [A], "MILK-1L")
    assert f'<dd id="sku-model">{model["model"]}</dd>' in milk and f"{model['backtest_mae']:.2f} units a day" in milk
    series = api(ann, f"/api/stores/{A}/sku-forecast?sku=MILK-1L")
    assert series["model"] == model["model"] and series["reorder"]["sku"] == "MILK-1L"
    actual = [r for r in series["rows"] if r["kind"] == "actual"]
    ahead = [r for r in series["rows"] if r["kind"] == "forecast"]
    assert len(actual) == 84 and len(ahead) == 28
    as_of = date(2026, 11, 22)
    units = sum(ln["qty"] for d in docs[A] if d["status"] == "completed" and
                as_of - timedelta(days=84) <= local_day(d) < as_of for ln in d["lines"] if ln["sku"] == "MILK-1L")
    assert sum(r["units"] for r in actual) == units > 0
    assert [r["mean"] for r in ahead] == [round(d["mean"], 3) for d in model["days"]]
    missing = html(ann, f"/stores/{A}/products?sku=NOPE")
    assert 'id="sku-missing"' in missing and "NOPE" in missing
    assert ann.get(f"/api/stores/{A}/sku-forecast?sku=NOPE").status_code == 404
    # without ?sku= the API answers for the page's default SKU, the store's top seller
    assert api(ann, f"/api/stores/{A}/sku-forecast")["sku"] == skus[0]["sku"]


# -- exports ----------------------------------------------------------------------------------

def test_every_table_exports_as_csv_and_excel(app: Flask, login_as) -> None:
    from openpyxl import load_workbook

    ann = login_as("ann")
    apis = [r for r in new_routes(app) if r.startswith("/api/")]
    assert len(apis) >= 15
    for rule in apis:
        path = url(rule, A) + ("?sku=RICE-5LB" if rule.endswith("sku-forecast") else "")
        body = api(ann, path)
        keys = [c["key"] for c in body["columns"]]
        assert body["rows"], f"{path} has no rows"
        sep = "&" if "?" in path else "?"
        resp = ann.get(f"{path}{sep}format=csv")
        assert resp.mimetype == "text/csv" and f'filename="{A}-' in resp.headers["Content-Disposition"], path
        rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
        assert len(rows) == len(body["rows"]) and list(rows[0]) == keys, path
        first = {k: v for k, v in body["rows"][0].items() if isinstance(v, (int, str)) and not isinstance(v, bool)}
        assert all(rows[0][k] == str(v) for k, v in first.items()), path
        sheet = load_workbook(io.BytesIO(ann.get(f"{path}{sep}format=xlsx").data)).active
        values = list(sheet.values)
        assert list(values[0]) == keys and len(values) == len(body["rows"]) + 1, path


# -- tenancy ----------------------------------------------------------------------------------

def test_a_store_outside_the_users_scope_is_404_on_every_new_route(app: Flask, login_as) -> None:
    routes = new_routes(app)
    assert len(routes) >= 18
    ann, bob, op, val, nobody = (login_as(u) for u in ("ann", "bob", "op", "val", "nobody"))
    for rule in routes:
        for session, store in ((ann, B), (val, B), (bob, A), (nobody, A), (ann, "s-404")):
            resp = session.get(url(rule, store))
            assert resp.status_code == 404, (rule, store, resp.status_code)
            text = resp.get_data(as_text=True)
            assert f"no store '{store}'" in text or f"no store &#39;{store}&#39;" in text
        for session, store in ((ann, A), (val, A), (bob, B), (op, A), (op, B)):
            query = "?sku=RICE-5LB" if rule.endswith("sku-forecast") else ""
            assert session.get(url(rule, store) + query).status_code == 200, (rule, store)
    # and nothing of store B reaches store A's owner through the pages
    for name in ("trend", "customers", "products"):
        page = html(ann, f"/stores/{A}/{name}")
        assert "s-002" not in page and "Bodega Bob" not in page and "€" not in page, name


def test_the_store_page_has_the_analytics_tabs_and_pages_follow_the_content_policy(login_as) -> None:
    val = login_as("val")  # a viewer sees them too
    store = html(val, f"/stores/{A}")
    tabs = re.search(r'<nav class="tabs" id="store-tabs">(.*?)</nav>', store, re.S).group(1)
    names = re.findall(r">(\w+)</a>", tabs)
    assert names[0] == "Overview" and [n for n in names if n in ("Trend", "Customers", "Products")] == \
        ["Trend", "Customers", "Products"]
    for path in (f"/stores/{A}/trend", f"/stores/{A}/customers", f"/stores/{A}/products?sku=SODA"):
        resp = val.get(path)
        assert resp.status_code == 200
        text = resp.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))", text), path
        assert not re.search(r"\sstyle=", text) and "<style" not in text, path
        assert not re.search(r"""(src|href)=["']https?://""", text), path
        assert 'class="current" aria-current="page"' in text


# -- before the first run ---------------------------------------------------------------------

def test_before_the_first_run_the_pages_say_how_to_get_results(seeded_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    shutil.copyfile(seeded_file, path)
    engine = make_engine(f"sqlite:///{path}")
    app = create_app(engine, secret_key="t", testing=True)
    client = app.test_client()
    token = csrf_token(client)
    assert client.post("/api/login", json={"user_id": "ann", "password": PASSWORDS["ann"]},
                       headers={"X-CSRFToken": token}).status_code == 200
    ann = Session(client, token)
    for name in ("trend", "customers", "products"):
        page = html(ann, f"/stores/{A}/{name}")
        assert 'id="analytics-empty"' in page and "Run <code>tillsight hub jobs</code>" in page, name
        assert "<canvas" not in page and "chart.umd" not in page
    for rule in new_routes(app):
        if rule.startswith("/api/"):
            body = api(ann, url(rule, A))
            if rule.endswith("/margins"):  # from the sales themselves, not a run's results
                assert body["rows"] and body["run_id"] is None, rule
                continue
            assert body["rows"] == [] and body["run_id"] is None, rule
    assert ann.get(f"/api/stores/{A}/sku-forecast?sku=RICE-5LB").status_code == 404
    engine.dispose()


def test_a_failed_newest_run_is_shown_with_its_error(login_as, hub_engine: Engine) -> None:
    from sqlalchemy import insert

    from analytics.db import analytics_tables as an

    with hub_engine.begin() as conn:
        conn.execute(insert(an.analytics_runs).values(run_id="f0000000-0000-4000-8000-000000000001", store_id=A,
                                                      status="failed", started_at="2099-01-01T00:00:00.000Z",
                                                      error="store settings: paydays.0 must be 1..31"))
    page = html(login_as("ann"), f"/stores/{A}/trend")
    assert 'id="last-failure"' in page and "paydays.0 must be 1..31" in page
    assert "Analysis as of <strong>2026-11-22</strong>" in page  # the last good run is still shown


# -- both database backends -------------------------------------------------------------------

def test_sqlite_and_postgresql_give_the_same_api_results(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    answers = {}
    for kind in ("sqlite", "postgresql"):
        db_url = hub_database_url(kind, tmp_path, request, prefix="hubpages")
        engine = make_engine(db_url)
        seed_hub(engine)
        seed_users(engine)
        analyse(db_url, engine)
        app = create_app(engine, secret_key="t", testing=True)
        client = app.test_client()
        token = csrf_token(client)
        assert client.post("/api/login", json={"user_id": "ann", "password": PASSWORDS["ann"]},
                           headers={"X-CSRFToken": token}).status_code == 200
        ann = Session(client, token)
        out = {}
        for rule in new_routes(app):
            if rule.startswith("/api/"):
                path = url(rule, A) + ("?sku=RICE-5LB" if rule.endswith("sku-forecast") else "")
                body = api(ann, path)
                out[rule] = body["rows"]
        assert out["/api/stores/<store_id>/segments/rfm"] and out["/api/stores/<store_id>/reorder"]
        answers[kind] = out
        engine.dispose()
    strip = {"/api/stores/<store_id>/runs"}  # run ids and times differ by nature
    for rule, rows in answers["sqlite"].items():
        if rule not in strip:
            assert rows == answers["postgresql"][rule], rule
    assert [r["status"] for r in answers["sqlite"]["/api/stores/<store_id>/runs"]] == \
        [r["status"] for r in answers["postgresql"]["/api/stores/<store_id>/runs"]]


def test_the_results_apis_refusal_is_the_same_404(app: Flask) -> None:
    """Defence in depth: were a view to ask the results API for a store outside the scope it
    checked, ``StoreNotAllowed`` still answers 404, never a 500 that tells the store exists."""
    from werkzeug.exceptions import NotFound

    from analytics.web.queries.stores import StoreInfo
    from analytics.web.store_results import StoreResults
    from analytics.web.tenancy import StoreScope

    with app.test_request_context():
        mismatched = StoreResults(StoreInfo(B, "Bodega Bob", "Europe/Madrid", "EUR", True), StoreScope.only([A]))
        with pytest.raises(NotFound, match="no store 's-002'"):
            mismatched.get(rs.latest_run)


def test_every_rfm_segment_has_its_rule_text() -> None:
    from analytics.segmentation.rfm import SEGMENT_GRID, SEGMENTS
    from analytics.web.queries.analytics import rfm_rule_text

    texts = {s: rfm_rule_text(s) for s in SEGMENTS}
    assert texts["Champions"] == "R 5 and FM 4-5" and texts["Lost"] == "R 1 and FM 1"
    assert texts["Need attention"] == "R 3 and FM 1-3"

    def cells(text: str) -> set[tuple[int, int]]:  # "R 1-2 and FM 3-4; or ..." -> the grid cells
        out = set()
        for part in text.split("; or "):
            m = re.fullmatch(r"R (\d)(?:-(\d))? and FM (\d)(?:-(\d))?", part)
            assert m, part
            r0, r1, f0, f1 = m.group(1), m.group(2) or m.group(1), m.group(3), m.group(4) or m.group(3)
            out |= {(r, f) for r in range(int(r0), int(r1) + 1) for f in range(int(f0), int(f1) + 1)}
        return out

    # the texts read back give exactly the grid the segmentation uses
    assert {s: cells(t) for s, t in texts.items()} == \
        {s: {cell for cell, name in SEGMENT_GRID.items() if name == s} for s in SEGMENTS}


def test_the_retail_data_is_found_from_the_environment_first(tmp_path: Path) -> None:
    from analytics.importer.frames import RETAIL_DATA_NAME, locate_retail_data, retail_data_candidates

    mine = tmp_path / RETAIL_DATA_NAME
    mine.write_bytes(b"")
    assert locate_retail_data({"TILLSIGHT_RETAIL_DATA": str(mine)}) == mine
    assert locate_retail_data({"TILLSIGHT_RETAIL_DATA": str(tmp_path)}) == mine  # a folder holding it
    missing = tmp_path / "elsewhere.csv.gz"
    candidates = retail_data_candidates({"TILLSIGHT_RETAIL_DATA": str(missing)})
    assert candidates[0] == missing and candidates[-1] == Path("/work/shared/data") / RETAIL_DATA_NAME
    # a path that does not exist falls through to the checkout's shared/data, then /work/shared/data
    assert locate_retail_data({"TILLSIGHT_RETAIL_DATA": str(missing)}) == next(
        (p for p in candidates[1:] if p.is_file()), None)
