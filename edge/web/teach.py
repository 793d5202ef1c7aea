"""The "Teach a product" screen (the ``teach`` blueprint): supervisors and owners teach the till a
product on its own tray, so it is recognised from the next sale.

| route | what |
|---|---|
| ``GET /teach`` | the screen: pick a product (search, or scan its barcode; owners may create one), then teach it |
| ``GET /api/teach`` | the teaching session's state, messages and kept views |
| ``POST /api/teach/start`` ``{sku}`` | start teaching (refused while a sale is open) |
| ``POST /api/teach/empty`` | "the tray is empty" (when the camera keeps seeing something on it) |
| ``POST /api/teach/views/<id>/drop`` | drop a bad view |
| ``POST /api/teach/approve`` | add the kept views to the store's gallery (it is saved; the recogniser reloads it) |
| ``POST /api/teach/cancel`` | stop, keeping nothing |
| ``GET /api/teach/barcode`` | the barcode the camera sees now, and the product it belongs to |
| ``GET /teach/views/<id>.jpg`` | a kept view's thumbnail |

Links: ``/teach?sku=SKU`` preselects a product, ``/teach?barcode=CODE`` the product with that barcode
(or fills a new product's barcode).  The session itself is ``edge.web.teach_session.Teacher``, one per
app, built on first use from the live camera view, the checkout (is a sale open?) and the gallery.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import NotFound

from edge.store.products import BARCODE_RE
from edge.store.records import Product
from edge.web.context import ctx
from edge.web.live import LiveView
from edge.web.security import json_body, me, require
from edge.web.teach_session import Teacher, TeachError, TrayLook
from i18n import gettext as _
from vision.barcode import BarcodeReader
from vision.gallery import GalleryError

log = logging.getLogger(__name__)

teach_blueprint = Blueprint("teach", __name__)

TEACHER_KEY = "tillsight.teacher"
_build_lock = threading.Lock()


def live_feed(live: LiveView | None):
    """The live camera as a ``TrayFeed``: the latest frame and, when the basket is settled, how many
    items the recogniser sees on the tray."""
    def feed() -> TrayLook | None:
        if live is None:
            return None
        snap = live.loop.snapshot()
        if snap.image is None:
            return None
        basket = snap.basket
        return TrayLook(snap.image, len(basket.items) if basket is not None and basket.settled else None)

    return feed


def teacher() -> Teacher:
    """This app's teaching session (built on first use)."""
    found = current_app.extensions.get(TEACHER_KEY)
    if found is not None:
        return found
    with _build_lock:
        found = current_app.extensions.get(TEACHER_KEY)
        if found is None:
            context = ctx()
            found = Teacher(live_feed(context.live), context.gallery, context.checkout.sale_open,
                            has_camera=context.live is not None)
            current_app.extensions[TEACHER_KEY] = found
        return found


def _product_json(p: Product) -> dict[str, Any]:
    return {"sku": p.sku, "name": p.name, "barcode": p.barcode, "category": p.category, "active": p.active}


def _product_by_barcode(code: str) -> Product | None:
    return ctx().store.products.by_barcode(code, include_inactive=True)


def _examples(sku: str) -> int | None:
    access = ctx().gallery
    if access is None:
        return None
    try:
        return access.examples(sku)
    except GalleryError as exc:  # a corrupt gallery: named in the log, and on the screen at approval
        log.warning("gallery unreadable: %s", exc)
        return None


@teach_blueprint.errorhandler(TeachError)
def _refused(exc: TeachError) -> tuple[Response, int]:
    return jsonify(error=str(exc)), 409


@teach_blueprint.get("/teach")
@require("supervisor")
def index() -> str:
    context = ctx()
    chosen: Product | None = None
    barcode = request.args.get("barcode", "").strip()[:14]
    sku = request.args.get("sku", "").strip()[:64]
    if sku:
        chosen = context.store.products.find(sku)
    elif barcode and BARCODE_RE.match(barcode):
        chosen = _product_by_barcode(barcode)
    if barcode and not BARCODE_RE.match(barcode):
        barcode = ""
    return render_template("teach/index.html", chosen=_product_json(chosen) if chosen else None,
                           barcode=barcode if chosen is None else "",
                           examples=_examples(chosen.sku) if chosen else None,
                           has_camera=teacher().has_camera, live_stream=context.live is not None,
                           has_gallery=context.gallery is not None,
                           can_create=me().at_least("owner"), sale_open=context.checkout.sale_open(),
                           status=teacher().status())


@teach_blueprint.get("/api/teach")
@require("supervisor")
def api_status() -> Response:
    return jsonify(teacher().status())


@teach_blueprint.post("/api/teach/start")
@require("supervisor")
def api_start() -> Response:
    data = json_body()
    sku = str(data.get("sku", "")).strip()
    product = ctx().store.products.find(sku) if sku else None
    if product is None:
        raise NotFound(_("no product %(sku)s in the catalogue: pick one, or create it first", sku=repr(sku)))
    if not product.active:
        raise TeachError(_("%(sku)s %(name)s is inactive (not sold): reactivate it first",
                           sku=product.sku, name=product.name))
    user = me()
    return jsonify(teacher().start(product.sku, product.name, user.name))


@teach_blueprint.post("/api/teach/empty")
@require("supervisor")
def api_empty() -> Response:
    return jsonify(teacher().tray_is_empty())


@teach_blueprint.post("/api/teach/views/<int:view_id>/drop")
@require("supervisor")
def api_drop(view_id: int) -> Response:
    return jsonify(teacher().drop(view_id))


@teach_blueprint.post("/api/teach/approve")
@require("supervisor")
def api_approve() -> Response:
    t = teacher()
    t.approve()
    return jsonify(t.status())


@teach_blueprint.post("/api/teach/cancel")
@require("supervisor")
def api_cancel() -> Response:
    return jsonify(teacher().cancel())


@teach_blueprint.get("/api/teach/barcode")
@require("supervisor")
def api_barcode() -> Response:
    """The valid EAN-13 the camera reads on the tray now (none: ``barcode`` null) and its product."""
    live = ctx().live
    if live is None:
        raise TeachError(_("this till has no camera running: type or scan the barcode"))
    image = live.loop.snapshot().image
    hits = [h for h in BarcodeReader().read(image) if h.valid] if image is not None else []
    if not hits:
        return jsonify(barcode=None, product=None)
    code = hits[0].code
    product = _product_by_barcode(code)
    return jsonify(barcode=code, product=_product_json(product) if product else None)


@teach_blueprint.get("/teach/views/<int:view_id>.jpg")
@require("supervisor")
def view_thumbnail(view_id: int) -> Response:
    try:
        data = teacher().thumbnail(view_id)
    except KeyError:
        raise NotFound(_("no view %(view)s", view=view_id)) from None
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})
