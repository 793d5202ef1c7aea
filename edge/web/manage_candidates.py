"""Gallery candidates (owner): crops kept from cashiers' corrections, approved into the store's gallery
or rejected.

| route | what |
|---|---|
| ``GET /manage/candidates`` | the candidates, newest first: the crop, the product it was rung up as, how |
| ``GET /manage/candidates/<id>.jpg`` | one candidate's crop |
| ``POST /manage/candidates/<id>/approve`` | embed the crop, add it to the gallery and save it |
| ``POST /manage/candidates/<id>/reject`` | drop it |
| ``GET /api/manage/candidates`` | the same list as JSON |

A candidate comes from :mod:`edge.checkout.corrections` (a cashier picked an alternative, or rang up an
unknown or wrong camera line by barcode or search); the folder is bounded
(:class:`vision.gallery.candidates.CandidateStore`).  Approval goes through the web process's one locked
gallery writer (``WebContext.gallery``, :class:`edge.web.teach_session.GalleryAccess`), so it never races
a product being taught; the gallery keeps a bounded, diverse set per SKU and drops near-duplicates.
Nothing here touches a sale in progress.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Response, jsonify, send_file
from werkzeug.exceptions import NotFound

from edge.web.context import ctx
from edge.web.manage import PageAnswer, done, render
from edge.web.manage import manage_blueprint as bp
from edge.web.security import require
from i18n import gettext as _
from vision.gallery import GalleryError
from vision.gallery.candidates import Candidate, CandidateError, CandidateStore

log = logging.getLogger(__name__)

HOW_TEXT = {"alternative": "picked as the camera's alternative", "barcode": "rung up by its barcode",
            "search": "rung up by a search"}


def _store() -> CandidateStore | None:
    return ctx().candidates


def candidate_json(c: Candidate) -> dict[str, Any]:
    product = ctx().store.products.find(c.sku)
    said = ctx().store.products.find(c.camera_said) if c.camera_said else None
    return {"id": c.id, "sku": c.sku, "name": product.name if product else c.sku, "how": c.how,
            "how_text": HOW_TEXT.get(c.how, c.how), "camera_said": c.camera_said,
            "camera_said_name": (said.name if said else c.camera_said) if c.camera_said else "an unknown item",
            "at": c.at, "tx_id": c.tx_id, "photo_url": f"/manage/candidates/{c.id}.jpg"}


def _page(error: str | None = None) -> str:
    store = _store()
    candidates = [candidate_json(c) for c in store.pending()] if store is not None else []
    return render("candidates.html", candidates=candidates, error=error, enabled=store is not None,
                  gallery_ready=ctx().gallery is not None)


@bp.get("/manage/candidates")
@require("owner")
def candidates_page() -> str:
    return _page()


@bp.get("/api/manage/candidates")
@require("owner")
def candidates_json() -> Response:
    store = _store()
    return jsonify(candidates=[candidate_json(c) for c in store.pending()] if store is not None else [])


@bp.get("/manage/candidates/<candidate_id>.jpg")
@require("owner")
def candidate_photo(candidate_id: str) -> Response:
    store = _store()
    try:
        if store is None:
            raise CandidateError(_("no candidates on this till"))
        path = store.photo_path(candidate_id)
    except CandidateError as exc:
        raise NotFound(str(exc)) from None
    return send_file(path, mimetype="image/jpeg", max_age=0)


class Refused(Exception):
    """An approval or rejection that cannot be done; shown on the page."""


def approve(candidate_id: str) -> str:
    """Add the candidate's crop to the gallery; the notice to show."""
    store, gallery = _store(), ctx().gallery
    if store is None or gallery is None:
        raise Refused(_("this till has no gallery (recognition is off): candidates cannot be approved here"))
    try:
        with gallery.edit() as g:
            cand = store.get(candidate_id)
            result = store.approve(candidate_id, g, gallery.embedder)
    except (CandidateError, GalleryError) as exc:
        raise Refused(str(exc)) from None
    name = candidate_json(cand)["name"]
    if result.kept:
        return _("Added to the gallery as %(name)s: recognised from the next sale", name=name)
    return _("Not added: the gallery already has a photo just like it of %(name)s (%(example)s)", name=name,
             example=result.duplicate_of or result.reason)


def reject(candidate_id: str) -> str:
    store = _store()
    if store is None:
        raise Refused(_("no candidates on this till"))
    try:
        cand = store.reject(candidate_id)
    except CandidateError as exc:
        raise Refused(str(exc)) from None
    return _("Rejected the photo of %(name)s", name=candidate_json(cand)["name"])


def _act(fn: Callable[[str], str], candidate_id: str) -> PageAnswer:
    try:
        message = fn(candidate_id)
    except Refused as exc:
        return _page(error=str(exc)), 409
    return done(message, "manage.candidates_page")


@bp.post("/manage/candidates/<candidate_id>/approve")
@require("owner")
def candidate_approve(candidate_id: str) -> PageAnswer:
    return _act(approve, candidate_id)


@bp.post("/manage/candidates/<candidate_id>/reject")
@require("owner")
def candidate_reject(candidate_id: str) -> PageAnswer:
    return _act(reject, candidate_id)
