"""One store: its devices, daily sales (chart), recent sales and alerts; for operators also the
dead letters that name it.  A store outside the user's scope is a 404, page and API alike."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from flask import Blueprint, Response, abort, jsonify, render_template, url_for

from analytics.web.context import hub, now
from analytics.web.datatable import Col, TableSpec, table_response
from analytics.web.pages import Page
from analytics.web.params import int_arg
from analytics.web.queries import fleet as fq
from analytics.web.queries import stores as sq
from analytics.web.security import require
from analytics.web.tenancy import StoreScope, current_scope, require_store
from i18n import N_
from i18n import gettext as _

blueprint = Blueprint("stores", __name__)

ONLINE_PILLS = {"online": "ok", "offline": "bad", "never seen": "warn"}
STATUS_PILLS = {"completed": "ok", "refunded": "warn", "voided": "bad"}

DEVICES = TableSpec("store-devices", N_("Devices"), (
    Col("device_id", N_("Device"), "code"),
    Col("state", N_("State"), "pill", pills=ONLINE_PILLS),
    Col("last_seen", N_("Last heard"), "ago"),
    Col("model", N_("Model")),
    Col("model_version", N_("Model version (0: as installed)"), "int", html=False),
    Col("model_name", N_("Model bundle"), html=False),
    Col("config_version", N_("Config"), "int"),
    Col("tillsight_version", N_("Software")),
    Col("update", N_("Update")),
    Col("backlog", N_("Unsent"), "int"),
    Col("gaps", N_("Gaps"), "int"),
))
DAILY = TableSpec("daily-sales", N_("Daily sales"), (
    Col("date", N_("Date (store time)")),
    Col("sales", N_("Sales"), "money"),
    Col("transactions", N_("Sales count"), "int"),
    Col("currency", N_("Currency")),
))
SALES = TableSpec("sales", N_("Sales"), (
    Col("completed_at", N_("Completed"), "time"),
    Col("device_id", N_("Device"), "code"),
    Col("seq", N_("Seq"), "int"),
    Col("status", N_("Status"), "pill", pills=STATUS_PILLS),
    Col("cashier_id", N_("Cashier")),
    Col("items", N_("Items"), "int"),
    Col("total", N_("Total"), "money"),
    Col("currency", N_("Currency")),
    Col("anomaly_score", N_("Anomaly"), "num"),
    Col("customer_id", N_("Customer")),
    Col("tx_id", N_("Transaction id"), "code"),
))
ALERTS = TableSpec("alerts", N_("Alerts"), (
    Col("raised_at", N_("Raised"), "time"),
    Col("device_id", N_("Device"), "code"),
    Col("kind", N_("Kind"), "pill", pills={"anomaly": "warn", "health": "bad"}),
    Col("state", N_("Status"), "pill", pills={"open": "warn", "acknowledged": "ok", "cleared": "ok"}),
    Col("closed_at", N_("Closed at"), "time"),
    Col("score", N_("Score"), "num"),
    Col("reasons_text", N_("Reasons"), "list"),  # in the reader's language (i18n.reasons)
    Col("reasons", N_("Reasons as stored"), "list", html=False),  # the device's English, for the API and exports
    Col("tx_id", N_("Transaction id"), "code"),
    Col("model", N_("Model")),
    Col("alert_id", N_("Alert id"), "code"),
))


def _store(store_id: str) -> tuple[StoreScope, sq.StoreInfo]:
    scope = require_store(store_id)
    with hub().connect() as conn:
        info = sq.store_info(conn, current_scope(), store_id)
    if info is None:
        abort(404, description=_("no store %(store)s", store=repr(store_id)))
    return scope, info


def _sales_since(info: sq.StoreInfo, days: int) -> str:
    tz = sq.zone(info.timezone)
    first = sq.local_today(now(), tz) - timedelta(days=days - 1)
    return sq.utc_text(sq.local_midnight(first, tz))


def _summary(scope: StoreScope, info: sq.StoreInfo) -> dict:
    with hub().connect() as conn:
        row = next((r for r in sq.store_rows(conn, scope, now()) if r.store_id == info.store_id), None)
        devices = fq.device_rows(conn, scope)
        alerts = sq.store_alerts(conn, scope, info.store_id, limit=20, currency=info.currency)
        # None unless the user sees every store (operators): see dead_letter_count
        dead = fq.dead_letter_count(conn, current_scope(), info.store_id)
    return {"store": asdict(info), "kpis": asdict(row) if row else None, "devices": devices, "alerts": alerts,
            "dead_letters": dead}


@blueprint.get("/stores/<store_id>")
@require("viewer")
def store_page(store_id: str) -> str:
    scope, info = _store(store_id)
    days = int_arg("days", 1, 90, 7)
    summary = _summary(scope, info)
    with hub().connect() as conn:
        sales = sq.recent_sales(conn, scope, info.store_id, since=_sales_since(info, days), limit=200)
    return render_template("store.html", info=info, summary=summary, days=days, sales=sales,
                           devices_spec=DEVICES, sales_spec=SALES, alerts_spec=ALERTS, daily_spec=DAILY)


@blueprint.get("/api/stores/<store_id>")
@require("viewer")
def api_store(store_id: str) -> Response:
    scope, info = _store(store_id)
    summary = _summary(scope, info)
    body = {"store": summary["store"], "kpis": summary["kpis"],
            "devices": DEVICES.records(summary["devices"]), "alerts": ALERTS.records(summary["alerts"]),
            "tables": {"devices": url_for("stores.api_devices", store_id=store_id),
                       "sales": url_for("stores.api_sales", store_id=store_id),
                       "daily": url_for("stores.api_daily", store_id=store_id),
                       "alerts": url_for("stores.api_alerts", store_id=store_id)}}
    if summary["dead_letters"] is not None:
        body["dead_letters"] = summary["dead_letters"]
    return jsonify(body)


@blueprint.get("/api/stores/<store_id>/devices")
@require("viewer")
def api_devices(store_id: str) -> Response:
    scope, _info = _store(store_id)
    with hub().connect() as conn:
        rows = fq.device_rows(conn, scope)
    return table_response(DEVICES, rows, filename=f"{store_id}-devices")


@blueprint.get("/api/stores/<store_id>/daily")
@require("viewer")
def api_daily(store_id: str) -> Response:
    scope, info = _store(store_id)
    days = int_arg("days", 1, 366, 14)
    with hub().connect() as conn:
        rows = sq.daily_sales(conn, scope, info, now(), days=days)
    return table_response(DAILY, rows, filename=f"{store_id}-daily-sales", timezone=info.timezone)


@blueprint.get("/api/stores/<store_id>/sales")
@require("viewer")
def api_sales(store_id: str) -> Response:
    scope, info = _store(store_id)
    days = int_arg("days", 1, 366, 7)
    limit = int_arg("limit", 1, 200_000, 5000)
    with hub().connect() as conn:
        rows = sq.recent_sales(conn, scope, info.store_id, since=_sales_since(info, days), limit=limit)
    return table_response(SALES, rows, filename=f"{store_id}-sales", days=days)


@blueprint.get("/api/stores/<store_id>/alerts")
@require("viewer")
def api_alerts(store_id: str) -> Response:
    scope, info = _store(store_id)
    limit = int_arg("limit", 1, 100_000, 500)
    with hub().connect() as conn:
        rows = sq.store_alerts(conn, scope, info.store_id, limit=limit, currency=info.currency)
    return table_response(ALERTS, rows, filename=f"{store_id}-alerts")


page = Page(blueprint)
