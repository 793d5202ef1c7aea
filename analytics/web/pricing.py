"""The store's Pricing page (linked from Products): price suggestions inside the owner's guard rails,
the owner's decisions, and what each change did against what was predicted.

Viewers see it; owners (and operators) set the guard rails and approve, edit or reject: a form POST
with the CSRF token like every hub page.  An approved price becomes a signed ``prices`` fleet update
for the store's tills at once when the hub web app holds the fleet signing key
(``hub.fleet_signing_key``, see :func:`install_price_push`); otherwise it waits, shown as such,
until ``tillsight hub pricing push --store ID`` runs where the key is.  ``GET
/api/stores/<id>/pricing`` returns the same report as ``tillsight hub pricing --store ID --json``.

The page reads the store's **stored** report (``analytics/pricing/stored.py``: the nightly job computes
it) with the decisions made since laid over it, and says when it was computed; an owner may recompute
it ("Recompute now"), and saving the guard rails does.  Only a store whose report was never computed
gets it computed on its first view.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, redirect, render_template, request, url_for

from analytics.fleet.errors import FleetError
from analytics.pricing import changes as ch
from analytics.pricing import reasons as rs
from analytics.pricing.push import PushResult, waiting
from analytics.pricing.rails import ENDINGS, GuardRails, RailsError, broken_rail
from analytics.pricing.stored import StoredReport, compute_and_store, load_report, with_decisions
from analytics.pricing.suggest import PricingReport, save_rails
from analytics.pricing.words import say
from analytics.web.context import hub, now
from analytics.web.formatting import when
from analytics.web.pages import NavItem, Page
from analytics.web.security import current_user, require
from analytics.web.store_results import StoreResults, open_store
from contracts.money import MoneyError, format_money, parse_money
from firmware_config import TillsightConfig
from i18n import format_number
from i18n import gettext as _

log = logging.getLogger(__name__)

blueprint = Blueprint("pricing_page", __name__)

PUSH_KEY = "tillsight.pricing.push"
PushFn = Callable[..., PushResult]  # (store_id, now[, force]) -> the push
SHOWN = 200


def install_price_push(app: Flask, cfg: TillsightConfig) -> None:
    """Let approvals go to the tills at once when this hub holds the fleet signing key."""
    if cfg.hub.fleet_signing_key is None:
        log.info("hub.fleet_signing_key not set: approved prices wait for `tillsight hub pricing push`")
        return
    from analytics.fleet.operations import FleetSettings
    from analytics.pricing.push import push_prices

    settings = FleetSettings.from_config(cfg)
    app.extensions[PUSH_KEY] = lambda store_id, at, force=False: push_prices(settings, hub().engine, store_id, at,
                                                                             force=force)


def _pusher() -> PushFn | None:
    fn = current_app.extensions.get(PUSH_KEY)
    return fn if callable(fn) else None


class FormError(ValueError):
    pass


def _stored(res: StoreResults) -> StoredReport:
    """The store's stored report; computed here only when it never was (the nightly job computes it)."""
    stored = load_report(hub().engine, res.store_id)
    return stored or compute_and_store(hub().engine, res.store_id, now(), "first view")


def _report(res: StoreResults, stored: StoredReport | None = None) -> PricingReport:
    return with_decisions(hub().engine, (stored or _stored(res)).report, now())


def _who() -> str:
    user = current_user()
    return user.user_id if user is not None else "hub"


def _local(value: str | None, tz: str) -> str:
    """A stored UTC time in the store's zone, the reader's way (as the rest of the hub shows times)."""
    return when(value, tz)


def _plain(minor: int, currency: str) -> str:
    """An amount as the price field takes it back (``12.50``: no symbol, no thousands separator)."""
    return format_money(minor, currency, symbol=False).replace(",", "")


def _changes(res: StoreResults) -> list[dict[str, Any]]:
    tz = res.info.timezone
    rows = []
    for r in ch.list_changes(hub().engine, res.store_id, limit=SHOWN):
        out = ch.outcome(hub().engine, r, tz, now())
        rows.append({**r, "effective_local": _local(r["effective_at"], tz),
                     "decided_local": _local(r["decided_at"], tz), "outcome": out.as_dict() if out else None})
    return rows


