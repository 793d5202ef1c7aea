"""The owner dashboard pages and JSON API: figures from known sales, roles on every route, strict
inputs, alert acknowledgement, device health and insights, and nothing inline or from a CDN."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

import edge.web.dashboard as dashboard
from contracts.money import format_money
from tests.edge.store.test_reports import local, make_sale
from tests.edge.web.conftest import csrf_token

NOW = datetime(2026, 3, 11, 18, 30, tzinfo=UTC)  # Wednesday 14:30 in Santo Domingo
STATIC = Path(dashboard.__file__).parent / "static"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setattr(dashboard, "now_utc", lambda: NOW)


@pytest.fixture
def sales(store):
    """Today: two completed sales (one cash, one card), a refund, a voided sale, an alerted sale;
    last Wednesday: one sale at 14:10 (the usual)."""
    a = make_sale(store, local("2026-03-11 09:15"), [("RICE-LG-2LB", 2), ("OIL-SOL-1L", 1)], cashier="ana")
    b = make_sale(store, local("2026-03-11 14:05"), [("OIL-SOL-1L", 2)], method="card", cashier="luis")
    r = make_sale(store, local("2026-03-11 14:20"), [("RICE-LG-2LB", 1)], status="refunded", refund_of=a.tx_id,
                  cashier="ana")
    v = make_sale(store, local("2026-03-11 11:00"), [("BEAN-RED-1LB", 1)], status="voided", cashier="luis")
    x = make_sale(store, local("2026-03-11 12:40"), [("MILK-PWD-360", 3)], cashier="luis",
                  anomaly={"score": 0.93, "reasons": ["5 voids in one sale", "price override to 40 %"],
                           "model": "iforest-test"}, alert=True)
    old = make_sale(store, local("2026-03-04 14:10"), [("RICE-LG-2LB", 1)], cashier="ana")
    return {"a": a, "b": b, "refund": r, "void": v, "alerted": x, "old": old}


def money(minor: int) -> str:
    return format_money(minor, "DOP")


# -- the owner sees everything ---------------------------------------------------------------

def test_owner_dashboard_shows_todays_figures(login_as, sales, store):
    owner = login_as("owner")
    resp = owner.get("/dashboard")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    net = sales["a"].total + sales["b"].total + sales["refund"].total + sales["alerted"].total
    assert f'id="kpi-net_sales" data-minor="{net}">{money(net)}<' in html
    assert 'id="kpi-transactions">3<' in html
    assert 'id="kpi-refunds">1<' in html and 'id="kpi-voided">1<' in html
    assert "Leche en Polvo Nido-Sol 360 g" in html  # top product
    assert "5 voids in one sale" in html and sales["alerted"].receipt_no in html  # alert with reasons and receipt
    assert f'href="/sales/{sales["alerted"].tx_id}"' in html
    assert 'id="chart-hourly"' in html and 'id="chart-payments"' in html
    assert "/static/vendor/chart.umd.min.js" in html
    assert "Colmado Doña Carmen" in html  # credit customers
    assert "Insights arrive when the device syncs with the hub." in html


def test_dashboard_pages_have_no_inline_script_or_style(login_as, sales):
    owner = login_as("owner")
    for url in ("/dashboard", "/sales", f"/sales/{sales['a'].tx_id}"):
        html = owner.get(url).get_data(as_text=True)
        # scripts come from files; the one inline block is the catalogue they read (data, never run)
        assert not re.search(r'<script(?![^>]*\bsrc=)(?![^>]*type="application/json")[^>]*>', html), url
        assert " style=" not in html and "<style" not in html, url
        assert not re.search(r"\son[a-z]+=", html), url
        assert "http://" not in html and "https://" not in html, url  # nothing from outside the device


def test_chart_library_is_vendored_and_licensed(app):
    lib = STATIC / "vendor" / "chart.umd.min.js"
    assert lib.stat().st_size < 250_000
    assert lib.read_text()[:200].find("Chart.js v4") >= 0
    assert "MIT" in (STATIC / "vendor" / "chart.js.LICENSE.md").read_text()
    resp = app.test_client().get("/static/vendor/chart.umd.min.js")
    assert resp.status_code == 200 and len(resp.data) == lib.stat().st_size


def test_summary_hourly_top_and_mix_apis(login_as, sales, store):
    owner = login_as("owner")
    s = owner.get("/api/dashboard/summary").get_json()
    assert s["date"] == "2026-03-11" and s["transactions"] == 3 and s["refunds"] == 1 and s["voided"] == 1
    assert s["net_sales"] == sales["a"].total + sales["b"].total + sales["refund"].total + sales["alerted"].total
    assert isinstance(s["net_sales"], int) and s["open_alerts"] == 1
    last_week = owner.get("/api/dashboard/summary?date=2026-03-04").get_json()
    assert last_week["transactions"] == 1 and last_week["net_sales"] == sales["old"].total

    h = owner.get("/api/dashboard/hourly").get_json()
    assert h["usual_weeks"] == 1 and h["usual_dates"] == ["2026-03-04"] and h["weekday"] == "Wednesday"
    assert h["hours"][14]["sales"] == sales["b"].total + sales["refund"].total
    assert h["hours"][14]["transactions"] == 1 and h["hours"][14]["usual_sales"] == sales["old"].total
    assert h["hours"][9]["sales"] == sales["a"].total

    top = owner.get("/api/dashboard/top-products?limit=2").get_json()
    assert [p["sku"] for p in top["products"]] == ["MILK-PWD-360", "OIL-SOL-1L"]
    assert top["products"][1]["qty"] == 3

    mix = owner.get("/api/dashboard/payment-mix").get_json()
    methods = {m["method"]: m for m in mix["methods"]}
    assert methods["card"]["amount"] == sales["b"].total and methods["card"]["label"] == "Card"
    assert methods["cash"]["amount"] == sales["a"].total + sales["refund"].total + sales["alerted"].total
    assert mix["total"] == s["net_sales"]


def test_pulse_api(login_as, sales):
    p = login_as("owner").get("/api/dashboard/pulse").get_json()
    assert p["hour"] == 14 and p["window"] == "14:00–14:30" and p["usual_weeks"] == 1
    assert p["transactions_this_hour"] == {"actual": 1, "usual": 1.0, "change_pct": 0, "trend": "flat"}
    assert p["sales_this_hour"]["actual"] == sales["b"].total + sales["refund"].total
    assert p["sales_this_hour"]["usual"] == sales["old"].total
    assert isinstance(p["running_low"], list)


def test_alerts_list_and_acknowledge(login_as, sales, store):
    owner = login_as("owner")
    body = owner.get("/api/alerts").get_json()
    assert body["open"] == 1
    alert = body["alerts"][0]
    assert alert["receipt_no"] == sales["alerted"].receipt_no and alert["score"] == 0.93
    assert alert["reasons"] == ["5 voids in one sale", "price override to 40 %"]
    # without the CSRF token the acknowledgement is refused
    assert owner.client.post(f"/api/alerts/{alert['id']}/ack").status_code == 400
    resp = owner.post(f"/api/alerts/{alert['id']}/ack")
    assert resp.status_code == 200
    assert resp.get_json()["alert"]["acknowledged_by"] == "owner"
    assert owner.get("/api/alerts?open=1").get_json() == {"open": 0, "alerts": []}
    assert owner.post("/api/alerts/999999/ack").status_code == 404


def test_stock_and_credit_apis(login_as, sales, store):
    with store.db.transaction() as c:
        c.execute("UPDATE products SET stock_qty = 1, reorder_level = 6 WHERE sku = 'SUGAR-2LB'")
    owner = login_as("owner")
    stock = owner.get("/api/stock").get_json()
    assert stock["products"][0]["sku"] == "SUGAR-2LB" and stock["products"][0]["low"] is True
    assert stock["low"] >= 1
    low = owner.get("/api/stock?low=1").get_json()["products"]
    assert all(p["low"] or p["runs_out_soon"] for p in low) and "SUGAR-2LB" in {p["sku"] for p in low}
    with store.db.transaction() as c:
        c.execute("UPDATE products SET stock_qty = 0, reorder_level = 6 WHERE sku = 'TUNA-170'")
    html = owner.get("/dashboard").get_data(as_text=True)
    tuna_row = re.search(r"<tr class=\"low\">\s*<td>Atun Del Caribe 170 g.*?</tr>", html, re.S)
    assert tuna_row and "out of stock" in tuna_row.group(0)
    sugar_row = re.search(r"<tr class=\"low\">\s*<td>Azucar Crema 2 lb.*?</tr>", html, re.S)
    assert sugar_row and "low stock" in sugar_row.group(0) and "out of stock" not in sugar_row.group(0)
    make_sale(store, local("2026-03-11 10:00"), [("RICE-LG-2LB", 2)], method="credit", customer_id="cust-03")
    credit = owner.get("/api/credit").get_json()
    assert credit["owing"] == 1 and credit["total_owed"] == 15000
    first = credit["customers"][0]
    assert first["id"] == "cust-03" and first["balance"] == 15000 and first["available"] == 1_500_000 - 15000


def test_sales_list_and_detail(login_as, sales):
    owner = login_as("owner")
    listing = owner.get("/api/sales?date=2026-03-11").get_json()
    assert listing["count"] == 5
    assert listing["sales"][0]["tx_id"] == sales["refund"].tx_id  # newest first
    only_luis = owner.get("/api/sales?date=2026-03-11&cashier=luis&status=completed").get_json()
    assert {s["tx_id"] for s in only_luis["sales"]} == {sales["b"].tx_id, sales["alerted"].tx_id}
    assert owner.get("/api/sales?status=voided").get_json()["sales"][0]["tx_id"] == sales["void"].tx_id
    assert len(owner.get("/api/sales?limit=2").get_json()["sales"]) == 2

    d = owner.get(f"/api/sales/{sales['a'].tx_id}").get_json()
    assert [ln["sku"] for ln in d["lines"]] == ["RICE-LG-2LB", "OIL-SOL-1L"]
    assert d["refunds"][0]["tx_id"] == sales["refund"].tx_id and d["payments"][0]["method"] == "cash"
    assert owner.get(f"/api/sales/{uuid.uuid4()}").status_code == 404

    page = owner.get("/sales?date=2026-03-11&cashier=luis").get_data(as_text=True)
    assert sales["b"].receipt_no in page and sales["a"].receipt_no not in page
    detail = owner.get(f"/sales/{sales['a'].tx_id}").get_data(as_text=True)
    assert "Arroz La Garza 2 lb" in detail and "Aceite Sol Dorado 1 L" in detail
    assert sales["refund"].receipt_no in detail  # its refund is listed
    assert owner.get(f"/sales/{uuid.uuid4()}").status_code == 404


def test_sale_detail_page_shows_readable_events_and_anomaly(login_as, sales):
    html = login_as("owner").get(f"/sales/{sales['alerted'].tx_id}").get_data(as_text=True)
    assert "score 0.93" in html and "price override to 40 %" in html and "iforest-test" in html
    assert 'class="ack" data-alert-id=' in html


def test_dashboard_for_an_earlier_day(login_as, sales):
    html = login_as("owner").get("/dashboard?date=2026-03-04").get_data(as_text=True)
    assert f'id="kpi-net_sales" data-minor="{sales["old"].total}"' in html
    assert 'data-today="no"' in html and "Back to today" in html


# -- device health and insights --------------------------------------------------------------

def test_health_has_friendly_labels_and_unknowns(login_as, web_context):
    web_context.health = lambda: {"camera_fps": 9.46, "inference_ms": 38.2, "model_version": "20260101.000000",
                                  "camera_state": "reconnecting", "vision_alive": True, "sync_backlog": 3,
                                  "temperature_c": 61.5, "cpu_governor": "ondemand", "oldest_unsynced_at": None}
    owner = login_as("owner")
    body = owner.get("/api/dashboard/health").get_json()
    items = {i["key"]: i for i in body["items"]}
    assert items["camera_fps"]["label"] == "Camera frame rate" and items["camera_fps"]["text"] == "9.5 frames/s"
    assert items["inference_ms"]["text"] == "38 ms" and items["model_version"]["text"] == "20260101.000000"
    assert items["camera_state"]["status"] == "bad" and body["ok"] is False
    assert items["anomaly_model"]["text"] == "unknown" and items["anomaly_model"]["status"] == "unknown"
    assert items["sync_backlog"]["text"] == "3 messages"
    assert items["temperature_c"]["label"] == "Temperature (°C)" and items["temperature_c"]["text"] == "61.5"
    assert items["cpu_governor"]["label"] == "Cpu governor" and items["cpu_governor"]["text"] == "ondemand"
    assert items["oldest_unsynced_at"]["text"] == "nothing waiting"
    assert items["disk_free_mb"]["value"] > 0  # from the store's own disk when the device did not say
    html = owner.get("/dashboard").get_data(as_text=True)
    assert "Camera frame rate" in html and "9.5 frames/s" in html and "unknown" in html


def test_health_probe_failure_does_not_break_the_dashboard(login_as, web_context):
    def broken() -> dict:
        raise RuntimeError("camera driver crashed")

    web_context.health = broken
    owner = login_as("owner")
    assert owner.get("/dashboard").status_code == 200
    items = {i["key"]: i for i in owner.get("/api/dashboard/health").get_json()["items"]}
    assert items["camera_fps"]["text"] == "unknown"


def test_insights_are_rendered_escaped(login_as, web_context):
    owner = login_as("owner")
    assert owner.get("/api/insights").get_json() == {"insights": None,
                                                     "message": "Insights arrive when the device syncs with the hub."}
    web_context.insights = lambda: {"generated_at": "2026-03-11T12:00:00Z", "source": "llm",
                                    "headline": "Saturdays sell <script>alert(1)</script> rice",
                                    "items": [{"title": "Restock rice", "text": "Order 40 bags before Friday."}]}
    body = owner.get("/api/insights").get_json()
    assert body["insights"]["generated_local"] == "2026-03-11 08:00" and body["message"] is None
    html = owner.get("/dashboard").get_data(as_text=True)
    assert "Restock rice" in html and "Order 40 bags before Friday." in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "language model" in html


# -- strict inputs ---------------------------------------------------------------------------

BAD_QUERIES = (
    "/api/dashboard/summary?date=2026-13-01", "/api/dashboard/summary?date=yesterday",
    "/api/dashboard/hourly?date=%3Cscript%3E", "/api/dashboard/hourly?weeks=0", "/api/dashboard/hourly?weeks=-3",
    "/api/dashboard/top-products?limit=100000000000", "/api/dashboard/summary?date=0001-01-01",
    "/api/sales?status=stolen", "/api/sales?limit=0", "/api/sales?limit=-5", "/api/sales?limit=1.5",
    "/api/sales?cashier=%3Cscript%3Ealert(1)%3C/script%3E", "/api/sales?offset=-1",
    "/api/alerts?limit=99999999",
)


def test_bad_query_values_are_rejected(login_as):
    owner = login_as("owner")
    for query in BAD_QUERIES:
        resp = owner.get(query)
        assert resp.status_code == 400, query
        assert resp.get_json()["error"], query


def test_bad_filter_on_the_sales_page_is_a_400_page(login_as):
    resp = login_as("owner").get("/sales?date=2026-02-30")
    assert resp.status_code == 400 and "date" in resp.get_data(as_text=True)


# -- roles on every route --------------------------------------------------------------------

def _dashboard_routes(app, sales) -> list[tuple[str, str]]:
    values = {"tx_id": sales["a"].tx_id, "alert_id": 1}
    routes = []
    with app.test_request_context():
        from flask import url_for
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("dashboard."):
                continue
            url = url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append((method, url))
    return routes


def test_every_dashboard_route_is_owner_only(app, login_as, sales, store):
    routes = _dashboard_routes(app, sales)
    assert len(routes) >= 16
    for role in ("cashier", "supervisor"):
        session = login_as(role)
        for method, url in routes:
            resp = session.post(url) if method == "POST" else session.get(url)
            assert resp.status_code == 403, (role, method, url, resp.status_code)
    assert store.alerts.recent(open_only=True)  # the cashier's acknowledgement did nothing
    owner = login_as("owner")
    for method, url in routes:
        resp = owner.post(url) if method == "POST" else owner.get(url)
        assert resp.status_code == 200, (method, url, resp.status_code)


def test_logged_out_is_sent_to_login_or_401(app, sales):
    client = app.test_client()
    token = csrf_token(client)
    for method, url in _dashboard_routes(app, sales):
        if method == "POST":
            resp = client.post(url, headers={"X-CSRFToken": token})
        else:
            resp = client.get(url)
        if url.startswith("/api/"):
            assert resp.status_code == 401, url
        else:
            assert resp.status_code == 302 and "/login" in resp.headers["Location"], url
