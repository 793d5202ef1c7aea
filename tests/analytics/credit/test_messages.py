"""Collection messages: every template (tone × language × channel) with the amount in the store's
currency, SMS length, the AI path against the real stand-in chat server (the model never sees the
customer's name or phone; the name comes back in the result), and the computed fallback on
malformed answers, 500s, threatening wording and no endpoint."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import Engine

from analytics.credit.messages import FORBIDDEN, MessageError, MessageFacts, compose_message, customer_message
from analytics.credit.templates import CHANNELS, LANGUAGES, TONES, first_name, format_amount, render, sms_info
from analytics.llm import AIService
from firmware_config.schema import LlmConfig
from tests.analytics.credit.support import NOW, PHONES, STORE
from tests.support.llm_server import ChatServer, Reply

FACTS = MessageFacts(STORE, "c-late", "Luis Alberto Late", PHONES["c-late"], 186000, "DOP", "Colmado Ana",
                     date(2026, 10, 21))


def _texts(m) -> dict[str, str]:
    return {"sms": m.sms, "whatsapp": m.whatsapp, "email": m.email_subject + "\n" + m.email_body}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("tone", TONES)
@pytest.mark.parametrize("currency, amount", [("DOP", 186000), ("EUR", 123456)])
def test_every_template_states_the_amount_and_how_to_pay(tone: str, language: str, currency: str,
                                                         amount: int) -> None:
    r = render(tone, language, name="Luis Alberto Late", amount=amount, currency=currency,
               shop="Colmado Ana del Barrio", since=date(2026, 10, 21))
    money = format_amount(amount, currency, language)
    texts = {"sms": r.sms, "whatsapp": r.whatsapp, "email": r.email_body}
    assert set(texts) == set(CHANNELS)
    for channel, text in texts.items():
        assert money in text, (channel, text)
        assert "Luis" in text
        low = text.lower()
        assert any(w in low for w in ("counter", "mostrador", "comptoir")), (channel, "way to pay")
        assert any(w in low for w in ("thank", "gracias", "merci")), (channel, "thanks")
        assert not [w for lang in LANGUAGES for w in FORBIDDEN[lang] if w in low], (channel, text)
    assert r.email_subject and "{" not in r.email_body + r.sms + r.whatsapp + r.email_subject
    assert len(r.sms) <= 160, (len(r.sms), r.sms)
    if tone != "friendly":  # firm and formal say since when (in the e-mail at least)
        since = {"en": "21 October 2026", "es": "21 de octubre de 2026", "fr": "21 octobre 2026"}[language]
        assert since in r.email_body


def test_amounts_in_the_store_currency_and_language() -> None:
    assert format_amount(186000, "DOP", "en") == "RD$1,860.00"
    assert format_amount(186000, "DOP", "es") == "RD$1,860.00"
    assert format_amount(123456, "EUR", "es") == "1.234,56 €"
    assert format_amount(123456, "EUR", "fr") == "1 234,56 €"
    assert format_amount(5000, "XOF", "fr") == "5 000 XOF"  # no minor units
    info = sms_info("Hi Luis, your balance is RD$1,860.00.")
    assert (info.encoding, info.parts) == ("gsm-7", 1)
    assert sms_info("x" * 161).parts == 2 and sms_info("¿Qué tal? á" * 10).encoding == "ucs-2"


def test_unknown_tone_or_language_is_refused() -> None:
    with pytest.raises(MessageError, match="tone must be one of"):
        compose_message(None, FACTS, "angry", "en")
    with pytest.raises(MessageError, match="language must be one of"):
        compose_message(None, FACTS, "firm", "de")


def _service(engine: Engine, server: ChatServer, **kw) -> AIService:
    cfg = LlmConfig(base_url=server.base_url, model="stand-in-1", timeout_s=2, max_retries=0, backoff_s=0, **kw)
    return AIService.from_config(engine, cfg, clock=lambda: NOW)


def _alias_reply(body: dict) -> Reply:
    """What a good model writes: it greets the alias it was given, states the amount, thanks."""
    text = json.dumps(body, ensure_ascii=False)
    alias = "Customer C1" if "Customer C1" in text else "???"
    return Reply.json({"sms": f"Hola {alias}, su saldo en Colmado Ana es RD$1,860.00. Puede pagar en el mostrador. "
                              "¡Gracias!",
                       "whatsapp": f"Hola {alias} 😊 Su saldo es *RD$1,860.00*. Pague en el mostrador. ¡Gracias!",
                       "email_subject": "Su saldo en Colmado Ana",
                       "email_body": f"Hola {alias}:\n\nSu saldo es RD$1,860.00; puede pagar en el mostrador.\n\n"
                                     "Gracias por su preferencia.\nColmado Ana"})


def test_llm_message_never_sees_name_or_phone_and_restores_the_name(sqlite_engine: Engine,
                                                                      llm_server: ChatServer) -> None:
    llm_server.respond_with(_alias_reply)
    m = customer_message(sqlite_engine, _service(sqlite_engine, llm_server), STORE, "c-late", "friendly", "es",
                         as_of=NOW)
    assert llm_server.calls == 1
    sent = llm_server.bodies_text()
    for secret in ("Luis Late", "Luis", PHONES["c-late"], "809 555 0102", "8095550102"):
        assert secret not in sent, secret
    assert "Customer C1" in sent and "RD$1,860.00" in sent
    assert m.source == "llm" and m.note.startswith("written by AI")
    assert m.sms.startswith("Hola Luis Late,") and "Customer C1" not in m.sms + m.whatsapp + m.email_body
    assert "Luis Late" in m.email_body and m.cost > 0
    # the same facts again: served from the cache, free
    again = customer_message(sqlite_engine, _service(sqlite_engine, llm_server), STORE, "c-late", "friendly", "es",
                             as_of=NOW)
    assert again.source == "cache" and again.cost == 0 and llm_server.calls == 1 and again.sms == m.sms


@pytest.mark.parametrize("replies, reason", [
    ([Reply.text("{not json"), Reply.text("still not json")], "malformed"),
    ([Reply.error(500)], "500"),
    ([Reply.json({"sms": "Customer C1, pay RD$1,860.00 at the counter or we call a lawyer. Thanks.",
                  "whatsapp": "Pay RD$1,860.00 at the counter. Thanks", "email_subject": "Balance",
                  "email_body": "Pay RD$1,860.00 at the counter. Thanks."})], "threat"),
    ([Reply.json({"sms": "Hi Customer C1, please come by the counter. Thanks!", "whatsapp": "Hi! Thanks",
                  "email_subject": "Hello", "email_body": "Please come by. Thanks."})], "no amount"),
])
def test_bad_ai_answers_fall_back_to_templates_marked_computed(sqlite_engine: Engine, llm_server: ChatServer,
                                                               replies: list[Reply], reason: str) -> None:
    llm_server.script(*replies)
    m = customer_message(sqlite_engine, _service(sqlite_engine, llm_server), STORE, "c-late", "firm", "en",
                         as_of=NOW)
    assert llm_server.calls >= 1
    assert m.source == "computed" and m.note.startswith("computed from your figures (no AI)")
    assert m.sms == render("firm", "en", name="Luis Late", amount=186000, currency="DOP", shop="Colmado Ana",
                           since=date(2026, 10, 21)).sms
    assert "RD$1,860.00" in m.sms and "lawyer" not in m.sms
    if reason in ("threat", "no amount"):
        assert "did not pass the checks" in m.note


def test_without_an_endpoint_the_templates_answer(sqlite_engine: Engine) -> None:
    svc = AIService.from_config(sqlite_engine, LlmConfig(), clock=lambda: NOW)
    m = customer_message(sqlite_engine, svc, STORE, "c-rel", "formal", "fr", as_of=NOW)
    assert m.source == "computed" and "no AI endpoint" in m.note
    assert m.sms.startswith("Bonjour Rosa Reliable,") and "300,00 RD$" in m.sms
    with pytest.raises(MessageError, match="no credit customer"):
        customer_message(sqlite_engine, None, STORE, "c-nobody", "formal", "fr", as_of=NOW)


@pytest.mark.parametrize(("name", "greeted"), [
    ("Pedro Martínez", "Pedro"), ("Ana", "Ana"), ("Doña Carmen Reyes", "Doña Carmen"),
    ("Colmado Doña Carmen", "Colmado Doña Carmen"), ("Cafetería El Sol", "Cafetería El Sol"),
    ("Taller Hermanos Díaz", "Taller Hermanos Díaz"), ("Banca La Suerte", "Banca La Suerte"),
    ("Distribuidora Díaz SRL", "Distribuidora Díaz SRL"), ("Boulangerie Dupont", "Boulangerie Dupont")])
def test_a_business_is_greeted_by_its_whole_name(name: str, greeted: str) -> None:
    """Issue 26: "Hi Colmado" for the customer "Colmado Doña Carmen"."""
    assert first_name(name) == greeted
    for language, hello in (("en", "Hi"), ("es", "Hola"), ("fr", "Bonjour")):
        sms = render("friendly", language, name=name, amount=150000, currency="DOP", shop="Colmado Ana").sms
        assert sms.startswith(f"{hello} {greeted}"), sms
