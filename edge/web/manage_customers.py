"""Credit customers: who may buy on credit and up to what limit, what they owe, and repayments.

(``GET /api/customers`` belongs to the till; the owner's API lives under ``/api/manage/customers``.)
"""

from __future__ import annotations

import logging
from typing import Any

from flask import jsonify, request
from werkzeug.wrappers import Response  # what redirect() is typed to return; flask's Response is one

from edge.store.customers import MAX_LIMIT, PHONE_RE
from edge.store.records import Customer
from edge.web.context import ctx
from edge.web.forms import BadInput, get_text
from edge.web.manage import (
    PageAnswer,
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
from edge.web.security import current_user, json_body, require
from i18n import gettext as _

log = logging.getLogger(__name__)


def customer_json(c: Customer, currency: str) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "phone": c.phone, "credit_limit": c.credit_limit,
            "balance": c.balance, "available_credit": c.available_credit, "active": c.active,
            "credit_limit_text": fmt_money(c.credit_limit, currency), "balance_text": fmt_money(c.balance, currency),
            "available_credit_text": fmt_money(c.available_credit, currency)}


def _phone(data: dict[str, Any]) -> str:
    phone = get_text(data, "phone", 24, required=False)
    if not PHONE_RE.match(phone):
        raise BadInput("phone", _("may hold only digits, spaces, +, (, ) and -"))
    return phone


# -- actions -----------------------------------------------------------------------------------
def create_customer(data: dict[str, Any]) -> Customer:
    name = get_text(data, "name", 120)
    phone = _phone(data)
    limit = money_field(data, "credit_limit", 0, MAX_LIMIT, default=0)
    return ctx().store.customers.save(name, phone, limit)


def update_customer(customer_id: str, data: dict[str, Any]) -> Customer:
    customers = ctx().store.customers
    c = customers.get(customer_id)
    name = get_text(data, "name", 120) if "name" in data else c.name
    phone = _phone(data) if "phone" in data else c.phone
    limit = money_field(data, "credit_limit", 0, MAX_LIMIT) if "credit_limit" in data else c.credit_limit
    active = strict_bool(data, "active") if "active" in data else c.active
    return customers.save(name, phone, limit, customer_id=c.id, active=active)


def record_repayment(customer_id: str, data: dict[str, Any]) -> tuple[Customer, int]:
    customers = ctx().store.customers
    c = customers.get(customer_id)
    amount = money_field(data, "amount", 1, MAX_LIMIT)
    if amount > c.balance:
        raise BadInput("amount", _("%(amount)s is more than %(name)s owes (%(balance)s)", amount=fmt_money(amount),
                                   name=c.name, balance=fmt_money(c.balance)))
    after = customers.record_repayment(c.id, amount)
    user = current_user()
    log.info("repayment of %d from customer %s taken by %s", amount, c.id, user.id if user else "?")
    return after, amount


# -- pages -------------------------------------------------------------------------------------
def _customers_page(error: str | None = None, form: dict[str, Any] | None = None) -> str:
    show = request.args.get("show", "active")
    show = show if show in ("active", "all", "owing") else "active"
    customers = ctx().store.customers.list(include_inactive=show != "active")
    if show == "owing":
        customers = [c for c in customers if c.balance > 0]
    totals = {"owed": sum(c.balance for c in customers if c.balance > 0),
              "limit": sum(c.credit_limit for c in customers if c.active)}
    return render("customers.html", customers=customers, show=show, totals=totals, error=error, form=form or {})


@bp.get("/manage/customers")
@require("owner")
def customers_page() -> str:
    return _customers_page()


@bp.post("/manage/customers")
@require("owner")
def customers_create() -> PageAnswer:
    data = request.form.to_dict()

    def action() -> Response:
        c = create_customer(data)
        return done(_("Added %(name)s with a credit limit of %(limit)s", name=c.name, limit=fmt_money(c.credit_limit)),
                    "manage.customer_page", customer_id=c.id)

    return form_action(action, lambda msg: _customers_page(error=msg, form=data))


def _customer_page(customer_id: str, error: str | None = None, form: dict[str, Any] | None = None) -> str:
    c = ctx().store.customers.get(customer_id)
    form = form or {"name": c.name, "phone": c.phone,
                    "credit_limit": plain_amount(c.credit_limit, settings().currency)}
    return render("customer.html", customer=c, form=form, error=error)


@bp.get("/manage/customers/<customer_id>")
@require("owner")
def customer_page(customer_id: str) -> str:
    return _customer_page(customer_id)


@bp.post("/manage/customers/<customer_id>")
@require("owner")
def customer_update(customer_id: str) -> PageAnswer:
    data = request.form.to_dict()
    ctx().store.customers.get(customer_id)

    def action() -> Response:
        c = update_customer(customer_id, data)
        message = _("Saved %(name)s", name=c.name)
        if "active" in data:
            message = (_("Saved %(name)s (active again)", name=c.name) if c.active
                       else _("Saved %(name)s (deactivated: no more credit sales)", name=c.name))
        return done(message, "manage.customer_page", customer_id=c.id)

    return form_action(action, lambda msg: _customer_page(customer_id, error=msg, form=data))


@bp.post("/manage/customers/<customer_id>/repayment")
@require("owner")
def customer_repayment(customer_id: str) -> PageAnswer:
    data = request.form.to_dict()
    ctx().store.customers.get(customer_id)

    def action() -> Response:
        c, amount = record_repayment(customer_id, data)
        return done(_("Recorded a repayment of %(amount)s from %(name)s; still owes %(balance)s",
                      amount=fmt_money(amount), name=c.name, balance=fmt_money(c.balance)),
                    "manage.customer_page", customer_id=c.id)

    return form_action(action, lambda msg: _customer_page(customer_id, error=msg))


# -- API ---------------------------------------------------------------------------------------
@bp.get("/api/manage/customers")
@require("owner")
def api_customers() -> Response:
    include_inactive = request.args.get("all") == "1"
    cur = settings().currency
    return jsonify(currency=cur, customers=[customer_json(c, cur)
                                            for c in ctx().store.customers.list(include_inactive=include_inactive)])


@bp.post("/api/manage/customers")
@require("owner")
def api_customer_create() -> tuple[Response, int]:
    return jsonify(customer=customer_json(create_customer(json_body()), settings().currency)), 201


@bp.put("/api/manage/customers/<customer_id>")
@require("owner")
def api_customer_update(customer_id: str) -> Response:
    return jsonify(customer=customer_json(update_customer(customer_id, json_body()), settings().currency))


@bp.post("/api/manage/customers/<customer_id>/repayment")
@require("owner")
def api_customer_repayment(customer_id: str) -> Response:
    c, amount = record_repayment(customer_id, json_body())
    return jsonify(customer=customer_json(c, settings().currency), repaid=amount)
