"""Suppliers (supervisor and up): who delivers (name, contact, phone, e-mail, note), which products each one
delivers with its lead time in days, and the deliveries booked in from it (``edge.store.suppliers``)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from werkzeug.wrappers import Response  # what redirect() is typed to return; flask's Response is one

from edge.store.products import SKU_RE
from edge.store.records import Supplier, SupplierLink
from edge.store.suppliers import MAX_LEAD_DAYS
from edge.web.context import ctx
from edge.web.forms import BadInput, get_int, get_text
from edge.web.manage import PageAnswer, done, form_action, render, strict_bool
from edge.web.manage import manage_blueprint as bp
from edge.web.manage_receiving import receipt_json
from edge.web.security import json_body, require
from i18n import gettext as _


def supplier_json(s: Supplier) -> dict[str, Any]:
    return {"id": s.id, "name": s.name, "contact": s.contact, "phone": s.phone, "email": s.email, "note": s.note,
            "active": s.active}


def link_json(link: SupplierLink) -> dict[str, Any]:
    return {"sku": link.sku, "name": link.product_name, "supplier_id": link.supplier_id,
            "supplier": link.supplier_name, "lead_time_days": link.lead_time_days}


def _fields(data: dict[str, Any]) -> dict[str, str]:
    return {"name": get_text(data, "name", 120), "contact": get_text(data, "contact", 120, required=False),
            "phone": get_text(data, "phone", 30, required=False), "email": get_text(data, "email", 120, required=False),
            "note": get_text(data, "note", 500, required=False)}


def save_supplier(data: dict[str, Any], supplier_id: int | None = None) -> Supplier:
    fields = _fields(data)
    store = ctx().store
    if store.suppliers.name_taken(fields["name"], by_other_than=supplier_id):
        raise BadInput("name", _("a supplier with this name exists already"))
    return store.suppliers.save(supplier_id=supplier_id, **fields)


def link_product(supplier_id: int, data: dict[str, Any]) -> SupplierLink:
    sku = get_text(data, "sku", 64)
    if not SKU_RE.match(sku) or ctx().store.products.find(sku) is None:
        raise BadInput("sku", _("no product has this SKU"))
    days = get_int(data, "lead_time_days", 0, MAX_LEAD_DAYS)
    return ctx().store.suppliers.link(supplier_id, sku, days)


# -- pages -------------------------------------------------------------------------------------
def _list_page(error: str | None = None, form: dict[str, Any] | None = None) -> str:
    store = ctx().store
    show_all = request.args.get("show") == "all"
    links = store.suppliers.links()
    count = {s.id: sum(1 for link in links if link.supplier_id == s.id) for s in store.suppliers.list(True)}
    return render("suppliers.html", suppliers=store.suppliers.list(include_inactive=show_all), products_of=count,
                  show_all=show_all, error=error, form=form or {})


@bp.get("/manage/suppliers")
@require("supervisor")
def suppliers_page() -> str:
    return _list_page()


@bp.post("/manage/suppliers")
@require("supervisor")
def suppliers_create() -> PageAnswer:
    data = request.form.to_dict()

    def action() -> Response:
        s = save_supplier(data)
        return done(_("Added supplier %(name)s", name=s.name), "manage.supplier_page", supplier_id=s.id)

    return form_action(action, lambda msg: _list_page(error=msg, form=data))


def _supplier_page(supplier_id: int, error: str | None = None, form: dict[str, Any] | None = None,
                   link_form: dict[str, Any] | None = None) -> str:
    store = ctx().store
    supplier = store.suppliers.get(supplier_id)
    return render("supplier.html", supplier=supplier, form=form or supplier_json(supplier),
                  links=store.suppliers.links(supplier_id=supplier_id), products=store.products.list(),
                  receipts=store.costs.receipts(supplier_id=supplier_id, limit=50), error=error,
                  link_form=link_form or {})


@bp.get("/manage/suppliers/<int:supplier_id>")
@require("supervisor")
def supplier_page(supplier_id: int) -> str:
    return _supplier_page(supplier_id)


@bp.post("/manage/suppliers/<int:supplier_id>")
@require("supervisor")
def supplier_update(supplier_id: int) -> PageAnswer:
    data = request.form.to_dict()
    ctx().store.suppliers.get(supplier_id)

    def action() -> Response:
        s = save_supplier(data, supplier_id)
        return done(_("Saved supplier %(name)s", name=s.name), "manage.supplier_page", supplier_id=s.id)

    return form_action(action, lambda msg: _supplier_page(supplier_id, error=msg, form=data))


@bp.post("/manage/suppliers/<int:supplier_id>/active")
@require("supervisor")
def supplier_set_active(supplier_id: int) -> PageAnswer:
    data = request.form.to_dict()
    ctx().store.suppliers.get(supplier_id)

    def action() -> Response:
        s = ctx().store.suppliers.set_active(supplier_id, strict_bool(data, "active"))
        message = _("%(name)s is active again", name=s.name) if s.active else \
            _("%(name)s is inactive (kept for its deliveries)", name=s.name)
        return done(message, "manage.supplier_page", supplier_id=s.id)

    return form_action(action, lambda msg: _supplier_page(supplier_id, error=msg))


@bp.post("/manage/suppliers/<int:supplier_id>/products")
@require("supervisor")
def supplier_link(supplier_id: int) -> PageAnswer:
    data = request.form.to_dict()
    ctx().store.suppliers.get(supplier_id)

    def action() -> Response:
        link = link_product(supplier_id, data)
        return done(_("%(supplier)s delivers %(name)s in %(days)s day(s)", supplier=link.supplier_name,
                      name=link.product_name, days=link.lead_time_days), "manage.supplier_page",
                    supplier_id=supplier_id)

    return form_action(action, lambda msg: _supplier_page(supplier_id, error=msg, link_form=data))


@bp.post("/manage/suppliers/<int:supplier_id>/products/<sku>/remove")
@require("supervisor")
def supplier_unlink(supplier_id: int, sku: str) -> Response:
    ctx().store.suppliers.get(supplier_id)
    ctx().store.suppliers.unlink(supplier_id, sku)
    return done(_("%(sku)s removed from this supplier", sku=sku), "manage.supplier_page", supplier_id=supplier_id)


# -- API ---------------------------------------------------------------------------------------
@bp.get("/api/suppliers")
@require("supervisor")
def api_suppliers() -> Response:
    store = ctx().store
    return jsonify(suppliers=[supplier_json(s) for s in store.suppliers.list(include_inactive=True)],
                   products=[link_json(link) for link in store.suppliers.links()])


@bp.post("/api/suppliers")
@require("supervisor")
def api_supplier_create() -> tuple[Response, int]:
    return jsonify(supplier=supplier_json(save_supplier(json_body()))), 201


@bp.get("/api/suppliers/<int:supplier_id>")
@require("supervisor")
def api_supplier(supplier_id: int) -> Response:
    store = ctx().store
    currency = store.settings.get().currency
    return jsonify(supplier=supplier_json(store.suppliers.get(supplier_id)),
                   products=[link_json(link) for link in store.suppliers.links(supplier_id=supplier_id)],
                   receipts=[receipt_json(r, currency) for r in store.costs.receipts(supplier_id=supplier_id)])


@bp.put("/api/suppliers/<int:supplier_id>")
@require("supervisor")
def api_supplier_update(supplier_id: int) -> Response:
    ctx().store.suppliers.get(supplier_id)
    return jsonify(supplier=supplier_json(save_supplier(json_body(), supplier_id)))


@bp.post("/api/suppliers/<int:supplier_id>/products")
@require("supervisor")
def api_supplier_link(supplier_id: int) -> Response:
    ctx().store.suppliers.get(supplier_id)
    return jsonify(product=link_json(link_product(supplier_id, json_body())))
