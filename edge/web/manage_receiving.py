"""Receiving (supervisor and up): book a delivery in with its quantity, unit cost and, optionally, the
supplier it came from; the product's cost moves to the weighted average of what is in stock and what
arrived (``edge.store.costs``).  The page lists the latest deliveries with the cost each one left.

A unit cost left empty books the stock in and keeps the product's cost as it is (a delivery whose
invoice has not come yet).  Costs are per unit, excluding tax the shop reclaims.

The product is picked with a searchable field (``static/picker.js``: type part of a name, a SKU or scan a
barcode; the catalogue is embedded in the page once).  The form posts the picked ``sku``; without one (no
JavaScript, or a barcode typed and posted at once) the typed ``product`` text is taken when it is a SKU, a
barcode or one product's exact name.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from werkzeug.wrappers import Response  # what redirect() is typed to return; flask's Response is one

from edge.store.costs import MAX_COST
from edge.store.products import SKU_RE
from edge.store.records import Product, StockReceipt
from edge.store.stock import MAX_QTY
from edge.web.context import ctx
from edge.web.forms import BadInput, get_int, get_text
from edge.web.manage import PageAnswer, catalogue_changed, done, fmt_money, form_action, money_field, render
from edge.web.manage import manage_blueprint as bp
from edge.web.security import json_body, me, require
from i18n import gettext as _

MAX_RECEIPTS = 500


def _optional_cost(data: dict[str, Any]) -> int | None:
    raw = data.get("unit_cost")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return money_field(data, "unit_cost", 0, MAX_COST)


def _supplier_id(data: dict[str, Any]) -> int | None:
    raw = data.get("supplier_id")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    supplier_id = get_int(data, "supplier_id", 1, 2**31)
    if not ctx().store.suppliers.exists(supplier_id):
        raise BadInput("supplier_id", _("no supplier has this number"))
    return supplier_id


def product_from_text(text: str) -> Product | None:
    """The one product a typed or scanned text names: its SKU, its barcode or its exact name (any case)."""
    text = text.strip()
    if not text:
        return None
    store = ctx().store
    if SKU_RE.match(text):
        found = store.products.find(text) or store.products.find(text.upper())
        if found is not None:
            return found
    if text.isdigit():
        found = store.products.by_barcode(text)
        if found is not None:
            return found
    named = [p for p in store.products.list() if p.name.casefold() == text.casefold()]
    return named[0] if len(named) == 1 else None


def _product_sku(data: dict[str, Any]) -> str:
    """The picked ``sku``; else the product the typed ``product`` text names."""
    sku = get_text(data, "sku", 64, required=False)
    if sku:
        if not SKU_RE.match(sku) or ctx().store.products.find(sku) is None:
            raise BadInput("sku", _("no product has this SKU"))
        return sku
    text = get_text(data, "product", 120, required=False)
    if not text:
        raise BadInput("sku", _("choose a product: type its name or SKU, or scan its barcode"))
    product = product_from_text(text)
    if product is None:
        raise BadInput("product", _("no product matches %(text)s: pick one from the list", text=text))
    return product.sku


def receive(data: dict[str, Any]) -> StockReceipt:
    """Validate ``{sku (or product: a SKU, barcode or exact name), qty, unit_cost?, supplier_id?, note?}`` and
    book the delivery in."""
    store = ctx().store
    sku = _product_sku(data)
    qty = get_int(data, "qty", 1, MAX_QTY)
    unit_cost = _optional_cost(data)
    supplier_id = _supplier_id(data)
    note = get_text(data, "note", 200, required=False)
    receipt = store.costs.receive(sku, qty, unit_cost, me().id, supplier_id=supplier_id, note=note)
    catalogue_changed()
    return receipt


def receipt_json(r: StockReceipt, currency: str) -> dict[str, Any]:
    def text(v: int | None) -> str | None:
        return None if v is None else fmt_money(v, currency)

    return {"id": r.id, "sku": r.sku, "name": r.product_name, "qty": r.qty, "unit_cost": r.unit_cost,
            "unit_cost_text": text(r.unit_cost), "supplier_id": r.supplier_id, "supplier": r.supplier_name,
            "cost_before": r.cost_before, "cost_after": r.cost_after, "cost_after_text": text(r.cost_after),
            "user_id": r.user_id, "note": r.note, "at": r.at}


def receipt_notice(r: StockReceipt, name: str) -> str:
    if r.unit_cost is None:
        return _("Received %(qty)s × %(name)s with no unit cost; the cost stays as it was", qty=r.qty, name=name)
    return _("Received %(qty)s × %(name)s at %(cost)s each; the average cost is now %(average)s", qty=r.qty,
             name=name, cost=fmt_money(r.unit_cost), average=fmt_money(r.cost_after or 0))


# -- pages -------------------------------------------------------------------------------------
def picker_products(products: list[Product]) -> list[list[Any]]:
    """The catalogue for the page's product picker: ``[sku, name, barcode, cost, category]`` per product."""
    return [[p.sku, p.name, p.barcode or "", p.cost, p.category] for p in products]


def _page(error: str | None = None, form: dict[str, Any] | None = None) -> str:
    store = ctx().store
    sku = request.args.get("sku", "").strip()[:64]
    form = form or {"sku": sku}
    chosen = store.products.find(form["sku"]) if SKU_RE.match(form.get("sku") or "") else None
    return render("receiving.html", picker_products=picker_products(store.products.list()), chosen=chosen,
                  suppliers=store.suppliers.list(), receipts=store.costs.receipts(limit=50), form=form, error=error,
                  error_field=error.split(":", 1)[0] if error else "",
                  links=store.suppliers.links(sku=chosen.sku) if chosen else [])


@bp.get("/manage/receiving")
@require("supervisor")
def receiving_page() -> str:
    return _page()


@bp.post("/manage/receiving")
@require("supervisor")
def receiving_submit() -> PageAnswer:
    data = request.form.to_dict()

    def action() -> Response:
        r = receive(data)
        name = ctx().store.products.get(r.sku).name
        return done(receipt_notice(r, name), "manage.receiving_page")

    return form_action(action, lambda msg: _page(error=msg, form=data))


# -- API ---------------------------------------------------------------------------------------
@bp.get("/api/receiving")
@require("supervisor")
def api_receipts() -> Response:
    args = request.args.to_dict()
    sku = (args.get("sku") or "").strip() or None
    if sku is not None and not SKU_RE.match(sku):
        raise BadInput("sku", _("must be a product SKU"))
    limit = get_int(args, "limit", 1, MAX_RECEIPTS, default=100)
    currency = ctx().store.settings.get().currency
    return jsonify(receipts=[receipt_json(r, currency) for r in ctx().store.costs.receipts(sku=sku, limit=limit)])


@bp.post("/api/receiving")
@require("supervisor")
def api_receive() -> tuple[Response, int]:
    r = receive(json_body())
    store = ctx().store
    r = store.costs.receipts(sku=r.sku, limit=1)[0]
    return jsonify(receipt=receipt_json(r, store.settings.get().currency)), 201
