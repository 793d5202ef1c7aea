"""Catalogue management: products with price, cost (set by hand, or moved by deliveries: the cost history and
the margin at the shelf price are on the product's page), barcode, category, reorder level; receiving stock; enrolment
photos uploaded into the store's gallery (the rules of ``tillsight vision enrol``: vision.gallery.enrol)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import flash, jsonify, request
from werkzeug.wrappers import Response  # what redirect() is typed to return; flask's Response is one

from edge.store.costs import MAX_COST, record_cost_change, shelf_margin
from edge.store.database import utc_now
from edge.store.products import BARCODE_RE, MAX_PRICE, SKU_RE
from edge.store.records import Product
from edge.store.stock import MAX_QTY, apply_movement
from edge.web.context import ctx
from edge.web.forms import BadInput, get_int, get_text
from edge.web.manage import (
    PageAnswer,
    catalogue_changed,
    conflict,
    done,
    fmt_money,
    form_action,
    money_field,
    plain_amount,
    render,
    settings,
    strict_bool,
)
from edge.web.manage import manage_blueprint as bp
from edge.web.manage_receiving import receipt_notice, receive
from edge.web.manage_stock import reason_name
from edge.web.photo_notes import not_a_photo, note_text, report_json
from edge.web.security import current_user, json_body, me, require
from i18n import gettext as _
from i18n import ngettext
from vision.gallery import GalleryError
from vision.gallery.enrol import PHOTO_SUFFIXES, PhotoNote, SkuReport, enrol_photos

log = logging.getLogger(__name__)

STATUSES = ("active", "inactive", "low", "all")
MAX_REORDER = 1_000_000
MAX_PHOTOS = 20  # enrolment photos in one upload
PHOTO_UPLOAD_LIMIT = 48 * 1024 * 1024  # bytes in one upload (phone photos are a few MB each)


def product_json(p: Product, currency: str) -> dict[str, Any]:
    margin = shelf_margin(p.price, p.cost, settings().tax_rate_bp)
    return {"sku": p.sku, "name": p.name, "price": p.price, "price_text": fmt_money(p.price, currency),
            "barcode": p.barcode, "category": p.category, "active": p.active, "stock_qty": p.stock_qty,
            "reorder_level": p.reorder_level, "low_stock": p.low_stock, "cost": p.cost,
            "cost_text": None if p.cost is None else fmt_money(p.cost, currency),
            "unit_profit": None if margin is None else margin[0], "margin_pct": None if margin is None else margin[1]}


def _cost(data: dict[str, Any]) -> int | None:
    """The ``cost`` field: money, or empty for "no cost"."""
    raw = data.get("cost")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return money_field(data, "cost", 0, MAX_COST)


def _sku(data: dict[str, Any]) -> str:
    sku = get_text(data, "sku", 64)
    if not SKU_RE.match(sku):
        raise BadInput("sku", _("must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"))
    return sku


def _barcode(data: dict[str, Any], sku: str | None) -> str | None:
    raw = data.get("barcode")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    code = get_text(data, "barcode", 14)
    if not BARCODE_RE.match(code):
        raise BadInput("barcode", _("must be 6-14 digits"))
    other = ctx().store.products.by_barcode(code, include_inactive=True)
    if other is not None and other.sku != (sku or ""):
        raise BadInput("barcode", _("%(code)s already belongs to %(sku)s (%(name)s)", code=code, sku=other.sku,
                                        name=other.name))
    return code


def _fields(data: dict[str, Any], current: Product | None, sku: str) -> dict[str, Any]:
    """The product's fields from ``data``; a field left out keeps its current value (on an edit)."""
    def value(key: str, read: Callable[[], Any]) -> Any:
        """The submitted value; on an edit that left the field out, the product's current one."""
        return read() if current is None or key in data else getattr(current, key)

    reorder_default = settings().low_stock_default if current is None else None
    return {
        "name": value("name", lambda: get_text(data, "name", 120)),
        "price": value("price", lambda: money_field(data, "price", 1, MAX_PRICE)),
        "barcode": value("barcode", lambda: _barcode(data, sku)),
        "category": value("category", lambda: get_text(data, "category", 60, required=False)),
        "reorder_level": value("reorder_level",
                               lambda: get_int(data, "reorder_level", 0, MAX_REORDER, default=reorder_default)),
    }


# -- actions (shared by the pages and the API) -------------------------------------------------
def create_product(data: dict[str, Any]) -> Product:
    store = ctx().store
    sku = _sku(data)
    fields = _fields(data, None, sku)
    opening = get_int(data, "stock", 0, MAX_QTY, default=0)
    cost = _cost(data)
    user = current_user()
    with store.db.transaction() as conn:  # checked inside the write, so two adds of one SKU can't both land
        taken = store.products.sku_taken(conn, sku)
        if taken:
            raise conflict(_("SKU %(sku)s already exists; edit it instead", sku=taken))
        store.products.upsert(sku, conn=conn, **fields)
        if opening:
            apply_movement(conn, sku, opening, "receiving", utc_now(), user_id=user.id if user else None,
                           note="opening stock")
        if cost is not None:
            record_cost_change(conn, sku, None, cost, "manual", utc_now(), user_id=user.id if user else None,
                               note="opening cost")
    catalogue_changed()
    return store.products.get(sku)


