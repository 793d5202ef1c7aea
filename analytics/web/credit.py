"""The store's Credit tab (owners and operators: credit data names people): what customers owe
(total, overdue, customers with a balance), the customers with their risk score and its factors,
the collections priority list with predicted payment dates, each customer's ledger, and a
message composer (customer, tone, language -> SMS, WhatsApp and e-mail texts, written by the AI
with the customer pseudonymised, or by the templates, marked as such), and the reminders sent to the
customers picked here (``credit_reminders``: sending, each customer's page, contact details).

Every table has its JSON API with ``?format=csv|xlsx`` exports; a store outside the user's scope
is a 404, a viewer gets 403.  Money is minor units in the API and exports, dates store-local.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for
from werkzeug.exceptions import BadRequest

from analytics.credit.data import CreditDataError, load_store
from analytics.credit.languages import CustomerLanguageError, message_language, set_customer_language
from analytics.credit.messages import MessageError, customer_message
from analytics.credit.report import OVERDUE_DAYS, CreditReport, credit_report
from analytics.credit.templates import LANGUAGE_NAMES, LANGUAGES, TONES
from analytics.llm.notes import with_localized_notes
from analytics.web.context import hub, now
from analytics.web.datatable import Col, TableSpec, table_response
from analytics.web.pages import NavItem, Page
from analytics.web.queries import stores as sq
from analytics.web.security import require
from analytics.web.tenancy import current_scope, require_store
from i18n import N_
from i18n import gettext as _

blueprint = Blueprint("credit", __name__)

BAND_PILLS = {"low": "ok", "medium": "warn", "high": "bad"}
CONFIDENCE_PILLS = {"high": "ok", "medium": "warn", "low": "bad"}

CUSTOMERS = TableSpec("credit-customers", N_("Credit customers"), (
    Col("name", N_("Customer")),
    Col("customer_id", N_("Id"), "code"),
    Col("balance", N_("Owes"), "money"),
    Col("credit_limit", N_("Limit"), "money"),
    Col("utilisation", N_("Of limit"), "pct"),
    Col("risk_score", N_("Risk (0-100)"), "int"),
    Col("risk_band", N_("Risk"), "pill", pills=BAND_PILLS),
    Col("risk_factors", N_("Risk factors"), "list"),
    Col("positive_factors", N_("In their favour"), "list"),
    Col("notes", N_("Notes"), "list"),
    Col("oldest_unpaid_days", N_("Oldest unpaid (days)"), "int"),
    Col("avg_days_to_repay", N_("Days to repay (avg)"), "num"),
    Col("last_repayment", N_("Last repayment")),
    Col("cadence", N_("Buys")),
    Col("trend", N_("Trend")),
    Col("avg_basket", N_("Average purchase"), "money"),
    Col("predicted_payment_date", N_("Expected payment")),
    Col("phone", N_("Phone"), html=False),
    Col("active", N_("Active"), "bool", html=False),
    Col("little_history", N_("Little history"), "bool", html=False),
    Col("repayments", N_("Repayments"), "int", html=False),
    Col("purchases", N_("Purchases"), "int", html=False),
    Col("currency", N_("Currency"), html=False),
))
PRIORITY = TableSpec("credit-priority", N_("Collections priority"), (
    Col("rank", N_("#"), "int"),
    Col("name", N_("Customer")),
    Col("balance", N_("Owes"), "money"),
    Col("risk_score", N_("Risk"), "int"),
    Col("oldest_unpaid_days", N_("Oldest unpaid (days)"), "int"),
    Col("priority", N_("Priority"), "num"),
    Col("predicted_payment_date", N_("Expected payment")),
    Col("payment_date_range", N_("Range")),
    Col("payment_confidence", N_("Confidence"), "pill", pills=CONFIDENCE_PILLS),
    Col("why", N_("Why")),
    Col("tie_break", N_("Tie")),
    Col("customer_id", N_("Id"), "code", html=False),
    Col("risk_band", N_("Risk band"), html=False),
    Col("currency", N_("Currency"), html=False),
))
LEDGER = TableSpec("credit-ledger", N_("Ledger"), (
    Col("day", N_("Day (store time)")),
    Col("kind", N_("Entry")),
    Col("amount", N_("Amount"), "money"),
    Col("balance", N_("Balance"), "money"),
    Col("ref", N_("Reference"), "code"),
    Col("at", N_("At (UTC)"), "time", html=False),
    Col("currency", N_("Currency"), html=False),
))
OPEN_ITEMS = TableSpec("credit-open-items", N_("Unpaid purchases (oldest first)"), (
    Col("day", N_("Purchase day")),
    Col("amount", N_("Amount"), "money"),
    Col("outstanding", N_("Unpaid"), "money"),
    Col("age_days", N_("Age (days)"), "int"),
    Col("earlier", N_("Before the hub's records"), "bool"),
    Col("ref", N_("Sale"), "code"),
    Col("currency", N_("Currency"), html=False),
))


def _report(store_id: str) -> tuple[sq.StoreInfo, CreditReport | None]:
    require_store(store_id)
    with hub().connect() as conn:
        info = sq.store_info(conn, current_scope(), store_id)
    if info is None:
        abort(404, description=_("no store %(store)s", store=repr(store_id)))
    try:
        return info, credit_report(hub().engine, store_id, as_of=now())
    except CreditDataError:
        return info, None  # a store of the user's that has not sent anything yet


def _ai() -> Any:
    return getattr(hub(), "ai", None)


@blueprint.get("/stores/<store_id>/credit")
@require("owner")
def credit_page(store_id: str) -> str:
    info, report = _report(store_id)
    ai = _ai()
    from analytics.web.credit_reminders import send_context

    return render_template(
        "credit.html", info=info, report=report, customers_spec=CUSTOMERS, priority_spec=PRIORITY,
        **send_context(store_id),
        tones=TONES, languages=[(code, _(LANGUAGE_NAMES[code])) for code in LANGUAGES],
        default_language=report.store.language if report else "en", overdue_days=OVERDUE_DAYS,
        default_language_name=_(LANGUAGE_NAMES[report.store.language if report else "en"]),
        ai_on=bool(ai is not None and getattr(ai, "configured", False)), tab="credit.credit_page")


@blueprint.get("/api/stores/<store_id>/credit")
@require("owner")
def api_credit(store_id: str) -> Response:
    _info, report = _report(store_id)
    return jsonify(
        store_id=store_id, as_of=report.as_of if report else None,
        kpis=asdict(report.kpis) if report else None, overdue_days=OVERDUE_DAYS,
        tables={"customers": url_for("credit.api_customers", store_id=store_id),
                "priority": url_for("credit.api_priority", store_id=store_id)},
        message_url=url_for("credit.api_message", store_id=store_id))


@blueprint.get("/api/stores/<store_id>/credit/customers")
@require("owner")
def api_customers(store_id: str) -> Response:
    _info, report = _report(store_id)
    return table_response(CUSTOMERS, report.customers if report else [], filename=f"{store_id}-credit-customers",
                          as_of=report.as_of if report else None)


@blueprint.get("/api/stores/<store_id>/credit/priority")
@require("owner")
def api_priority(store_id: str) -> Response:
    _info, report = _report(store_id)
    return table_response(PRIORITY, report.priority if report else [], filename=f"{store_id}-collections",
                          as_of=report.as_of if report else None)


def _customer(store_id: str) -> tuple[CreditReport, Any]:
    customer_id = request.args.get("customer") or ""
    if not customer_id:
        raise BadRequest(_("customer is required (?customer=ID)"))
    _info, report = _report(store_id)
    history = report.histories.get(customer_id) if report else None
    if report is None or history is None:
        abort(404, description=_("no credit customer %(customer)s in this store", customer=repr(customer_id)))
    return report, history


@blueprint.get("/api/stores/<store_id>/credit/ledger")
@require("owner")
def api_ledger(store_id: str) -> Response:
    """One customer's ledger (``?customer=ID``)."""
    _whole, h = _customer(store_id)
    customer_id = h.customer_id
    rows = [{**asdict(e), "currency": h.currency} for e in h.ledger]
    return table_response(LEDGER, rows, filename=f"{store_id}-{customer_id}-ledger", customer_id=customer_id,
                          balance=h.balance)


