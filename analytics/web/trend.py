"""The store's Trend tab: daily net sales with the 28-day revenue forecast and its prediction
intervals (chart), the sales-count forecast, the hour x weekday heat map of the weeks before the
analysis date, the hourly traffic forecast with the staff suggested per hour, and the runs.

Every table has its JSON API (``?format=csv|xlsx`` exports); everything is per store and 404 for a
store outside the user's scope.  Days and hours are store-local; money is minor units in the API
and exports (with the store's currency), formatted on the page.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for

from analytics.jobs import results as rs
from analytics.web.context import hub
from analytics.web.datatable import Col, TableSpec
from analytics.web.pages import NavItem, Page
from analytics.web.params import int_arg
from analytics.web.queries import analytics as aq
from analytics.web.security import require
from analytics.web.store_results import StoreResults, head_context, open_store
from i18n import N_, format_weekday

blueprint = Blueprint("trend_page", __name__)

HISTORY_DAYS = 91
HEAT_WEEKS = 12
KIND_PILLS = {"actual": "ok", "forecast": "warn"}
RUN_PILLS = {"succeeded": "ok", "skipped": "", "running": "warn", "failed": "bad"}

SERIES = TableSpec("trend-series", N_("Daily sales and forecast"), (
    Col("day", N_("Day (store time)")),
    Col("kind", N_("Kind"), "pill", pills=KIND_PILLS),
    Col("revenue", N_("Net sales"), "money"),
    Col("sales", N_("Sales count"), "int"),
    Col("forecast", N_("Forecast"), "money"),
    Col("lo80", N_("80% low"), "money"),
    Col("hi80", N_("80% high"), "money"),
    Col("lo95", N_("95% low"), "money"),
    Col("hi95", N_("95% high"), "money"),
    Col("sales_forecast", N_("Sales count forecast"), "int"),
    Col("sales_lo80", N_("Count 80% low"), "int"),
    Col("sales_hi80", N_("Count 80% high"), "int"),
    Col("currency", N_("Currency"), html=False),
))
FORECAST = TableSpec("trend-forecast", N_("Forecast, next 28 days"), (
    Col("day", N_("Day (store time)")),
    Col("weekday", N_("Weekday")),
    Col("forecast", N_("Net sales forecast"), "money"),
    Col("lo80", N_("80% low"), "money"),
    Col("hi80", N_("80% high"), "money"),
    Col("lo95", N_("95% low"), "money"),
    Col("hi95", N_("95% high"), "money"),
    Col("sales_forecast", N_("Sales count"), "int"),
    Col("sales_lo80", N_("Count 80% low"), "int"),
    Col("sales_hi80", N_("Count 80% high"), "int"),
    Col("currency", N_("Currency"), html=False),
))
HEATMAP = TableSpec("trend-heatmap", N_("Sales by hour and weekday"), (
    Col("weekday", N_("Weekday")),
    Col("weekday_no", N_("Weekday number (0 = Monday)"), "int"),
    Col("hour", N_("Hour (store time)"), "int"),
    Col("sales", N_("Sales"), "int"),
    Col("per_week", N_("Sales per week"), "num"),
    Col("revenue", N_("Net sales"), "money"),
    Col("currency", N_("Currency")),
))
STAFFING = TableSpec("trend-staffing", N_("Hourly traffic and staffing"), (
    Col("day", N_("Day (store time)")),
    Col("hour_label", N_("Hour")),
    Col("hour", N_("Hour (store time)"), "int", html=False),
    Col("sales_mean", N_("Expected sales"), "num"),
    Col("sales_hi80", N_("Busy-case sales (80%)"), "num"),
    Col("staff", N_("Staff suggested"), "int"),
))
RUNS = TableSpec("trend-runs", N_("Analytics runs"), (
    Col("started_at", N_("Started"), "time"),
    Col("finished_at", N_("Finished"), "time"),
    Col("status", N_("Status"), "pill", pills=RUN_PILLS),
    Col("as_of", N_("As of")),
    Col("sales", N_("Sales used"), "int"),
    Col("published_at", N_("Sent to devices"), "time"),
    Col("error", N_("Error")),
    Col("run_id", N_("Run id"), "code"),
))


def _forecast_rows(res: StoreResults) -> list[dict[str, Any]]:
    revenue = res.get(rs.store_forecast, "revenue")
    sales = {r["day"]: r for r in res.get(rs.store_forecast, "sales")}
    out = []
    for r in revenue:
        s = sales.get(r["day"], {})
        out.append({"day": r["day"], "weekday": format_weekday(date.fromisoformat(r["day"]).weekday()),
                    "kind": "forecast", "forecast": r["mean"], "lo80": r["lo80"], "hi80": r["hi80"],
                    "lo95": r["lo95"], "hi95": r["hi95"], "sales_forecast": s.get("mean"),
                    "sales_lo80": s.get("lo80"), "sales_hi80": s.get("hi80"), "currency": res.currency})
    return out


def _series_rows(res: StoreResults, days: int) -> list[dict[str, Any]]:
    """The ``days`` days of actual sales before the analysis date, then the forecast days."""
    if res.as_of is None:
        return []
    with hub().connect() as conn:
        actual = aq.daily_actuals(conn, res.scope, res.store_id, res.info.timezone, res.as_of, days)
    rows: list[dict[str, Any]] = [{"day": a.day, "kind": "actual", "revenue": a.revenue, "sales": a.sales,
                                   "currency": res.currency} for a in actual]
    return rows + _forecast_rows(res)


def _heatmap(res: StoreResults, weeks: int) -> aq.HeatMap | None:
    if res.as_of is None:
        return None
    with hub().connect() as conn:
        return aq.hour_weekday(conn, res.scope, res.store_id, res.info.timezone, res.as_of, weeks)


def _staffing_rows(res: StoreResults, day: str | None) -> list[dict[str, Any]]:
    rows = res.get(rs.hourly_traffic, day)
    return [{**r, "hour_label": f"{int(r['hour']):02d}:00", "sales_mean": round(float(r["sales_mean"]), 2),
             "sales_hi80": round(float(r["sales_hi80"]), 2)} for r in rows]


def _day_arg(forecast_days: list[str]) -> str | None:
    day = request.args.get("day") or None
    if day is not None and day not in forecast_days:
        abort(400, description=f"day must be one of the forecast days ({forecast_days[0]} to {forecast_days[-1]})"
              if forecast_days else "there is no forecast yet")
    return day


@blueprint.get("/stores/<store_id>/trend")
@require("viewer")
def store_trend(store_id: str) -> str:
    res = open_store(store_id)
    ctx = head_context(res, "trend_page.store_trend")
    forecast = _forecast_rows(res) if res.run else []
    days = [r["day"] for r in forecast]
    day = _day_arg(days)
    staffing = res.get(rs.staffing, day) if res.run else {"day": None, "hours": [], "peak_staff": 0}
    staffing_day = staffing.get("day")
    kpis: dict[str, Any] = {}
    heat = None
    as_of = res.as_of  # every stored run has one
    if res.run and as_of is not None:
        with hub().connect() as conn:
            last28 = aq.daily_actuals(conn, res.scope, res.store_id, res.info.timezone, as_of, 28)
        heat = _heatmap(res, HEAT_WEEKS)
        kpis = {"next7": sum(r["forecast"] for r in forecast[:7]), "next28": sum(r["forecast"] for r in forecast),
                "next28_sales": sum(r["sales_forecast"] or 0 for r in forecast),
                "last28": sum(a.revenue for a in last28), "last28_sales": sum(a.sales for a in last28)}
    return render_template(
        "trend.html", **ctx, forecast=forecast, forecast_spec=FORECAST, kpis=kpis, heat=heat,
        heat_weeks=HEAT_WEEKS, history_days=HISTORY_DAYS, days=days, staffing=staffing, staffing_day=staffing_day,
        staffing_rows=_staffing_rows(res, staffing_day) if staffing_day else [], staffing_spec=STAFFING,
        runs=res.get(rs.run_history, 10), runs_spec=RUNS,
        series_url=url_for("trend_page.api_trend", store_id=store_id, days=HISTORY_DAYS))


@blueprint.get("/api/stores/<store_id>/trend")
@require("viewer")
def api_trend(store_id: str) -> Response:
    res = open_store(store_id)
    days = int_arg("days", 7, 730, HISTORY_DAYS)
    return res.table(SERIES, _series_rows(res, days), "trend", days=days)


@blueprint.get("/api/stores/<store_id>/forecast")
@require("viewer")
def api_forecast(store_id: str) -> Response:
    res = open_store(store_id)
    return res.table(FORECAST, _forecast_rows(res), "forecast")


@blueprint.get("/api/stores/<store_id>/heatmap")
@require("viewer")
def api_heatmap(store_id: str) -> Response:
    res = open_store(store_id)
    weeks = int_arg("weeks", 1, 104, HEAT_WEEKS)
    heat = _heatmap(res, weeks)
    rows = [] if heat is None else [
        {"weekday": format_weekday(c.weekday), "weekday_no": c.weekday, "hour": c.hour, "sales": c.sales,
         "per_week": c.per_week, "revenue": c.revenue, "currency": res.currency} for c in heat.cells]
    return res.table(HEATMAP, rows, "heatmap", weeks=weeks, first_day=heat.first_day if heat else None,
                     last_day=heat.last_day if heat else None)


@blueprint.get("/api/stores/<store_id>/staffing")
@require("viewer")
def api_staffing(store_id: str) -> Response:
    """Every forecast hour, or one day's (``?day=YYYY-MM-DD``)."""
    res = open_store(store_id)
    days = [r["day"] for r in res.get(rs.store_forecast, "sales")]
    day = _day_arg(days)
    return res.table(STAFFING, _staffing_rows(res, day), f"staffing{'-' + day if day else ''}", day=day)


@blueprint.get("/api/stores/<store_id>/runs")
@require("viewer")
def api_runs(store_id: str) -> Response:
    res = open_store(store_id)
    limit = int_arg("limit", 1, 1000, 30)
    return res.table(RUNS, res.get(rs.run_history, limit), "runs")


page = Page(blueprint, nav=(NavItem("Trend", "trend_page.store_trend", "viewer", per_store=True, order=50),))