def update_product(sku: str, data: dict[str, Any]) -> Product:
    store = ctx().store
    current = store.products.get(sku)
    fields = _fields(data, current, sku)
    cost = _cost(data) if "cost" in data else current.cost
    product = store.products.upsert(sku, active=current.active, **fields)
    if cost != current.cost:  # set by hand: kept in the cost history like a delivery's
        store.costs.set_cost(sku, cost, me().id, note=get_text(data, "cost_note", 200, required=False))
        product = store.products.get(sku)
    catalogue_changed()
    return product


def set_product_active(sku: str, data: dict[str, Any]) -> Product:
    store = ctx().store
    store.products.get(sku)
    product = store.products.set_active(sku, strict_bool(data, "active"))
    catalogue_changed()
    return product


def receive_stock(sku: str, data: dict[str, Any]) -> tuple[Product, int]:
    """Book a delivery in (``edge.web.manage_receiving.receive``); returns the product and the quantity."""
    ctx().store.products.get(sku)  # an unknown product is a 404 here, as on its page
    receipt = receive({**data, "sku": sku})
    return ctx().store.products.get(sku), receipt.qty


# -- pages -------------------------------------------------------------------------------------
def _filtered(products: list[Product], q: str, category: str, status: str) -> list[Product]:
    q = q.lower()
    out = []
    for p in products:
        if (status == "active" and not p.active) or (status == "inactive" and p.active):
            continue
        if status == "low" and not p.low_stock:
            continue
        if category and p.category != category:
            continue
        if q and q not in p.sku.lower() and q not in p.name.lower() and q != (p.barcode or "") \
                and q not in p.category.lower():
            continue
        out.append(p)
    return out


def _products_page(error: str | None = None, form: dict[str, Any] | None = None) -> str:
    store = ctx().store
    everything = store.products.list(include_inactive=True)
    q = request.args.get("q", "").strip()[:64]
    category = request.args.get("category", "").strip()[:60]
    status = request.args.get("status", "active")
    status = status if status in STATUSES else "active"
    categories = sorted({p.category for p in everything if p.category})
    shown = _filtered(everything, q, category, status)
    tax_rate_bp = settings().tax_rate_bp
    return render("products.html", products=shown, total=len(everything), categories=categories, q=q,
                  margin_of=lambda p: shelf_margin(p.price, p.cost, tax_rate_bp),
                  category=category, status=status, statuses=STATUSES, error=error,
                  form=form or {"reorder_level": settings().low_stock_default})


@bp.get("/manage/products")
@require("owner")
def products_page() -> str:
    return _products_page()


@bp.post("/manage/products")
@require("owner")
def products_create() -> PageAnswer:
    data = request.form.to_dict()

    def action() -> Response:
        p = create_product(data)
        return done(_("Added %(sku)s %(name)s", sku=p.sku, name=p.name), "manage.product_page", sku=p.sku)

    return form_action(action, lambda msg: _products_page(error=msg, form=data))


def _gallery_examples(sku: str) -> tuple[int | None, str | None]:
    """How many gallery examples the product has, and why that cannot be told (no gallery, a corrupt one)."""
    access = ctx().gallery
    if access is None:
        return None, "recognition is switched off on this till"
    try:
        return access.examples(sku), None
    except GalleryError as exc:
        return None, str(exc)


def _product_page(sku: str, error: str | None = None, form: dict[str, Any] | None = None) -> str:
    store = ctx().store
    product = store.products.get(sku)
    cur = settings().currency
    form = form or {"name": product.name, "price": plain_amount(product.price, cur),
                    "barcode": product.barcode or "", "category": product.category,
                    "reorder_level": product.reorder_level,
                    "cost": "" if product.cost is None else plain_amount(product.cost, cur)}
    categories = sorted({p.category for p in store.products.list(include_inactive=True) if p.category})
    examples, gallery_problem = _gallery_examples(sku)
    return render("product.html", product=product, form=form, error=error, categories=categories,
                  movements=store.stock.movements(sku, limit=25), reason_name=reason_name, examples=examples,
                  gallery_problem=gallery_problem, max_photos=MAX_PHOTOS,
                  margin=shelf_margin(product.price, product.cost, settings().tax_rate_bp),
                  cost_history=store.costs.history(sku, limit=20), suppliers=store.suppliers.list(),
                  supplier_links=store.suppliers.links(sku=sku))


@bp.get("/manage/products/<sku>")
@require("owner")
def product_page(sku: str) -> str:
    return _product_page(sku)


@bp.post("/manage/products/<sku>")
@require("owner")
def product_update(sku: str) -> PageAnswer:
    data = request.form.to_dict()
    ctx().store.products.get(sku)

    def action() -> Response:
        p = update_product(sku, data)
        return done(_("Saved %(sku)s %(name)s", sku=p.sku, name=p.name), "manage.product_page", sku=p.sku)

    return form_action(action, lambda msg: _product_page(sku, error=msg, form=data))


