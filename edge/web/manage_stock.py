"""Stock count (supervisor and up): a count sheet, the difference against the book stock, and the
adjustments posted as stock movements with a reason, in one transaction; plus the movement history.

Only the products actually counted are posted; a counted quantity replaces the book stock, so the
movement is ``counted - book`` at the moment of posting.  Differences are valued at cost (the product's
moving average cost when posted; a movement in the history at the cost of its time), never at the shelf
price: a product with no cost has no value and is counted apart ("no cost"), never as a zero loss.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Response, jsonify, request

from edge.store.database import utc_now
from edge.store.products import SKU_RE
from edge.store.stock import COUNT_REASONS, MAX_QTY, MOVEMENT_REASONS, value_at_cost
from edge.web.context import ctx
from edge.web.forms import BadInput, get_int, get_text
from edge.web.manage import PageAnswer, form_action, local_time, render, settings
from edge.web.manage import manage_blueprint as bp
from edge.web.security import json_body, me, require
from i18n import N_, format_number
from i18n import gettext as _

MAX_LINES = 5000
MAX_MOVEMENTS = 500
REASON_NAMES = {"sale": N_("Sale"), "refund": N_("Refund"), "receiving": N_("Receiving"), "count": N_("Count"),
                "damage": N_("Damage"), "theft": N_("Theft"), "correction": N_("Correction")}


def reason_name(reason: str) -> str:
    """A movement reason as the reader's language names it (the stored code when it is not a known one)."""
    return _(REASON_NAMES[reason]) if reason in REASON_NAMES else reason


def adjustment_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Net units and their value at cost of count adjustments (rows with ``delta``, ``value``): what was lost,
    what was found, the net; products with no cost are counted apart, never as zero."""
    changed = [r for r in rows if r["delta"]]
    costed = [r for r in changed if r["value"] is not None]
    uncosted = [r for r in changed if r["value"] is None]
    return {"units": sum(r["delta"] for r in changed),
            "value": sum(r["value"] for r in costed),
            "lost": sum(r["value"] for r in costed if r["value"] < 0),
            "found": sum(r["value"] for r in costed if r["value"] > 0),
            "uncosted": len({r["sku"] for r in uncosted}), "uncosted_units": sum(r["delta"] for r in uncosted)}


def count_sheet() -> list[dict[str, Any]]:
    """Active products grouped by category: ``[{category, products: [{sku, name, ..., book}]}]``."""
    products = ctx().store.products.list(include_inactive=False)
    products.sort(key=lambda p: (p.category.lower(), p.name.lower()))
    return [{"category": cat or _("Uncategorised"),
             "products": [{"sku": p.sku, "name": p.name, "barcode": p.barcode, "price": p.price, "cost": p.cost,
                           "book": p.stock_qty} for p in group]}
            for cat, group in groupby(products, key=lambda p: p.category)]


def post_stock_count(data: dict[str, Any]) -> dict[str, Any]:
    """Validate ``{counts: {sku: qty}, reason, note}`` and post the adjustments; returns the summary, each
    difference valued at the product's cost when posted (``value`` None: no cost)."""
    store = ctx().store
    counts = data.get("counts")
    if not isinstance(counts, dict) or not counts:
        raise BadInput("counts", _("enter at least one counted quantity"))
    if len(counts) > MAX_LINES:
        raise BadInput("counts", _("at most %(most)s products per count", most=format_number(MAX_LINES)))
    parsed: dict[str, int] = {}
    products = {}
    for sku, qty in counts.items():
        if not isinstance(sku, str) or not SKU_RE.match(sku):
            raise BadInput("counts", _("every key must be a product SKU"))
        field = f"counts.{sku}"
        parsed[sku] = get_int({field: qty}, field, 0, MAX_QTY)
        product = store.products.find(sku)
        if product is None:
            raise BadInput(field, _("no product has this SKU"))
        products[sku] = product
    reason = data.get("reason", "count")
    if reason not in COUNT_REASONS:
        raise BadInput("reason", _("must be one of %(choices)s", choices=", ".join(COUNT_REASONS)))
    note = get_text(data, "note", 200, required=False)
    rows = store.stock.post_count(parsed, me().id, reason=reason, note=note)
    adjustments = []
    for row in rows:
        p = products[row["sku"]]
        adjustments.append({**row, "name": p.name, "category": p.category, "price": p.price,
                            "value": value_at_cost(row["delta"], row["unit_cost"])})
    adjustments.sort(key=lambda a: (a["category"].lower(), a["name"].lower()))
    totals = adjustment_totals(adjustments)
    return {"posted_at": utc_now(), "reason": reason, "note": note, "adjustments": adjustments,
            "counted": len(adjustments), "changed": sum(1 for a in adjustments if a["delta"]), **totals}


def movements(sku: str | None = None, reason: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The movement history, each valued at the cost of its time (``value`` None: no cost then)."""
    rows = ctx().store.stock.history(sku, reason, limit)
    tz = settings().timezone
    for r in rows:
        r["at_local"] = local_time(r["at"], tz)
        r["value"] = value_at_cost(r["delta"], r["unit_cost"])
    return rows


def _movement_filters(args: dict[str, Any]) -> tuple[str | None, str | None, int]:
    sku = (args.get("sku") or "").strip() or None
    if sku is not None and not SKU_RE.match(sku):
        raise BadInput("sku", _("must be a product SKU"))
    reason = (args.get("reason") or "").strip() or None
    if reason is not None and reason not in MOVEMENT_REASONS:
        raise BadInput("reason", _("must be one of %(choices)s", choices=", ".join(MOVEMENT_REASONS)))
    limit = get_int(args, "limit", 1, MAX_MOVEMENTS, default=200)
    return sku, reason, limit


# -- pages -------------------------------------------------------------------------------------
def _count_page(error: str | None = None, form: dict[str, Any] | None = None) -> str:
    return render("stock_count.html", sheet=count_sheet(), reasons=COUNT_REASONS, error=error, form=form or {},
                  reason_name=reason_name)


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
        return render("stock_count_result.html", result=result, reason_name=reason_name)

    return form_action(action, lambda msg: _count_page(error=msg, form=form))


@bp.get("/manage/stock-movements")
@require("supervisor")
def stock_movements_page() -> str:
    sku, reason, limit = _movement_filters(request.args.to_dict())
    rows = movements(sku, reason, limit)
    adjustments = adjustment_totals([r for r in rows if r["reason"] in COUNT_REASONS])
    return render("stock_movements.html", movements=rows, sku=sku or "", reason=reason or "", reasons=MOVEMENT_REASONS,
                  limit=limit, adjustments=adjustments, reason_name=reason_name,
                  any_adjustments=any(r["reason"] in COUNT_REASONS for r in rows))


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
    rows = movements(sku, reason, limit)
    return jsonify(movements=rows, adjustments=adjustment_totals([r for r in rows if r["reason"] in COUNT_REASONS]))
