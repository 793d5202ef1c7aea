"""Stock count (supervisor and up): a count sheet, the difference against the book stock, and the
adjustments posted as stock movements with a reason, in one transaction; plus the movement history.

Only the products actually counted are posted; a counted quantity replaces the book stock, so the
movement is ``counted - book`` at the moment of posting.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Response, jsonify, request

from edge.store.database import utc_now
from edge.store.products import SKU_RE
from edge.store.stock import MAX_QTY, MOVEMENT_REASONS
from edge.web.context import ctx
from edge.web.forms import BadInput, get_int, get_text
from edge.web.manage import PageAnswer, form_action, local_time, render, settings
from edge.web.manage import manage_blueprint as bp
from edge.web.security import json_body, me, require
from i18n import gettext as _

COUNT_REASONS = ("count", "damage", "theft", "correction")
MAX_LINES = 5000
MAX_MOVEMENTS = 500


def count_sheet() -> list[dict[str, Any]]:
    """Active products grouped by category: ``[{category, products: [{sku, name, ..., book}]}]``."""
    products = ctx().store.products.list(include_inactive=False)
    products.sort(key=lambda p: (p.category.lower(), p.name.lower()))
    return [{"category": cat or "Uncategorised",
             "products": [{"sku": p.sku, "name": p.name, "barcode": p.barcode, "price": p.price, "book": p.stock_qty}
                          for p in group]}
            for cat, group in groupby(products, key=lambda p: p.category)]


def post_stock_count(data: dict[str, Any]) -> dict[str, Any]:
    """Validate ``{counts: {sku: qty}, reason, note}`` and post the adjustments; returns the summary."""
    store = ctx().store
    counts = data.get("counts")
    if not isinstance(counts, dict) or not counts:
        raise BadInput("counts", _("enter at least one counted quantity"))
    if len(counts) > MAX_LINES:
        raise BadInput("counts", f"at most {MAX_LINES:,} products per count")
    parsed: dict[str, int] = {}
    products = {}
    for sku, qty in counts.items():
        if not isinstance(sku, str) or not SKU_RE.match(sku):
            raise BadInput("counts", "every key must be a product SKU")
        field = f"counts.{sku}"
        parsed[sku] = get_int({field: qty}, field, 0, MAX_QTY)
        product = store.products.find(sku)
        if product is None:
            raise BadInput(field, _("no product has this SKU"))
        products[sku] = product
    reason = data.get("reason", "count")
    if reason not in COUNT_REASONS:
        raise BadInput("reason", f"must be one of {', '.join(COUNT_REASONS)}")
    note = get_text(data, "note", 200, required=False)
    rows = store.stock.post_count(parsed, me().id, reason=reason, note=note)
    adjustments = []
    for row in rows:
        p = products[row["sku"]]
        adjustments.append({**row, "name": p.name, "category": p.category, "price": p.price,
                            "value": row["delta"] * p.price})
    adjustments.sort(key=lambda a: (a["category"].lower(), a["name"].lower()))
    return {"posted_at": utc_now(), "reason": reason, "note": note, "adjustments": adjustments,
            "counted": len(adjustments), "changed": sum(1 for a in adjustments if a["delta"]),
            "units": sum(a["delta"] for a in adjustments), "value": sum(a["value"] for a in adjustments)}


def movements(sku: str | None = None, reason: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    where, params = [], []
    if sku:
        where.append("m.sku = ?")
        params.append(sku)
    if reason:
        where.append("m.reason = ?")
        params.append(reason)
    sql = ("SELECT m.id, m.sku, p.name, m.delta, m.reason, m.at, m.tx_id, m.user_id, u.name AS user_name, m.note,"
           " p.price FROM stock_movements m LEFT JOIN products p ON p.sku = m.sku"
           " LEFT JOIN users u ON u.id = m.user_id"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY m.id DESC LIMIT ?")
    rows = ctx().store.db.query(sql, (*params, limit))
    tz = settings().timezone
    for r in rows:
        r["at_local"] = local_time(r["at"], tz)
        r["value"] = r["delta"] * (r.pop("price") or 0)
    return rows


def _movement_filters(args: dict[str, Any]) -> tuple[str | None, str | None, int]:
    sku = (args.get("sku") or "").strip() or None
    if sku is not None and not SKU_RE.match(sku):
        raise BadInput("sku", "must be a product SKU")
    reason = (args.get("reason") or "").strip() or None
    if reason is not None and reason not in MOVEMENT_REASONS:
        raise BadInput("reason", f"must be one of {', '.join(MOVEMENT_REASONS)}")
    limit = get_int(args, "limit", 1, MAX_MOVEMENTS, default=200)
    return sku, reason, limit


# -- pages -------------------------------------------------------------------------------------
def _count_page(error: str | None = None, form: dict[str, Any] | None = None) -> str:
    return render("stock_count.html", sheet=count_sheet(), reasons=COUNT_REASONS, error=error, form=form or {})


@bp.get("/manage/stock-count")
@require("supervisor")
def stock_count_page() -> str:
    return _count_page()


def _form_counts(form: dict[str, str]) -> tuple[dict[str, str], dict[str, int]]:
    """``count-<sku>`` fields that were filled in, and the ``book-<sku>`` stock the sheet showed."""
    counts = {k[6:]: v.strip() for k, v in form.items() if k.startswith("count-") and v.strip()}
    seen = {}
    for k, v in form.items():
        if k.startswith("book-") and v.strip().lstrip("-").isdigit() and len(v) < 12:
            seen[k[5:]] = int(v)
    return counts, seen


@bp.post("/manage/stock-count")
@require("supervisor")
def stock_count_submit() -> PageAnswer:
    form = request.form.to_dict()
    counts, seen = _form_counts(form)

    def action() -> str:
        result = post_stock_count({"counts": counts, "reason": form.get("reason", "count"),
                                   "note": form.get("note", "")})
        for a in result["adjustments"]:
            a["book_on_sheet"] = seen.get(a["sku"])
        return render("stock_count_result.html", result=result)

    return form_action(action, lambda msg: _count_page(error=msg, form=form))


@bp.get("/manage/stock-movements")
@require("supervisor")
def stock_movements_page() -> str:
    sku, reason, limit = _movement_filters(request.args.to_dict())
    return render("stock_movements.html", movements=movements(sku, reason, limit), sku=sku or "",
                  reason=reason or "", reasons=MOVEMENT_REASONS, limit=limit)


# -- API ---------------------------------------------------------------------------------------
@bp.get("/api/stock-count/sheet")
@require("supervisor")
def api_count_sheet() -> Response:
    return jsonify(currency=settings().currency, reasons=list(COUNT_REASONS), categories=count_sheet())


@bp.post("/api/stock-count")
@require("supervisor")
def api_count_post() -> Response:
    return jsonify(**post_stock_count(json_body()))


@bp.get("/api/stock/movements")
@require("supervisor")
def api_movements() -> Response:
    sku, reason, limit = _movement_filters(request.args.to_dict())
    return jsonify(movements=movements(sku, reason, limit))