@bp.post("/manage/products/<sku>/active")
@require("owner")
def product_set_active(sku: str) -> PageAnswer:
    data = request.form.to_dict()
    ctx().store.products.get(sku)

    def action() -> Response:
        p = set_product_active(sku, data)
        return done(_("%(sku)s is now active", sku=p.sku) if p.active
                    else _("%(sku)s is now inactive (no longer sold)", sku=p.sku),
                    "manage.product_page", sku=p.sku)

    return form_action(action, lambda msg: _product_page(sku, error=msg))


@bp.post("/manage/products/<sku>/receive")
@require("owner")
def product_receive(sku: str) -> PageAnswer:
    data = request.form.to_dict()
    ctx().store.products.get(sku)

    def action() -> Response:
        receipt = receive({**data, "sku": sku})
        p = ctx().store.products.get(sku)
        return done(receipt_notice(receipt, p.name), "manage.product_page", sku=p.sku)

    return form_action(action, lambda msg: _product_page(sku, error=msg))


def enrol_uploaded_photos(sku: str) -> SkuReport:
    """Add the request's uploaded ``photos`` to the gallery as examples of ``sku``: each is checked as
    ``tillsight vision enrol`` checks a photo file; the refused ones come back with the reason."""
    product = ctx().store.products.get(sku)
    access = ctx().gallery
    if access is None:
        raise conflict(_("recognition is switched off on this till: there is no gallery to add photos to"))
    files = [f for f in request.files.getlist("photos") if f.filename]
    if not files:
        raise BadInput("photos", _("choose one or more photos of the product"))
    if len(files) > MAX_PHOTOS:
        raise BadInput("photos", _("at most %(most)s photos at a time (%(chosen)s chosen)", most=MAX_PHOTOS,
                                   chosen=len(files)))
    photos: list[tuple[str, bytes]] = []
    refused: list[PhotoNote] = []
    for f in files:
        name = Path(f.filename or "photo").name[:120]
        if Path(name).suffix.lower() not in PHOTO_SUFFIXES:
            refused.append(not_a_photo(name))
            continue
        photos.append((name, f.read()))
    try:
        with access.edit() as gallery:
            report = enrol_photos(gallery, access.embedder, sku, photos, source="photos")
            gallery.manifest.names[sku] = product.name
    except GalleryError as exc:
        raise conflict(_("the gallery cannot be changed: %(error)s", error=exc)) from None
    report.refused[:0] = refused
    log.info("enrolment photos of %s: %d kept, %d skipped, %d refused", sku, report.kept, len(report.skipped),
             len(report.refused))
    return report


@bp.post("/manage/products/<sku>/photos")
@require("owner")
def product_photos_upload(sku: str) -> PageAnswer:
    ctx().store.products.get(sku)

    def action() -> Response:
        report = enrol_uploaded_photos(sku)
        for note in report.refused:
            flash(_("%(name)s refused: %(reason)s", name=note.photo, reason=note_text(note)), "error")
        for note in report.skipped:
            flash(_("%(name)s not added: %(reason)s", name=note.photo, reason=note_text(note)), "notice")
        return done(ngettext("Added %(num)d photo of %(sku)s; the gallery has %(examples)s of it",
                             "Added %(num)d photos of %(sku)s; the gallery has %(examples)s of it",
                             report.kept, sku=sku, examples=report.examples),
                    "manage.product_page", sku=sku, _anchor="enrolment")

    return form_action(action, lambda msg: _product_page(sku, error=msg))


# -- API ---------------------------------------------------------------------------------------
@bp.get("/api/products")
@require("cashier")
def api_products() -> Response:
    store = ctx().store
    include_inactive = request.args.get("all") == "1" and me().at_least("owner")
    q = request.args.get("q", "").strip()[:64]
    category = request.args.get("category", "").strip()[:60]
    products = _filtered(store.products.list(include_inactive=include_inactive), q, category, "all")
    cur = settings().currency
    return jsonify(currency=cur, products=[product_json(p, cur) for p in products])


@bp.post("/api/products")
@require("owner")
def api_product_create() -> tuple[Response, int]:
    p = create_product(json_body())
    return jsonify(product=product_json(p, settings().currency)), 201


@bp.put("/api/products/<sku>")
@require("owner")
def api_product_update(sku: str) -> Response:
    return jsonify(product=product_json(update_product(sku, json_body()), settings().currency))


@bp.post("/api/products/<sku>/active")
@require("owner")
def api_product_active(sku: str) -> Response:
    return jsonify(product=product_json(set_product_active(sku, json_body()), settings().currency))


@bp.post("/api/products/<sku>/photos")
@require("owner")
def api_product_photos(sku: str) -> Response:
    return jsonify(report_json(enrol_uploaded_photos(sku)))


@bp.post("/api/products/<sku>/receive")
@require("owner")
def api_product_receive(sku: str) -> Response:
    p, qty = receive_stock(sku, json_body())
    return jsonify(product=product_json(p, settings().currency), received=qty)