@blueprint.get("/api/stores/<store_id>/credit/unpaid")
@require("owner")
def api_open_items(store_id: str) -> Response:
    """One customer's unpaid purchases, oldest first (``?customer=ID``)."""
    _whole, h = _customer(store_id)
    customer_id = h.customer_id
    rows = [{**asdict(i), "currency": h.currency} for i in h.open_items]
    return table_response(OPEN_ITEMS, rows, filename=f"{store_id}-{customer_id}-unpaid", customer_id=customer_id,
                          balance=h.balance)


@blueprint.post("/api/stores/<store_id>/credit/message")
@require("owner")
def api_message(store_id: str) -> Response:
    require_store(store_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest(_("send a JSON object {customer_id, tone, language}"))
    customer_id, tone, language = body.get("customer_id"), body.get("tone", "friendly"), body.get("language")
    if not isinstance(customer_id, str) or not customer_id:
        raise BadRequest(_("customer_id is required"))
    if not language:  # the customer's own language, else the store's
        try:
            store_lang = load_store(hub().engine, store_id).language
        except CreditDataError:
            abort(404, description=_("no credit customer %(customer)s in this store", customer=repr(customer_id)))
        language = message_language(hub().engine, store_id, customer_id, store_lang)
    if tone not in TONES:
        raise BadRequest(_("tone must be one of %(tones)s", tones=", ".join(TONES)))
    if language not in LANGUAGES:
        raise BadRequest(_("language must be one of %(languages)s", languages=", ".join(LANGUAGES)))
    try:
        message = customer_message(hub().engine, _ai(), store_id, customer_id, tone, language, as_of=now())
    except CreditDataError:
        abort(404, description=_("no credit customer %(customer)s in this store", customer=repr(customer_id)))
    except MessageError as exc:
        if "no credit customer" in str(exc):
            abort(404, description=str(exc))
        raise BadRequest(str(exc)) from None
    return jsonify(with_localized_notes(message.as_dict()))


@blueprint.post("/api/stores/<store_id>/credit/customers/<customer_id>/language")
@require("owner")
def api_customer_language(store_id: str, customer_id: str) -> Response:
    """``{"language": "es" | "fr" | "en" | ""}``: the language of the messages to this customer ("" = the
    store's)."""
    require_store(store_id)
    body = request.get_json(silent=True)
    language = body.get("language") if isinstance(body, dict) else None
    if not isinstance(language, str):
        raise BadRequest(_("send a JSON object {language}"))
    try:
        set_customer_language(hub().engine, store_id, customer_id, language.strip().lower() or None)
    except CustomerLanguageError as exc:
        if "no credit customer" in str(exc):
            abort(404, description=str(exc))
        raise BadRequest(str(exc)) from None
    store_lang = load_store(hub().engine, store_id).language
    return jsonify(customer_id=customer_id, language=language.strip().lower() or None,
                   messages_in=message_language(hub().engine, store_id, customer_id, store_lang))


page = Page(blueprint, nav=(NavItem("Credit", "credit.credit_page", "owner", per_store=True, order=160),))

# sending reminders, the customer's page and contact details: routes of this blueprint kept in their own module
from analytics.web import credit_reminders as _reminders  # noqa: E402, F401 - registers its routes
