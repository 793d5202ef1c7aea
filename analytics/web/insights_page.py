"""The store's Insights tab: the latest daily and weekly narrative (with where its words came from and
any numbers the fact check dropped), a persona per customer and basket segment, recent alerts with
an explanation in plain words, and catalogue descriptions of products (written on demand).

Viewers read; owners regenerate (POST with the CSRF token), which uses the hub's language model
(``hub().ai``) when one is configured and otherwise writes the computed version, marked as such.
Reading never calls the model: it shows what was stored, or a computed version written on the fly.
A store outside the user's scope is a 404, page and API alike.  docs/insights.md describes it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for

from analytics.llm.notes import localized_note, with_localized_notes
from analytics.narratives import alerts as alert_text
from analytics.narratives import descriptions as desc
from analytics.narratives import narrative as nv
from analytics.narratives import personas as ps
from analytics.narratives.ai import NO_AI
from analytics.narratives.facts import PERIODS, FactsError
from analytics.segmentation.words import segment_name
from analytics.web.context import hub, now
from analytics.web.pages import NavItem, Page
from analytics.web.params import int_arg
from analytics.web.security import require
from analytics.web.store_results import StoreResults, open_store
from i18n import gettext as _

blueprint = Blueprint("insights", __name__)

COMPUTED_MARK = "computed from your figures (no AI)"


def _ai() -> Any:
    return getattr(hub(), "ai", None)


def ai_state() -> dict[str, Any]:
    ai = _ai()
    configured = bool(ai is not None and ai.configured)
    return {"configured": configured, "model": ai.model if configured else None,
            "mark": None if configured else COMPUTED_MARK}


def _period(value: Any) -> str:
    period = str(value or "daily")
    if period not in PERIODS:
        abort(400, description=_("period must be one of %(choices)s", choices=", ".join(PERIODS)))
    return period


def _narrative(res: StoreResults, period: str) -> dict[str, Any]:
    """The newest stored narrative, or a computed one written now (not stored, no AI call)."""
    found = nv.latest(hub().engine, res.store_id, period)
    if found is None:
        try:
            found = nv.generate(hub().engine, res.store_id, period, ai=None, allowed=sorted(res.allowed), now=now(),
                                save=False)
        except FactsError as exc:
            abort(404, description=str(exc))
    return with_localized_notes(found.to_json())


def _alerts(res: StoreResults, limit: int = 20) -> list[dict[str, Any]]:
    return alert_text.recent_with_explanations(hub().engine, res.store_id, limit=limit, currency=res.currency)


def _products(res: StoreResults, search: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    have = desc.stored(hub().engine, res.store_id)
    out = []
    for p in desc.products(hub().engine, res.store_id, search=search, limit=limit):
        d = have.get(p.sku)
        out.append({"sku": p.sku, "name": p.name, "category": p.category, "price": p.price,
                    "currency": res.currency, "description": d.to_json() if d else None,
                    "describe_url": url_for("insights.api_describe", store_id=res.store_id, sku=p.sku)})
    return out


@blueprint.get("/stores/<store_id>/insights")
@require("viewer")
def store_insights(store_id: str) -> str:
    res = open_store(store_id)
    narratives = {p: _narrative(res, p) for p in PERIODS}
    personas = _named([p.to_json() for p in ps.personas_for(hub().engine, res.store_id, sorted(res.allowed))])
    for n in narratives.values():
        # "no AI endpoint" is said once, at the top of the page (ai_state), not again in every narrative
        if n.get("note") == localized_note(NO_AI):
            n["note"] = None
    return render_template("insights_page.html", res=res, info=res.info, ai=ai_state(), narratives=narratives,
                           personas=personas, alerts=_alerts(res), products=_products(res, limit=30),
                           section_titles=nv.SECTIONS, tab="insights.store_insights")


@blueprint.get("/api/stores/<store_id>/insights/narrative")
@require("viewer")
def api_narrative(store_id: str) -> Response:
    res = open_store(store_id)
    return jsonify(narrative=_narrative(res, _period(request.args.get("period"))), ai=ai_state())


@blueprint.post("/api/stores/<store_id>/insights/narrative")
@require("owner")
def api_regenerate_narrative(store_id: str) -> Response:
    res = open_store(store_id)
    body = request.get_json(silent=True) or {}
    period = _period(body.get("period") if isinstance(body, dict) else None)
    try:
        n = nv.generate(hub().engine, res.store_id, period, ai=_ai(), allowed=sorted(res.allowed), now=now())
    except FactsError as exc:
        abort(404, description=str(exc))
    return jsonify(narrative=with_localized_notes(n.to_json()), ai=ai_state())


@blueprint.get("/api/stores/<store_id>/insights/personas")
@require("viewer")
def api_personas(store_id: str) -> Response:
    res = open_store(store_id)
    found = ps.personas_for(hub().engine, res.store_id, sorted(res.allowed))
    return jsonify(personas=_named(with_localized_notes([p.to_json() for p in found])), ai=ai_state())


@blueprint.post("/api/stores/<store_id>/insights/personas")
@require("owner")
def api_regenerate_personas(store_id: str) -> Response:
    res = open_store(store_id)
    found = ps.build_personas(hub().engine, res.store_id, _ai(), sorted(res.allowed))
    return jsonify(personas=_named(with_localized_notes([p.to_json() for p in found])), ai=ai_state())


def _named(personas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each persona with ``segment_name``: its stored (English) segment name in the reader's language."""
    return [{**p, "segment_name": segment_name(p["kind"], p["segment"], p.get("profile"))} for p in personas]


@blueprint.get("/api/stores/<store_id>/insights/alerts")
@require("viewer")
def api_alerts(store_id: str) -> Response:
    res = open_store(store_id)
    return jsonify(alerts=with_localized_notes(_alerts(res, int_arg("limit", 1, 200, 20))), ai=ai_state())


@blueprint.post("/api/stores/<store_id>/insights/alerts/<alert_id>/explain")
@require("owner")
def api_explain(store_id: str, alert_id: str) -> Response:
    res = open_store(store_id)
    try:
        exp = alert_text.explain(hub().engine, res.store_id, alert_id, _ai())
    except alert_text.AlertNotFound:
        abort(404, description=_("no alert %(alert)s", alert=repr(alert_id)))
    return jsonify(explanation=with_localized_notes(exp.to_json()), ai=ai_state())


@blueprint.get("/api/stores/<store_id>/insights/products")
@require("viewer")
def api_products(store_id: str) -> Response:
    res = open_store(store_id)
    search = (request.args.get("search") or "").strip()[:100] or None
    return jsonify(products=with_localized_notes(_products(res, search, int_arg("limit", 1, 500, 50))), ai=ai_state())


@blueprint.post("/api/stores/<store_id>/insights/products/<path:sku>/describe")
@require("owner")
def api_describe(store_id: str, sku: str) -> Response:
    res = open_store(store_id)
    try:
        d = desc.describe(hub().engine, res.store_id, sku, _ai())
    except desc.ProductNotFound:
        abort(404, description=_("no product %(sku)s", sku=repr(sku)))
    return jsonify(description=with_localized_notes(d.to_json()), ai=ai_state())


page = Page(blueprint, nav=(NavItem("Insights", "insights.store_insights", "viewer", per_store=True, order=60),))
