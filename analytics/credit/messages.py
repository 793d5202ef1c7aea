"""Collection messages for one customer in a chosen tone and language, as SMS, WhatsApp and e-mail.

With an LLM (``AIService``, feature ``collection_message``) the model writes the texts from quoted
facts; it sees an alias (``Customer C1``) and never the customer's name or phone (the
``Pseudonymiser`` holds them; the service refuses to send a request that contains one), and the
answer is restored to the real name.  The answer must pass the same rules as the templates: the
amount is stated, no threatening words, the SMS within 160 characters; otherwise, and on any
``AIUnavailable`` (no endpoint, no credits, time-out, 500, malformed answer), the computed
templates of :mod:`analytics.credit.templates` answer, marked ``computed`` with the reason.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine

from analytics.credit.report import credit_report
from analytics.credit.templates import (
    LANGUAGE_NAMES,
    LANGUAGES,
    SMS_LIMIT,
    TONES,
    format_amount,
    format_day,
    render,
    sms_info,
)
from contracts.money import exponent

log = logging.getLogger(__name__)

FEATURE = "collection_message"
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sms": {"type": "string", "minLength": 1, "maxLength": 400},
        "whatsapp": {"type": "string", "minLength": 1, "maxLength": 1500},
        "email_subject": {"type": "string", "minLength": 1, "maxLength": 200},
        "email_body": {"type": "string", "minLength": 1, "maxLength": 4000},
    },
    "required": ["sms", "whatsapp", "email_subject", "email_body"],
    "additionalProperties": False,
}
TONE_GUIDE = {
    "friendly": "warm and light, like a neighbour; no pressure",
    "firm": "clear and direct: ask for payment this week, offer to agree on a date; still kind",
    "formal": "polite and businesslike, like a letter",
}
# words a collection message from a small shop must never use (threats, shaming)
FORBIDDEN = {
    "en": ("lawyer", "court", "legal action", "police", "sue ", "debt collector", "credit bureau", "penalty",
           "shame", "blacklist", "or else"),
    "es": ("abogado", "tribunal", "juzgado", "demanda", "policía", "acción legal", "acciones legales",
           "cobrador", "buró", "multa", "vergüenza", "lista negra"),
    "fr": ("avocat", "tribunal", "justice", "poursuite", "police", "huissier", "pénalité", "honte",
           "liste noire", "contentieux"),
}
COMPUTED_NOTE = "computed from your figures (no AI)"


class MessageError(ValueError):
    """A message that cannot be written (unknown customer, nothing owed, bad tone or language)."""


@dataclass(frozen=True)
class MessageFacts:
    store_id: str
    customer_id: str
    name: str
    phone: str | None
    balance: int
    currency: str
    shop: str
    since: date | None  # the oldest unpaid purchase (store-local)
    predicted_payment_date: str | None = None


@dataclass(frozen=True)
class CollectionMessage:
    customer_id: str
    tone: str
    language: str
    sms: str
    whatsapp: str
    email_subject: str
    email_body: str
    source: str  # computed | llm | cache
    note: str  # why computed, or which model wrote it
    sms_chars: int
    sms_encoding: str
    sms_parts: int
    amount_text: str
    cost: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(tone: str, language: str) -> None:
    if tone not in TONES:
        raise MessageError(f"tone must be one of {', '.join(TONES)}, not {tone!r}")
    if language not in LANGUAGES:
        raise MessageError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")


def facts_for(engine: Engine, store_id: str, customer_id: str, as_of: datetime) -> MessageFacts:
    """The figures a message needs, from the hub database.  Raises :class:`MessageError`."""
    report = credit_report(engine, store_id, as_of=as_of, customer_id=customer_id)
    h = report.histories.get(customer_id)
    if h is None:
        raise MessageError(f"no credit customer {customer_id!r} in store {store_id}")
    if h.balance <= 0:
        raise MessageError(f"{h.name} owes nothing: no collection message to write")
    pred = report.predictions.get(customer_id)
    return MessageFacts(store_id, customer_id, h.name, h.phone, h.balance, h.currency, report.store.name,
                        date.fromisoformat(h.oldest_unpaid_day) if h.oldest_unpaid_day else None,
                        pred.predicted_date if pred else None)


def _message(facts: MessageFacts, tone: str, language: str, texts: dict[str, str], source: str, note: str,
             cost: int = 0) -> CollectionMessage:
    info = sms_info(texts["sms"])
    return CollectionMessage(facts.customer_id, tone, language, texts["sms"], texts["whatsapp"],
                             texts["email_subject"], texts["email_body"], source, note, info.chars, info.encoding,
                             info.parts, format_amount(facts.balance, facts.currency, language), cost)


def computed_message(facts: MessageFacts, tone: str, language: str, reason: str = "") -> CollectionMessage:
    _check(tone, language)
    r = render(tone, language, name=facts.name, amount=facts.balance, currency=facts.currency, shop=facts.shop,
               since=facts.since)
    note = COMPUTED_NOTE + (f": {reason}" if reason else "")
    return _message(facts, tone, language, {"sms": r.sms, "whatsapp": r.whatsapp, "email_subject": r.email_subject,
                                            "email_body": r.email_body}, "computed", note)


def _amount_digits(balance: int, currency: str) -> str:
    return str(balance // (10 ** exponent(currency)))


def problems(texts: dict[str, str], facts: MessageFacts, language: str) -> list[str]:
    """Why an AI-written message may not be used (empty when it may)."""
    out = []
    digits = _amount_digits(facts.balance, facts.currency)
    for key in ("sms", "whatsapp", "email_body"):
        if digits not in re.sub(r"\D", "", texts.get(key, "")):
            out.append(f"the {key.replace('_', ' ')} does not state the amount")
    if len(texts.get("sms", "")) > SMS_LIMIT:
        out.append(f"the SMS is {len(texts['sms'])} characters (at most {SMS_LIMIT})")
    joined = " ".join(texts.values()).lower()
    words = [w for lang in {language, "en"} for w in FORBIDDEN[lang] if w in joined]
    if words:
        out.append("threatening wording (" + ", ".join(sorted(set(words))) + ")")
    if facts.phone and facts.phone in " ".join(texts.values()):
        out.append("the customer's phone number appears in the text")
    return out


def _prompt(facts: MessageFacts, alias: str, shop: str, tone: str, language: str) -> list[dict[str, str]]:
    from analytics.llm import DATA_RULES, data_block

    amount = format_amount(facts.balance, facts.currency, language)
    system = (
        "You write short collection reminders that a small neighbourhood shop sends to a customer who buys on "
        "credit (fiado). Keep the relationship: be respectful, never threaten, never mention lawyers, courts, "
        "police, credit bureaus, penalties or shame. Every text must greet the customer by the alias given "
        "(exactly as written), state the amount exactly as given in amount_text, say they can pay at the "
        "counter of the shop, and thank them for their custom. Use only facts from the data. The SMS must be "
        f"at most {SMS_LIMIT} characters. WhatsApp may use *bold* and at most one emoji. The e-mail has a "
        "subject and a body signed with the shop's name. " + DATA_RULES)
    facts_doc = {"customer": alias, "amount_text": amount, "currency": facts.currency, "shop": shop,
                 "open_since": format_day(facts.since, language) if facts.since else None}
    user = (f"Tone: {tone} ({TONE_GUIDE[tone]}). Language: {LANGUAGE_NAMES[language]}. "
            "Write the SMS, the WhatsApp message, the e-mail subject and the e-mail body.\n"
            + data_block("collection_facts", facts_doc))
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def compose_message(ai: Any, facts: MessageFacts, tone: str, language: str) -> CollectionMessage:
    """The message written by the LLM when ``ai`` (an ``AIService``) is configured and answers
    well; else the computed templates, marked with the reason."""
    _check(tone, language)
    if ai is None or not getattr(ai, "configured", False):
        return computed_message(facts, tone, language, "no AI endpoint is configured")
    from analytics.llm import AIUnavailable, Pseudonymiser

    p = Pseudonymiser()
    alias = p.customer(facts.customer_id, facts.name, phone=facts.phone)
    shop = p.scrub(facts.shop)  # a shop named after its customer ("Colmado Ana") is sent with the alias
    messages = _prompt(facts, alias, shop, tone, language)
    version = f"{facts.customer_id}|{facts.balance}|{facts.since}|{facts.currency}|{tone}|{language}"
    try:
        reply = ai.structured(facts.store_id, FEATURE, messages, schema=SCHEMA, schema_name=FEATURE,
                              pseudonymiser=p, data_version=version)
    except AIUnavailable as exc:
        log.info("collection message for %s/%s: AI unavailable (%s)", facts.store_id, facts.customer_id, exc.kind)
        return computed_message(facts, tone, language, exc.message)
    texts = {k: str(reply.data.get(k, "")).strip() for k in SCHEMA["required"]}
    found = problems(texts, facts, language)
    if found:
        log.warning("collection message for %s/%s: AI text rejected: %s", facts.store_id, facts.customer_id,
                    "; ".join(found))
        return computed_message(facts, tone, language, "the AI text did not pass the checks (" + "; ".join(found)
                                + ")")
    note = f"written by AI ({reply.model})" + (" from the cache" if reply.source == "cache" else "")
    return _message(facts, tone, language, texts, reply.source, note, reply.cost)


def customer_message(engine: Engine, ai: Any, store_id: str, customer_id: str, tone: str, language: str,
                     as_of: datetime) -> CollectionMessage:
    _check(tone, language)
    return compose_message(ai, facts_for(engine, store_id, customer_id, as_of), tone, language)
