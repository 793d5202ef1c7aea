"""Sending collection reminders from the hub's Credit tab (owners and operators; every POST carries the CSRF
token): the customers picked on the tab get the reminder over a channel that reaches them, in their language
(:mod:`analytics.credit.sending`), and each customer's page shows their contact details and consent, and every
reminder sent to them (who, when, channel, status, the provider's id or error) with a way to send a failed one
again.  The routes join the ``credit`` blueprint; the senders come from the ``outbound`` configuration
(:func:`install_reminders`, called by the web process)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, abort, current_app, jsonify, render_template, request, url_for
from werkzeug.exceptions import BadRequest

from analytics.credit.data import CreditDataError
from analytics.credit.sending.base import Sender
from analytics.credit.sending.contacts import Contact, ContactError, iso, load_contact, load_contacts, save_contact
from analytics.credit.sending.registry import build_senders
from analytics.credit.sending.service import (
    STALE_SENDING,
    ReminderError,
    ReminderService,
    last_reminders,
    reminders,
)
from analytics.credit.templates import LANGUAGE_NAMES, TONES
from analytics.web.context import hub, now
from analytics.web.credit import _ai, _report, blueprint
from analytics.web.datatable import Col, TableSpec, table_response
from analytics.web.security import current_user, require
from analytics.web.tenancy import require_store
from firmware_config import TillsightConfig
from firmware_config.outbound import CHANNELS, OutboundConfig
from i18n import N_
from i18n import gettext as _

log = logging.getLogger(__name__)

EXTENSION = "tillsight.credit.reminders"
STATUS_PILLS = {"sent": "ok", "sending": "warn", "failed": "bad"}
CHANNEL_WORDS = {"whatsapp": N_("WhatsApp"), "sms": N_("SMS"), "email": N_("E-mail")}
_PILL_WORDS = (N_("sent"), N_("sending"))  # the statuses' pill texts, translated where shown ("failed" is shared)

REMINDERS = TableSpec("credit-reminders", N_("Reminders sent"), (
    Col("requested_at", N_("When"), "time"),
    Col("customer_id", N_("Customer"), "code"),
    Col("channel", N_("Channel")),
    Col("language", N_("Language")),
    Col("tone", N_("Tone")),
    Col("status", N_("Status"), "pill", pills=STATUS_PILLS),
    Col("recipient", N_("To")),
    Col("provider_id", N_("Provider id"), "code"),
    Col("error", N_("Error")),
    Col("attempts", N_("Attempts"), "int"),
    Col("requested_by", N_("Sent by")),
    Col("amount", N_("Amount"), "money"),
    Col("subject", N_("Subject"), html=False),
    Col("body", N_("Text"), html=False),
    Col("sent_at", N_("Accepted at"), "time", html=False),
    Col("reminder_id", N_("Id"), "code", html=False),
    Col("currency", N_("Currency"), html=False),
))


@dataclass(frozen=True)
class Outbound:
    config: OutboundConfig
    senders: dict[str, Sender]


def install_reminders(app: Flask, cfg: TillsightConfig | OutboundConfig) -> None:
    """Give the app the reminder channels of the ``outbound`` configuration (none enabled: nothing is sent,
    and the Credit tab says how to set one up)."""
    config = cfg.outbound if isinstance(cfg, TillsightConfig) else cfg
    app.extensions[EXTENSION] = Outbound(config, build_senders(config))


def _outbound() -> Outbound:
    found = current_app.extensions.get(EXTENSION)
    return found if isinstance(found, Outbound) else Outbound(OutboundConfig(), {})


def _service() -> ReminderService:
    out = _outbound()
    return ReminderService(hub().engine, out.senders, out.config, ai=_ai())


def _who() -> str:
    user = current_user()
    return user.user_id if user is not None else "?"


def new_key() -> str:
    """A fresh idempotency key for a send form (one per form shown; a resent form repeats it)."""
    return uuid.uuid4().hex


def channel_names() -> list[tuple[str, str]]:
    return [(c, _(CHANNEL_WORDS[c])) for c in CHANNELS]


def reminder_rows(store_id: str) -> list[dict[str, Any]]:
    """The Credit tab's "Send reminders" rows: each customer who owes, their contact state and last reminder."""
    _info, report = _report(store_id)
    if report is None:
        return []
    contacts = load_contacts(hub().engine, store_id)
    last = last_reminders(hub().engine, store_id)
    out = _outbound()
    rows = []
    for p in report.priority:
        c = contacts.get(p.customer_id)
        reachable = [ch for ch in out.senders if c is not None and (c.email if ch == "email" else c.message_phone)]
        r = last.get(p.customer_id)
        rows.append({"customer_id": p.customer_id, "name": p.name, "balance": p.balance, "currency": p.currency,
                     "consent": c.consent if c else None, "channel": c.channel if c else None,
                     "reachable": reachable, "last_at": r.requested_at if r else None,
                     "last_status": r.status if r else None, "last_channel": r.channel if r else None})
    return rows


