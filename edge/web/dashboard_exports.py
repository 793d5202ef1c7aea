"""The owner's downloads (owner only), as CSV or Excel for a range of store-local days:

- ``/dashboard/export/sales?start=&end=&format=csv|xlsx``: one row per sale line: receipt, time, status,
  product, quantity, price, revenue net of discount and tax, unit cost, cost, gross profit;
- ``/dashboard/export/products?start=&end=&format=csv|xlsx``: one row per product sold: units, sales,
  revenue net, cost, gross profit, margin, revenue with no cost.

``start`` and ``end`` are inclusive dates (``end`` defaults to ``start``, ``start`` to today), at most
366 days apart.  A line or product with no cost has empty cost and profit cells ("no cost"), never a 100 %
margin.  Refunds are negative rows; voided sales are listed with their status and count in no total.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Response, request

from edge.store.reports import Reports, day_bounds
from edge.web.context import ctx
from edge.web.dashboard import _date_arg, _reports, dashboard_blueprint, now_utc
from edge.web.exports import FORMATS, csv_bytes, major, xlsx_bytes
from edge.web.forms import BadInput
from edge.web.security import require
from i18n import gettext as _

MAX_DAYS = 366


def _range(reports: Reports) -> tuple[date, date, str, str]:
    start = _date_arg("start") or reports.today(now_utc())
    end = _date_arg("end") or start
    if end < start:
        raise BadInput("end", _("must be on or after the start date"))
    if (end - start).days >= MAX_DAYS:
        raise BadInput("end", _("at most %(days)s days in one download", days=MAX_DAYS))
    zone = reports.zone()
    return start, end, day_bounds(start, zone)[0], day_bounds(end + timedelta(days=1), zone)[0]


def _format() -> str:
    fmt = request.args.get("format", "csv")
    if fmt not in FORMATS:
        raise BadInput("format", _("must be csv or xlsx"))
    return fmt


def _download(name: str, header: list[str], rows: list[list[object]], fmt: str) -> Response:
    if fmt == "xlsx":
        body = xlsx_bytes(header, rows, name)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, mime = csv_bytes(header, rows), "text/csv; charset=utf-8"
    return Response(body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


@dashboard_blueprint.get("/dashboard/export/sales")
@require("owner")
def export_sales() -> Response:
    reports = _reports()
    fmt = _format()
    start, end, lo, hi = _range(reports)
    cur = ctx().store.settings.get().currency
    header = [_("receipt"), _("completed (store time)"), _("status"), _("cashier"), _("payment"), _("line"), _("sku"),
              _("product"), _("category"), _("qty"), _("unit price (%(currency)s)", currency=cur),
              _("line total (%(currency)s)", currency=cur), _("net of discount and tax (%(currency)s)", currency=cur),
              _("unit cost (%(currency)s)", currency=cur), _("cost (%(currency)s)", currency=cur),
              _("gross profit (%(currency)s)", currency=cur)]
    rows: list[list[object]] = [
        [r["receipt_no"], r["completed_local"], r["status"], r["cashier_id"], r["payment_method"], r["line_no"],
         r["sku"], r["name"], r["category"] or "", r["qty"], major(r["unit_price"], cur), major(r["line_total"], cur),
         major(r["revenue"], cur), major(r["unit_cost"], cur), major(r["cost"], cur), major(r["gross_profit"], cur)]
        for r in reports.sale_lines_between(lo, hi)]
    return _download(f"sales-{start.isoformat()}-{end.isoformat()}", header, rows, fmt)


@dashboard_blueprint.get("/dashboard/export/products")
@require("owner")
def export_products() -> Response:
    reports = _reports()
    fmt = _format()
    start, end, lo, hi = _range(reports)
    cur = ctx().store.settings.get().currency
    header = [_("sku"), _("product"), _("units (net)"), _("sales at shelf prices (%(currency)s)", currency=cur),
              _("net of discount and tax (%(currency)s)", currency=cur), _("cost (%(currency)s)", currency=cur),
              _("gross profit (%(currency)s)", currency=cur), _("margin %"),
              _("sold with no cost (%(currency)s)", currency=cur)]
    rows: list[list[object]] = [
        [p.sku, p.name, p.qty, major(p.revenue, cur), major(p.net_revenue, cur), major(p.cost, cur),
         major(p.gross_profit, cur), p.margin_pct, major(p.uncosted_revenue, cur) if p.uncosted_revenue else None]
        for p in reports.products_between(lo, hi, by="profit")]
    return _download(f"products-{start.isoformat()}-{end.isoformat()}", header, rows, fmt)
