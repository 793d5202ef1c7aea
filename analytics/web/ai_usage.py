"""The "AI usage" tab of a store (owners and operators): the store's AI credit balance, what it
spent today and this month against its caps, and the ledger of every AI call, top-up and cap
change (CSV / Excel / JSON).  Operators also top up credits and change the caps here (form POST
with the CSRF token, or ``POST /api/stores/<id>/ai/credits`` with JSON)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from analytics.db.ai_tables import ai_accounts
from analytics.llm.credits import UNSET, Account, Credits, LedgerRow
from analytics.web.context import hub
from analytics.web.datatable import Col, TableSpec, table_response
from analytics.web.pages import NavItem, Page
from analytics.web.params import int_arg
from analytics.web.queries import stores as sq
from analytics.web.security import current_user, require
from analytics.web.tenancy import current_scope, require_store
from i18n import N_
from i18n import gettext as _

blueprint = Blueprint("ai_usage", __name__)

LEDGER = TableSpec("ai-ledger", N_("AI ledger"), (
    Col("at", N_("When"), "time"),
    Col("kind", N_("Entry"), "pill", pills={"call": "", "topup": "ok", "caps": "warn"}),
    Col("feature", N_("Feature")),
    Col("success", N_("OK"), "bool"),
    Col("cached", N_("From cache"), "bool"),
    Col("cost", N_("Cost"), "int"),
    Col("credit_change", N_("Credits ±"), "int"),
    Col("balance_after", N_("Balance after"), "int"),
    Col("prompt_tokens", N_("Prompt tokens"), "int"),
    Col("completion_tokens", N_("Answer tokens"), "int"),
    Col("latency_ms", N_("Latency (ms)"), "int"),
    Col("model", N_("Model")),
    Col("error", N_("Error")),
    Col("note", N_("Note")),
    Col("pending", N_("Under way"), "bool", html=False),
    Col("entry_id", N_("Entry id"), "int", html=False),
))

_INT_RE = re.compile(r"^-?\d{1,9}$")


class FormError(ValueError):
    pass


def _store(store_id: str) -> sq.StoreInfo:
    require_store(store_id)
    with hub().connect() as conn:
        info = sq.store_info(conn, current_scope(), store_id)
    if info is None:
        abort(404, description=_("no store %(store)s", store=repr(store_id)))
    return info


def _credits() -> Credits | None:
    ai = hub().ai
    return ai.credits if ai is not None else None


def _account(store_id: str) -> Account | None:
    """The account (created on first view when the AI is set up; None without an AI config and no row)."""
    credits = _credits()
    if credits is not None:
        return credits.account(store_id)
    with hub().connect() as conn:
        row = conn.execute(select(ai_accounts).where(ai_accounts.c.store_id == store_id)).mappings().first()
    if row is None:
        return None
    reader = Credits(hub().engine, {}, clock=hub().clock)
    return reader.account(store_id)


def _ledger(store_id: str, limit: int) -> list[LedgerRow]:
    return (_credits() or Credits(hub().engine, {}, clock=hub().clock)).ledger(store_id, limit=limit)


def _status() -> dict[str, Any]:
    ai = hub().ai
    configured = bool(ai is not None and ai.configured)
    breaker = ai.breaker.state if ai is not None and ai.breaker is not None else None
    return {"configured": configured, "model": ai.model if ai is not None else None, "breaker": breaker,
            "prices": dict(ai.credits.prices) if ai is not None and ai.credits is not None else {}}


def _int_field(form: Any, name: str, label: str, allow_none: bool, lo: int) -> Any:
    raw = str(form.get(name, "") if form.get(name) is not None else "").strip()
    if raw == "":
        return UNSET
    if allow_none and raw.lower() in ("none", "no cap", "-"):
        return None
    if not _INT_RE.match(raw) or int(raw) < lo:
        extra = " or 'none' for no cap" if allow_none else ""
        raise FormError(f"{label} must be a whole number{' >= ' + str(lo) if lo > -10**9 else ''}{extra}")
    return int(raw)


def apply_credit_form(store_id: str, form: Any) -> Account:
    """Top up and/or change the caps from form or JSON fields ``add``, ``daily_cap``,
    ``monthly_cap``, ``note``; raises FormError with a message naming the field."""
    credits = _credits()
    if credits is None:
        raise FormError("the AI is not set up on this hub (llm section of the hub config)")
    add = _int_field(form, "add", "Credits to add", False, -10**9)
    daily = _int_field(form, "daily_cap", "Daily cap", True, 0)
    monthly = _int_field(form, "monthly_cap", "Monthly cap", True, 0)
    note = str(form.get("note") or "").strip()[:200]
    if add is UNSET and daily is UNSET and monthly is UNSET:
        raise FormError("give credits to add, a daily cap or a monthly cap")
    if add == 0:
        raise FormError("Credits to add must not be 0")
    user = current_user()
    who = f"by {user.user_id}" if user is not None else "by the hub"
    text = f"{who}{': ' + note if note else ''}"
    try:
        account = credits.account(store_id)
        if add is not UNSET:
            account = credits.top_up(store_id, add, note=text)
        if daily is not UNSET or monthly is not UNSET:
            account = credits.set_caps(store_id, daily_cap=daily, monthly_cap=monthly, note=text)
    except ValueError as exc:
        raise FormError(str(exc)) from None
    return account


def _render(info: sq.StoreInfo, error: str | None = None, done: str | None = None, status: int = 200,
            form: Any = None) -> tuple[str, int]:
    rows = _ledger(info.store_id, 200)
    html = render_template("ai_usage.html", info=info, account=_account(info.store_id), ai=_status(),
                           ledger=rows, ledger_spec=LEDGER, error=error, done=done, form=form or {})
    return html, status


@blueprint.get("/stores/<store_id>/ai")
@require("owner")
def usage_page(store_id: str) -> tuple[str, int]:
    info = _store(store_id)
    return _render(info, done=request.args.get("done"))


@blueprint.post("/stores/<store_id>/ai/credits")
@require("operator")
def credits_submit(store_id: str) -> Any:
    info = _store(store_id)
    try:
        apply_credit_form(store_id, request.form)
    except FormError as exc:
        return _render(info, error=str(exc), status=400, form=request.form)
    return redirect(url_for("ai_usage.usage_page", store_id=store_id, done="saved"), code=303)


@blueprint.get("/api/stores/<store_id>/ai")
@require("owner")
def api_usage(store_id: str) -> Response:
    info = _store(store_id)
    account = _account(info.store_id)
    return jsonify(store_id=info.store_id, ai=_status(), account=account.__dict__ if account else None,
                   tables={"ledger": url_for("ai_usage.api_ledger", store_id=store_id)})


@blueprint.get("/api/stores/<store_id>/ai/ledger")
@require("owner")
def api_ledger(store_id: str) -> Response:
    info = _store(store_id)
    limit = int_arg("limit", 1, 200_000, 5000)
    return table_response(LEDGER, _ledger(info.store_id, limit), filename=f"{store_id}-ai-ledger")


@blueprint.post("/api/stores/<store_id>/ai/credits")
@require("operator")
def api_credits(store_id: str) -> Any:
    _store(store_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error="send a JSON object with add, daily_cap, monthly_cap and/or note"), 400
    try:
        account = apply_credit_form(store_id, {k: ("none" if v is None else v) for k, v in body.items()})
    except FormError as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(account=account.__dict__)


page = Page(blueprint, nav=(NavItem("AI usage", "ai_usage.usage_page", "owner", per_store=True, order=190),))