@blueprint.post("/api/stores/<store_id>/credit/reminders")
@require("owner")
def api_send_reminders(store_id: str) -> Response:
    """``{customer_ids: [...], tone, channel (null: each customer's own), key}`` -> one outcome per customer."""
    require_store(store_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest(_("send a JSON object {customer_ids, tone, channel, key}"))
    ids, tone, channel, key = body.get("customer_ids"), body.get("tone") or "friendly", body.get("channel") or None, \
        body.get("key")
    if isinstance(ids, str):
        ids = [ids]
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise BadRequest(_("customer_ids must be a list of customer ids"))
    if tone not in TONES:
        raise BadRequest(_("tone must be one of %(tones)s", tones=", ".join(TONES)))
    if not isinstance(key, str):
        raise BadRequest(_("an idempotency key of 1 to 80 characters is required"))
    try:
        results = _service().send(store_id, ids, tone=tone, by=_who(), key=key, now=now(), channel=channel)
    except ReminderError as exc:
        raise BadRequest(str(exc)) from None
    except CreditDataError:
        abort(404, description=_("no store %(store)s", store=store_id))
    counts = {s: sum(1 for r in results if r.status == s) for s in ("sent", "failed", "refused", "duplicate")}
    return jsonify(results=[_outcome(r) for r in results], **counts, next_key=new_key())


@blueprint.post("/api/stores/<store_id>/credit/reminders/<reminder_id>/retry")
@require("owner")
def api_retry_reminder(store_id: str, reminder_id: str) -> Response:
    """Send a failed reminder again (the same text to the same recipient)."""
    require_store(store_id)
    try:
        result = _service().retry(store_id, reminder_id, by=_who(), now=now())
    except ReminderError as exc:
        abort(404, description=str(exc))
    return jsonify(_outcome(result))


@blueprint.get("/api/stores/<store_id>/credit/reminders")
@require("owner")
def api_reminders(store_id: str) -> Response:
    """The store's reminders, newest first (``?customer=ID``: one customer's); CSV / Excel exports."""
    require_store(store_id)
    customer = request.args.get("customer") or None
    rows = [r.as_dict() for r in reminders(hub().engine, store_id, customer)]
    return table_response(REMINDERS, rows, filename=f"{store_id}-reminders" + (f"-{customer}" if customer else ""))


@blueprint.post("/api/stores/<store_id>/credit/customers/<customer_id>/contact")
@require("owner")
def api_customer_contact(store_id: str, customer_id: str) -> Response:
    """``{email, phone, channel, consent: true | false | null}``: the customer's contact details for reminders."""
    require_store(store_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest(_("send a JSON object {email, phone, channel, consent}"))
    consent = body.get("consent")
    if consent not in (True, False, None):
        raise BadRequest(_("consent must be true, false or null"))
    fields = {k: body.get(k) for k in ("email", "phone", "channel")}
    if not all(v is None or isinstance(v, str) for v in fields.values()):
        raise BadRequest(_("email, phone and channel must be text"))
    try:
        contact = save_contact(hub().engine, store_id, customer_id, email=fields["email"], phone=fields["phone"],
                               channel=fields["channel"], consent=consent, by=_who(), now=now(),
                               region=_outbound().config.default_region)
    except ContactError as exc:
        if not load_contacts(hub().engine, store_id, customer_id):
            abort(404, description=str(exc))
        raise BadRequest(str(exc)) from None
    log.info("credit contact of %s/%s changed by %s", store_id, customer_id, _who())
    return jsonify(contact.as_dict())


@blueprint.get("/stores/<store_id>/credit/customers/<customer_id>")
@require("owner")
def customer_page(store_id: str, customer_id: str) -> str:
    """One credit customer: balance and risk, contact and consent, reminders sent (and a send), the ledger."""
    info, report = _report(store_id)
    history = report.histories.get(customer_id) if report else None
    try:
        contact: Contact = load_contact(hub().engine, store_id, customer_id)
    except ContactError:
        abort(404, description=_("no credit customer %(customer)s in this store", customer=customer_id))
    row = next((c for c in report.customers if c.customer_id == customer_id), None) if report else None
    language = contact.language or (report.store.language if report else "en")
    return render_template(
        "credit_customer.html", info=info, report=report, history=history, customer=row, contact=contact,
        reminders=reminders(hub().engine, store_id, customer_id), tones=TONES, channels=channel_names(),
        channel_words=dict(channel_names()), enabled=list(_outbound().senders), send_key=new_key(),
        language_name=_(LANGUAGE_NAMES.get(language, language)), every_days=_outbound().config.reminder_every_days,
        stale_before=iso(now() - STALE_SENDING),
        tab="credit.credit_page",
        urls={"send": url_for("credit.api_send_reminders", store_id=store_id),
              "contact": url_for("credit.api_customer_contact", store_id=store_id, customer_id=customer_id),
              "ledger": url_for("credit.api_ledger", store_id=store_id, customer=customer_id),
              "reminders": url_for("credit.api_reminders", store_id=store_id, customer=customer_id)})


def _outcome(o: Any) -> dict[str, Any]:
    out: dict[str, Any] = o.as_dict()
    out["status_text"] = _(o.status)
    out["channel_text"] = _(CHANNEL_WORDS[o.channel]) if o.channel in CHANNEL_WORDS else ""
    if o.reminder is not None:
        out["retry_url"] = url_for("credit.api_retry_reminder", store_id=o.reminder.store_id,
                                   reminder_id=o.reminder.reminder_id)
    return out


_STATUS_WORDS = (N_("refused"), N_("duplicate"))


def send_context(store_id: str) -> dict[str, Any]:
    """What the Credit tab's "Send reminders" section needs."""
    out = _outbound()
    return {"reminder_rows": reminder_rows(store_id), "send_key": new_key(), "channels": channel_names(),
            "channel_words": dict(channel_names()),
            "enabled_words": ", ".join(_(CHANNEL_WORDS[c]) for c in out.senders if c in CHANNEL_WORDS),
            "enabled": list(out.senders), "every_days": out.config.reminder_every_days,
            "send_url": url_for("credit.api_send_reminders", store_id=store_id)}