def _render(res: StoreResults, error: str | None = None, status: int = 200, done: str | None = None) -> tuple[str, int]:
    stored = _stored(res)
    report = _report(res, stored)
    suggestions = report.suggestions()
    shown = {a.position.sku for a in suggestions}
    others = [a for a in report.products if a.position.sku not in shown]
    html = render_template(
        "pricing.html", res=res, report=report, suggestions=suggestions, others=others[:SHOWN],
        others_count=len(others), offers=report.offers, changes=_changes(res), rails=report.rails,
        endings=ENDINGS, error=error, done=done, can_push=_pusher() is not None,
        waiting=waiting(hub().engine, res.store_id), plain=lambda minor: _plain(minor, report.currency),
        now_local=now().astimezone(ZoneInfo(res.info.timezone)).strftime("%Y-%m-%dT%H:%M"),
        computed_local=_local(stored.computed_at, res.info.timezone), stored=stored,
        say=say, reason=report.reason_in,
        tab="pricing_page.store_pricing")
    return html, status


@blueprint.get("/stores/<store_id>/pricing")
@require("viewer")
def store_pricing(store_id: str) -> tuple[str, int]:
    res = open_store(store_id)
    return _render(res, done=request.args.get("done"))


@blueprint.get("/api/stores/<store_id>/pricing")
@require("viewer")
def api_pricing(store_id: str) -> Response:
    res = open_store(store_id)
    stored = _stored(res)
    report = _report(res, stored)
    doc = report.as_dict()
    for row, advice in zip(doc["suggestions"], report.suggestions(), strict=True):
        row["reason_shown"], bad = report.reason_in(advice)  # "reason" stays English; the reader's language beside
        row["reason_shown_checked"] = not bad
    for row, offer in zip(doc["offers"], report.offers, strict=True):
        row["reason_shown"], bad = report.reason_in(offer)
        row["reason_shown_checked"] = not bad
    doc.update(computed_at=stored.computed_at, computed_by=stored.computed_by, compute_seconds=stored.seconds,
               changes=_changes(res))
    return jsonify(doc)


@blueprint.post("/stores/<store_id>/pricing/recompute")
@require("owner")
def recompute_submit(store_id: str) -> Any:
    """Compute the store's report now (from the sales the hub has) and store it in place of the last."""
    open_store(store_id)
    compute_and_store(hub().engine, store_id, now(), _who())
    return redirect(url_for("pricing_page.store_pricing", store_id=store_id, done="recomputed"), code=303)


def _share(form: Any, name: str, label: str, low: int, high: int) -> float:
    """A percentage field of the rails form as a share, refused in the owner's words outside ``low``..``high``."""
    raw = str(form.get(name) or "").strip().rstrip("%")
    try:
        share = float(raw.replace(",", ".")) / 100
    except ValueError:
        raise FormError(_("%(field)s: give a percentage, e.g. 15", field=label)) from None
    if not low / 100 <= share <= high / 100:
        raise FormError(_("%(field)s: give a percentage from %(low)s to %(high)s", field=label,
                          low=format_number(low), high=format_number(high)))
    return share


@blueprint.post("/stores/<store_id>/pricing/rails")
@require("owner")
def rails_submit(store_id: str) -> Any:
    res = open_store(store_id)
    try:
        rails = GuardRails(_share(request.form, "min_margin", _("Minimum margin"), 0, 95),
                           _share(request.form, "max_step", _("Largest change per step"), 1, 50),
                           tuple(e for e in ENDINGS if e in request.form.getlist("endings")))
    except (FormError, RailsError) as exc:
        return _render(res, error=str(exc), status=400)
    save_rails(hub().engine, store_id, rails, _who(), now())
    compute_and_store(hub().engine, store_id, now(), _who())  # the suggestions follow the new rails at once
    return redirect(url_for("pricing_page.store_pricing", store_id=store_id, done="rails"), code=303)


def _effective(form: Any, tz: str) -> datetime:
    raw = str(form.get("effective") or "").strip()
    if not raw:
        return now()
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        raise FormError(_("From: give a date and time, e.g. %(example)s", example="2026-12-08T08:00")) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(tz))
    return local


