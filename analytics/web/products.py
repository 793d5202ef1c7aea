"""The store's Products tab: costs and margins (gross profit per product over a period, which make the
most money and which lose money; from the sales themselves, so before any run too), top products of
the last 28 days, the reorder list (reorder point, order quantity, stock on hand, predicted stock-out,
lead time, service level), slow movers, and one SKU's forecast (the weeks of actual units before the
analysis date, then the 28-day forecast with its intervals, the model the backtest chose and its
score).  Every table has its JSON API with CSV and Excel exports; a store outside the user's scope is
a 404, page and API alike.  Costs made up at import from a default margin are marked "assumed"."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for

from analytics.jobs import results as rs
from analytics.web.context import hub, now
from analytics.web.datatable import Col, Link, TableSpec
from analytics.web.pages import NavItem, Page
from analytics.web.params import int_arg
from analytics.web.queries import analytics as aq
from analytics.web.queries import costs as cq
from analytics.web.security import require
from analytics.web.store_results import StoreResults, head_context, open_store
from i18n import N_
from i18n import gettext as _

blueprint = Blueprint("products_page", __name__)

SKU_HISTORY_DAYS = 84
REORDER_SHOWN = 100  # rows on the page; the exports hold them all
SLOW_SHOWN = 100
SKU_LINK = Link("products_page.store_products", {"store_id": "store_id", "sku": "sku"})
ADVICE_PILLS = {"order now": "bad", "enough stock": "ok", "stock unknown": "warn"}

TOP = TableSpec("products-top", N_("Top products, last 28 days"), (
    Col("sku", N_("SKU"), "code", link=SKU_LINK),
    Col("name", N_("Product")),
    Col("category", N_("Category")),
    Col("units", N_("Units"), "int"),
    Col("revenue", N_("Revenue"), "money"),
    Col("sales", N_("Sales"), "int"),
    Col("change", N_("Revenue change vs the 28 days before"), "pct"),
    Col("currency", N_("Currency"), html=False),
))
REORDER = TableSpec("products-reorder", N_("Reorder list"), (
    Col("sku", N_("SKU"), "code", link=SKU_LINK),
    Col("name", N_("Product")),
    Col("category", N_("Category")),
    Col("advice", N_("Advice"), "pill", pills=ADVICE_PILLS),
    Col("on_hand", N_("On hand"), "int"),
    Col("reorder_point", N_("Reorder point"), "int"),
    Col("order_qty", N_("Order quantity"), "int"),
    Col("order_up_to", N_("Order up to"), "int"),
    Col("safety_stock", N_("Safety stock"), "int"),
    Col("stockout_date", N_("Predicted stock-out")),
    Col("days_of_cover", N_("Days of cover"), "num"),
    Col("mean_daily", N_("Units a day (forecast)"), "num"),
    Col("lead_time_days", N_("Lead time (days)"), "int"),
    Col("review_days", N_("Review every (days)"), "int", html=False),
    Col("service_level", N_("Service level"), "pct"),
    Col("lead_time_demand", N_("Lead-time demand"), "num", html=False),
    Col("stock_as_of", N_("Stock reported"), "time", html=False),
    Col("units_28d", N_("Units, last 28 days"), "int", html=False),
    Col("slow_mover", N_("Slow mover"), "bool", html=False),
))
SLOW = TableSpec("products-slow", N_("Slow movers"), (
    Col("sku", N_("SKU"), "code", link=SKU_LINK),
    Col("name", N_("Product")),
    Col("category", N_("Category")),
    Col("slow_reason", N_("Why")),
    Col("last_sold", N_("Last sold (store time)")),
    Col("units_28d", N_("Units, last 28 days"), "int"),
    Col("on_hand", N_("On hand"), "int"),
    Col("days_of_cover", N_("Days of cover"), "num"),
))
SKUS = TableSpec("products-skus", N_("SKUs with a forecast"), (
    Col("sku", N_("SKU"), "code", link=SKU_LINK),
    Col("name", N_("Product")),
    Col("category", N_("Category")),
    Col("model", N_("Forecast model")),
    Col("demand_class", N_("Demand")),
    Col("mean_daily", N_("Units a day (forecast)"), "num"),
    Col("backtest_mae", N_("Backtest MAE (units a day)"), "num"),
    Col("dispersion", N_("Dispersion"), "num", html=False),
))
MARGIN_DAYS = (7, 28, 91, 365)  # the periods the page offers
MARGIN_SORTS = {"profit": N_("most gross profit first"), "margin": N_("highest margin first"),
                "revenue": N_("most revenue first"), "loss": N_("only those that lose money")}  # shown translated
COST_PILLS = {"till": "ok", "imported": "ok", "assumed": "warn", "no cost": "bad"}
MARGINS = TableSpec("products-margins", N_("Costs and margins"), (
    Col("sku", N_("SKU"), "code", link=SKU_LINK),
    Col("name", N_("Product")),
    Col("units", N_("Units"), "int"),
    Col("revenue", N_("Revenue"), "money"),
    Col("cost", N_("Cost of goods"), "money"),
    Col("gross_profit", N_("Gross profit"), "money"),
    Col("margin", N_("Margin"), "pct"),
    Col("price", N_("Price now"), "money"),
    Col("unit_cost", N_("Unit cost now"), "money"),
    Col("unit_margin", N_("Margin at today's price"), "pct"),
    Col("cost_basis", N_("Cost from"), "pill", pills=COST_PILLS),
    Col("cost_coverage", N_("Revenue with a known cost"), "pct", html=False),
    Col("loses_money", N_("Loses money"), "bool", html=False),
    Col("currency", N_("Currency"), html=False),
))
BEST = TableSpec("products-best", N_("Which make the most money"), MARGINS.columns)
LOSING = TableSpec("products-losing", N_("Which lose money"), MARGINS.columns)
BEST_SHOWN = 10
MARGINS_SHOWN = 100


def cost_basis(m: cq.ProductMargin) -> str:
    """Where the product's cost comes from, as the page says it: ``till`` (the device's average cost),
    ``imported`` (a file's cost column), ``assumed`` (made up from a default margin) or ``no cost``."""
    if m.gross_profit is None and m.unit_cost is None:
        return "no cost"
    if m.assumed:
        return "assumed"
    return "imported" if m.cost_source == "import" else "till"


def _margin_rows(items: list[cq.ProductMargin], store_id: str, currency: str | None) -> list[dict[str, Any]]:
    return [{**m.as_row(), "cost_basis": cost_basis(m), "store_id": store_id, "currency": currency} for m in items]


def _margins(res: StoreResults, days: int) -> tuple[date | None, list[cq.ProductMargin]]:
    """The period's (exclusive) end and its products' margins, most gross profit first."""
    with hub().connect() as conn:
        end = cq.period_end(conn, res.scope, res.store_id, res.info.timezone, now())
        if end is None:
            return None, []
        return end, cq.product_margins(conn, res.scope, res.store_id, res.info.timezone, end, days)


def _margin_args() -> tuple[int, str]:
    days = int_arg("days", 1, 3660, 28)
    by = (request.args.get("by") or "profit").strip()
    if by not in MARGIN_SORTS:
        abort(400, description=_("by: one of %(choices)s", choices=", ".join(MARGIN_SORTS)))
    return days, by


SKU_SERIES = TableSpec("products-sku-forecast", N_("Units per day and forecast"), (
    Col("day", N_("Day (store time)")),
    Col("kind", N_("Kind"), "pill", pills={"actual": "ok", "forecast": "warn"}),
    Col("units", N_("Units sold"), "int"),
    Col("mean", N_("Forecast"), "num"),
    Col("lo80", N_("80% low"), "num"),
    Col("hi80", N_("80% high"), "num"),
    Col("lo95", N_("95% low"), "num"),
    Col("hi95", N_("95% high"), "num"),
))


def advice(row: dict[str, Any]) -> str:
    """``order now`` / ``enough stock`` when the devices report stock, else ``stock unknown`` (then
    the advice is to order ``order_qty`` when the shelf is down to the reorder point)."""
    if row.get("order_now") is None:
        return "stock unknown"
    return "order now" if row["order_now"] else "enough stock"


def _reorder(res: StoreResults, limit: int, only_order_now: bool = False) -> list[dict[str, Any]]:
    return [{**r, "advice": advice(r)} for r in res.get(rs.reorder_list, only_order_now=only_order_now, limit=limit)]


def _top(res: StoreResults, limit: int = 20) -> list[dict[str, Any]]:
    return [{**r, "store_id": res.store_id, "currency": res.currency} for r in res.get(rs.top_products, limit)]


def _slow(res: StoreResults, limit: int) -> list[dict[str, Any]]:
    return [{**r, "store_id": res.store_id} for r in res.get(rs.slow_movers, limit)]


def _sku_series(res: StoreResults, forecast: dict[str, Any], days: int) -> list[dict[str, Any]]:
    assert res.as_of is not None
    with hub().connect() as conn:
        actual = aq.sku_daily_units(conn, res.scope, res.store_id, forecast["sku"], res.info.timezone, res.as_of,
                                    days)
    rows: list[dict[str, Any]] = [{"day": a["day"], "kind": "actual", "units": a["units"]} for a in actual]
    rows += [{"day": d["day"], "kind": "forecast", "mean": round(float(d["mean"]), 3), "lo80": d["lo80"],
              "hi80": d["hi80"], "lo95": d["lo95"], "hi95": d["hi95"]} for d in forecast["days"]]
    return rows


def _margin_context(res: StoreResults) -> dict[str, Any]:
    days, by = _margin_args()
    end, margins = _margins(res, days)
    shown = cq.sort_margins(margins, by)
    return {
        "margin_days": days, "margin_by": by, "margin_sorts": MARGIN_SORTS, "margin_periods": MARGIN_DAYS,
        "margin_from": (end - timedelta(days=days)).isoformat() if end else None,
        "margin_to": (end - timedelta(days=1)).isoformat() if end else None,
        "margin_totals": cq.totals(margins) if margins else None, "margins_spec": MARGINS, "best_spec": BEST,
        "losing_spec": LOSING,
        "margins": _margin_rows(shown[:MARGINS_SHOWN], res.store_id, res.currency), "margins_count": len(shown),
        "best": _margin_rows([m for m in cq.sort_margins(margins, "profit")
                              if m.gross_profit is not None and m.gross_profit > 0][:BEST_SHOWN],
                             res.store_id, res.currency),
        "losing": _margin_rows(cq.sort_margins(margins, "loss"), res.store_id, res.currency),
    }


@blueprint.get("/stores/<store_id>/products")
@require("viewer")
def store_products(store_id: str) -> str:
    res = open_store(store_id)
    ctx = {**head_context(res, "products_page.store_products"), **_margin_context(res)}
    if res.run is None:
        return render_template("products.html", **ctx)
    skus = res.get(rs.forecast_skus, limit=300)
    asked = (request.args.get("sku") or "").strip() or None
    sku = asked or (skus[0]["sku"] if skus else None)
    forecast = res.get(rs.sku_forecast, sku) if sku else None
    reorder = _reorder(res, REORDER_SHOWN)
    slow = _slow(res, 200_000)
    return render_template(
        "products.html", **ctx, top=_top(res), top_spec=TOP, reorder=reorder, reorder_spec=REORDER,
        order_now=sum(1 for r in reorder if r["order_now"]),
        stock_known=any(r["order_now"] is not None for r in reorder),
        sku_count=((res.run.get("metrics") or {}).get("forecast") or {}).get("skus", len(skus)),
        slow=slow[:SLOW_SHOWN], slow_count=len(slow), slow_spec=SLOW,
        skus=skus, skus_spec=SKUS, sku=sku, asked=asked, forecast=forecast,
        sku_reorder=({**forecast["reorder"], "advice": advice(forecast["reorder"])}
                     if forecast and forecast.get("reorder") else None),
        sku_url=url_for("products_page.api_sku_forecast", store_id=store_id, sku=sku) if forecast else None)


@blueprint.get("/api/stores/<store_id>/margins")
@require("viewer")
def api_margins(store_id: str) -> Response:
    """Each product's revenue, cost, gross profit and margin over the ``?days=`` (28) store-local days
    up to today (or the store's last sale), sorted ``?by=profit|margin|revenue|loss`` (``loss``: only
    the products that lose money)."""
    res = open_store(store_id)
    days, by = _margin_args()
    end, margins = _margins(res, days)
    rows = _margin_rows(cq.sort_margins(margins, by), res.store_id, res.currency)
    total = cq.totals(margins) if margins else None
    return res.table(MARGINS, rows, f"margins-{days}d", days=days, by=by,
                     first_day=(end - timedelta(days=days)).isoformat() if end else None,
                     last_day=(end - timedelta(days=1)).isoformat() if end else None,
                     gross_profit=total.gross_profit if total else None, margin=total.margin if total else None,
                     cost_coverage=total.cost_coverage if total else None,
                     assumed_costs=total.assumed if total else False)


@blueprint.get("/api/stores/<store_id>/top-products")
@require("viewer")
def api_top(store_id: str) -> Response:
    res = open_store(store_id)
    return res.table(TOP, _top(res, int_arg("limit", 1, 1000, 20)), "top-products")


@blueprint.get("/api/stores/<store_id>/reorder")
@require("viewer")
def api_reorder(store_id: str) -> Response:
    """The reorder advice (``?order_now=1``: only what to order now)."""
    res = open_store(store_id)
    only = request.args.get("order_now") in ("1", "true", "yes")
    rows = _reorder(res, int_arg("limit", 1, 200_000, 200_000), only_order_now=only)
    return res.table(REORDER, rows, "reorder-now" if only else "reorder", order_now=only)


@blueprint.get("/api/stores/<store_id>/slow-movers")
@require("viewer")
def api_slow(store_id: str) -> Response:
    res = open_store(store_id)
    return res.table(SLOW, _slow(res, int_arg("limit", 1, 200_000, 200_000)), "slow-movers")


@blueprint.get("/api/stores/<store_id>/skus")
@require("viewer")
def api_skus(store_id: str) -> Response:
    """SKUs with a forecast, busiest first (``?q=`` searches SKU and name)."""
    res = open_store(store_id)
    rows = res.get(rs.forecast_skus, search=(request.args.get("q") or "").strip() or None,
                   limit=int_arg("limit", 1, 200_000, 200_000))
    return res.table(SKUS, rows, "sku-forecasts")


@blueprint.get("/api/stores/<store_id>/sku-forecast")
@require("viewer")
def api_sku_forecast(store_id: str) -> Response:
    """One SKU (``?sku=``; without it the store's top-selling forecast SKU, as on the page): its
    units per day before the analysis date and the forecast after, with the model, its backtest
    score and the SKU's reorder advice.  Before the first run (no SKU to default to): no rows."""
    res = open_store(store_id)
    sku = (request.args.get("sku") or "").strip()
    if not sku:
        top = res.get(rs.forecast_skus, limit=1)
        if not top:
            return res.table(SKU_SERIES, [], "sku-forecast", sku=None)
        sku = top[0]["sku"]
    forecast = res.get(rs.sku_forecast, sku)
    if forecast is None:
        abort(404, description=_("no forecast for SKU %(sku)s in this store's newest run", sku=repr(sku)))
    days = int_arg("days", 7, 730, SKU_HISTORY_DAYS)
    reorder = forecast.get("reorder")
    stem = "forecast-" + re.sub(r"[^A-Za-z0-9._-]", "_", sku)
    return res.table(SKU_SERIES, _sku_series(res, forecast, days), stem, sku=sku,
                     name=forecast["name"], category=forecast["category"], model=forecast["model"],
                     demand_class=forecast["demand_class"], mean_daily=forecast["mean_daily"],
                     backtest_mae=forecast["backtest_mae"],
                     reorder=({k: v for k, v in reorder.items() if k not in ("run_id",)} if reorder else None))


page = Page(blueprint, nav=(NavItem("Products", "products_page.store_products", "viewer", per_store=True, order=52),))