def _decide_price(res: StoreResults, report: PricingReport, form: Any) -> str:
    sku = str(form.get("sku") or "").strip()
    advice = report.find(sku)
    if advice is None:
        raise FormError(_("no product %(sku)s in this store's sales", sku=repr(sku)))
    action = str(form.get("action") or "")
    p, cur = advice.position, report.currency
    price = p.price
    if action == "approve":
        try:
            price = parse_money(str(form.get("price") or ""), cur)
        except MoneyError:
            raise FormError(_("New price: give an amount of %(currency)s, e.g. %(example)s", currency=cur,
                              example=_plain(p.price, cur))) from None
        broken = broken_rail(price, p.price, p.shelf_cost, report.rails, cur)
        if broken is not None and (price <= 0 or (p.shelf_cost is not None and price < p.shelf_cost)):
            raise FormError(_("%(price)s is below cost or zero: a price is never set below cost",
                              price=format_money(price, cur)))
        if broken and str(form.get("override") or "") != "1":
            raise FormError(_("%(price)s breaks a guard rail (%(rail)s); tick 'outside the rails' to approve it "
                              "anyway", price=format_money(price, cur), rail=rs.render(broken, cur)))
    predicted = None
    if advice.effect is not None:
        predicted = {"effect": advice.effect.as_dict(), "elasticity": advice.elasticity.estimate,
                     "elasticity_se": advice.elasticity.se, "for_price": advice.suggested_price}
        if action == "approve" and price != advice.suggested_price and advice.elasticity.estimate is not None:
            from analytics.pricing.effects import expected_effect

            eff = expected_effect(p.daily_units, p.price, price, p.cost, advice.elasticity.estimate,
                                  advice.elasticity.se or 0.0, net_ratio=p.net_ratio,
                                  dispersion=advice.elasticity.dispersion)
            predicted = {**predicted, "effect": eff.as_dict(), "for_price": price}
    try:
        return ch.decide(hub().engine, ch.Decision(
            res.store_id, sku, p.name, "price", (sku,), action, p.price, price, advice.suggested_price, cur,
            _effective(form, res.info.timezone), _who(), advice.reason, predicted), now())
    except ch.DecisionError as exc:
        raise FormError(str(exc)) from None


def _decide_offer(res: StoreResults, report: PricingReport, form: Any) -> str:
    skus = tuple(s for s in str(form.get("skus") or "").split(",") if s)
    offer = next((o for o in report.offers if o.offer.skus == skus), None)
    if offer is None:
        raise FormError(_("that offer is no longer suggested"))
    action = str(form.get("action") or "")
    o = offer.offer
    try:
        return ch.decide(hub().engine, ch.Decision(
            res.store_id, skus[0], " + ".join(offer.names), o.kind, skus, action, o.regular_price, o.offer_price,
            o.offer_price, report.currency, _effective(form, res.info.timezone), _who(), offer.reason,
            {"effect": o.effect.as_dict(), "quantity": o.quantity}), now())
    except ch.DecisionError as exc:
        raise FormError(str(exc)) from None


@blueprint.post("/stores/<store_id>/pricing/decide")
@require("owner")
def decide_submit(store_id: str) -> Any:
    res = open_store(store_id)
    report = _report(res)
    try:
        if request.form.get("skus"):
            _decide_offer(res, report, request.form)
        else:
            _decide_price(res, report, request.form)
    except FormError as exc:
        return _render(res, error=str(exc), status=400)
    done = "rejected" if request.form.get("action") == "reject" else "approved"
    pusher = _pusher()
    if done == "approved" and pusher is not None:
        try:
            pusher(store_id, now())
            done = "sent"
        except FleetError as exc:
            log.error("price push for %s failed: %s", store_id, exc)
            return _render(res, error=_("approved, but not sent to the tills yet: %(error)s", error=str(exc)),
                           status=502)
    return redirect(url_for("pricing_page.store_pricing", store_id=store_id, done=done), code=303)


@blueprint.post("/stores/<store_id>/pricing/push")
@require("owner")
def push_submit(store_id: str) -> Any:
    res = open_store(store_id)
    pusher = _pusher()
    if pusher is None:
        abort(409, description=_("This hub holds no fleet signing key: run tillsight hub pricing push --store "
                                 "%(store)s where the key is.", store=store_id))
    try:
        pusher(store_id, now())
    except FleetError as exc:
        return _render(res, error=_("not sent: %(error)s", error=str(exc)), status=502)
    return redirect(url_for("pricing_page.store_pricing", store_id=store_id, done="sent"), code=303)


@blueprint.post("/stores/<store_id>/pricing/end")
@require("owner")
def end_submit(store_id: str) -> Any:
    """End a running multi-buy or bundle offer: the next price list leaves it out, so the tills drop it."""
    res = open_store(store_id)
    try:
        ch.end_offer(hub().engine, store_id, str(request.form.get("change_id") or ""))
    except ch.DecisionError as exc:
        return _render(res, error=str(exc), status=400)
    pusher = _pusher()
    if pusher is None:
        return redirect(url_for("pricing_page.store_pricing", store_id=store_id, done="ended"), code=303)
    try:
        pusher(store_id, now(), True)
    except FleetError as exc:
        return _render(res, error=_("not sent: %(error)s", error=str(exc)), status=502)
    return redirect(url_for("pricing_page.store_pricing", store_id=store_id, done="ended_sent"), code=303)


@blueprint.get("/api/stores/<store_id>/pricing/changes")
@require("viewer")
def api_changes(store_id: str) -> Response:
    res = open_store(store_id)
    return jsonify(changes=_changes(res))


page = Page(blueprint, nav=(NavItem("Pricing", "pricing_page.store_pricing", "viewer", per_store=True, order=53),))
