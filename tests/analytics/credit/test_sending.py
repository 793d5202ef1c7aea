"""Collection reminders reach the customers: an e-mail arrives at a real SMTP server in UTF-8 with its accents,
an SMS at a Twilio-shaped API and a WhatsApp message at a Cloud-API-shaped one, each recorded with the
provider's id; a provider's refusal is recorded with its words and can be sent again; a double click sends
once; a customer is reminded at most once every N days, and only with their consent."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from analytics.credit.languages import set_customer_language
from analytics.credit.sending.contacts import ContactError, load_contact, save_contact
from analytics.credit.sending.registry import build_senders
from analytics.credit.sending.service import ReminderService, reminders
from analytics.db import make_engine
from firmware_config import ConfigError, dump_config, load_config
from tests.analytics.credit.outbound_servers import (
    SMS_SID,
    SMS_TOKEN,
    SMTP_PASSWORD,
    WA_PHONE_ID,
    WA_TOKEN,
    Mailbox,
    Provider,
    outbound_config,
    provider_server,
    smtp_server,
)
from tests.analytics.credit.support import NOW, PHONES, Builder, day, four_customers

OWNER = "ann"


def shop(engine: Engine) -> Engine:
    """The four known customers and Doña Carmen Peña, who reads Spanish and whose phone the till wrote without
    the country code."""
    b = four_customers(Builder())
    b.sale("c-carmen", day(20), 45050)
    b.sale("c-carmen", day(12), 30000)
    b.customer("c-carmen", "Doña Carmen Peña", 200000, phone="809-555-0105")
    b.write(engine)
    set_customer_language(engine, "s-cr", "c-carmen", "es")
    for cid, email in (("c-carmen", "carmen.pena@example.do"), ("c-late", "luis@example.do"),
                       ("c-stop", "pedro@example.do")):
        save_contact(engine, "s-cr", cid, email=email, phone=None, channel=None, consent=True, by=OWNER,
                     now=NOW - timedelta(days=30))
    return engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = make_engine(f"sqlite:///{tmp_path / 'send.db'}")
    yield shop(e)
    e.dispose()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
def provider() -> Iterator[Provider]:
    with provider_server() as p:
        yield p


def service(engine: Engine, mailbox: Mailbox | None, provider: Provider | None, **extra) -> ReminderService:
    cfg = outbound_config(mailbox, provider, default_region="DO", **extra)
    return ReminderService(engine, build_senders(cfg), cfg)


def test_an_email_arrives_in_utf8_with_its_accents(engine: Engine, mailbox: Mailbox, tmp_path: Path) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text(SMTP_PASSWORD + "\n", encoding="utf-8")
    cfg = outbound_config(mailbox, None, password_file=str(secret))
    svc = ReminderService(engine, build_senders(cfg), cfg)
    [out] = svc.send("s-cr", ["c-carmen"], tone="friendly", by=OWNER, key="k-1", now=NOW, channel="email")
    assert out.status == "sent", out.reason
    assert mailbox.logins == ["colmado"]  # logged in with the password read from its file
    [mail] = mailbox.messages
    assert mailbox.envelopes == [("cobros@colmado-ana.do", ["carmen.pena@example.do"])]
    assert mail["To"].addresses[0].display_name == "Doña Carmen Peña"
    assert mail["From"].addresses[0].display_name == "Colmado Ana"
    assert mail["Subject"] == "Un recordatorio amable de Colmado Ana"
    body = mail.get_content()
    assert body.startswith("Hola Doña Carmen:") and "RD$750.50" in body and "Colmado Ana" in body
    assert mail["Content-Language"] == "es"
    rec = out.reminder
    assert rec is not None and rec.status == "sent" and rec.provider_id == mail["Message-ID"]
    assert (rec.channel, rec.language, rec.recipient, rec.requested_by, rec.amount) == (
        "email", "es", "carmen.pena@example.do", OWNER, 75050)
    assert rec.body == body.replace("\r\n", "\n").rstrip("\n") and rec.subject == mail["Subject"]
    assert mail.get_content_charset() == "utf-8"


def test_an_sms_goes_to_the_messages_api_in_international_form(engine: Engine, provider: Provider) -> None:
    svc = service(engine, None, provider)
    [out] = svc.send("s-cr", ["c-carmen"], tone="firm", by=OWNER, key="k-2", now=NOW, channel="sms")
    assert out.status == "sent", out.reason
    [req] = provider.requests
    assert req.path == f"/2010-04-01/Accounts/{SMS_SID}/Messages.json"
    assert req.headers["authorization"] == "Basic " + base64.b64encode(f"{SMS_SID}:{SMS_TOKEN}".encode()).decode()
    assert req.headers["content-type"].startswith("application/x-www-form-urlencoded")
    form = req.form
    assert form["To"] == "+18095550105" and form["From"] == "+18095550000"  # 809-555-0105 read in DO
    assert form["Body"].startswith("Doña Carmen") and "RD$750.50" in form["Body"]
    assert out.reminder is not None and out.reminder.provider_id == "SM" + "1".zfill(32)
    assert out.reminder.body == form["Body"]


def test_a_whatsapp_message_goes_to_the_cloud_api(engine: Engine, provider: Provider) -> None:
    svc = service(engine, None, provider)
    [out] = svc.send("s-cr", ["c-late"], tone="friendly", by=OWNER, key="k-3", now=NOW, channel="whatsapp")
    assert out.status == "sent", out.reason
    [req] = provider.requests
    assert req.path == f"/v21.0/{WA_PHONE_ID}/messages"
    assert req.headers["authorization"] == f"Bearer {WA_TOKEN}"
    doc = req.json
    assert doc["messaging_product"] == "whatsapp" and doc["to"] == PHONES["c-late"].replace(" ", "").lstrip("+")
    assert doc["type"] == "text" and doc["text"]["body"].startswith("Hi Luis") and "RD$1,860.00" in doc["text"]["body"]
    assert out.reminder is not None and out.reminder.provider_id == "wamid.TEST1"


def test_a_whatsapp_template_carries_name_amount_and_shop(engine: Engine, provider: Provider) -> None:
    cfg = outbound_config(None, provider, default_region="DO")
    cfg.whatsapp.template = "payment_reminder"
    svc = ReminderService(engine, build_senders(cfg), cfg)
    [out] = svc.send("s-cr", ["c-carmen"], tone="friendly", by=OWNER, key="k-4", now=NOW, channel="whatsapp")
    assert out.status == "sent", out.reason
    doc = provider.requests[0].json
    assert doc["type"] == "template" and doc["template"]["name"] == "payment_reminder"
    assert doc["template"]["language"] == {"code": "es"}
    params = [p["text"] for p in doc["template"]["components"][0]["parameters"]]
    assert params == ["Doña Carmen Peña", "RD$750.50", "Colmado Ana"]


def test_a_provider_failure_is_recorded_and_sent_again_later(engine: Engine, provider: Provider) -> None:
    svc = service(engine, None, provider)
    provider.fail = (500, {"code": 20500, "message": "Internal Server Error", "status": 500})
    [out] = svc.send("s-cr", ["c-late"], tone="friendly", by=OWNER, key="k-5", now=NOW, channel="sms")
    assert out.status == "failed"
    assert "HTTP 500" in out.reason and "Internal Server Error" in out.reason and "20500" in out.reason
    [rec] = reminders(engine, "s-cr", "c-late")
    assert rec.status == "failed" and rec.error == out.reason and rec.provider_id is None and rec.attempts == 1
    text = rec.body
    # a failure never counts against the rate limit, and the text is kept to be sent again
    provider.fail = None
    later = NOW + timedelta(hours=2)
    again = svc.retry("s-cr", rec.reminder_id, by="op", now=later)
    assert again.status == "sent" and again.reminder is not None
    assert again.reminder.attempts == 2 and again.reminder.error is None and again.reminder.sent_at is not None
    assert provider.requests[-1].form["Body"] == text and len(provider.requests) == 2
    # a sent one is not sent again
    assert svc.retry("s-cr", rec.reminder_id, by="op", now=later).status == "duplicate"
    assert len(provider.requests) == 2


def test_a_send_interrupted_midway_can_be_sent_again_after_a_while(engine: Engine, provider: Provider) -> None:
    from sqlalchemy import update

    from analytics.credit.sending.tables import credit_reminders

    svc = service(engine, None, provider)
    provider.fail = (503, {"message": "Service Unavailable"})
    [out] = svc.send("s-cr", ["c-late"], tone="friendly", by=OWNER, key="k-int", now=NOW, channel="sms")
    assert out.reminder is not None
    rid = out.reminder.reminder_id
    provider.fail = None
    with engine.begin() as conn:  # as if the hub had stopped while the provider was asked
        conn.execute(update(credit_reminders).where(credit_reminders.c.reminder_id == rid).values(status="sending"))
    assert svc.retry("s-cr", rid, by=OWNER, now=NOW + timedelta(minutes=2)).status == "duplicate"  # still going
    assert len(provider.requests) == 1
    done = svc.retry("s-cr", rid, by=OWNER, now=NOW + timedelta(minutes=30))
    assert done.status == "sent" and done.reminder is not None and done.reminder.attempts == 2
    assert len(provider.requests) == 2


def test_an_smtp_refusal_is_recorded_with_the_servers_words(engine: Engine, mailbox: Mailbox) -> None:
    mailbox.refuse.add("pedro@example.do")
    [out] = service(engine, mailbox, None).send("s-cr", ["c-stop"], tone="formal", by=OWNER, key="k-6", now=NOW)
    assert out.status == "failed" and "550" in out.reason and "mailbox unavailable" in out.reason
    assert reminders(engine, "s-cr", "c-stop")[0].status == "failed"
    assert mailbox.messages == []


def test_starttls_is_never_skipped_quietly(engine: Engine, mailbox: Mailbox) -> None:
    """A server that offers no STARTTLS gets nothing when the hub is set to use it (no fall back to plain text)."""
    cfg = outbound_config(mailbox, None)
    cfg.email.security = "starttls"
    [out] = ReminderService(engine, build_senders(cfg), cfg).send("s-cr", ["c-late"], tone="friendly", by=OWNER,
                                                                  key="k-tls", now=NOW, channel="email")
    assert out.status == "failed" and "STARTTLS" in out.reason.upper()
    assert mailbox.messages == [] and mailbox.logins == []


def test_the_provider_unreachable_is_a_failure_not_a_crash(engine: Engine) -> None:
    from tests.support.mosquitto import free_port

    cfg = load_config(None, env={"TILLSIGHT__OUTBOUND__SMS__AUTH_TOKEN": "t"}, fleet_overlay=False, overrides={
        "outbound": {"sms": {"enabled": True, "base_url": f"http://127.0.0.1:{free_port()}", "account_sid": "AC1",
                             "from_number": "+18095550000", "timeout_s": 2}}}).outbound
    [out] = ReminderService(engine, build_senders(cfg), cfg).send("s-cr", ["c-late"], tone="friendly", by=OWNER,
                                                                  key="k-7", now=NOW)
    assert out.status == "failed" and "could not reach the SMS provider" in out.reason


def test_a_double_click_sends_once_and_the_rate_limit_holds(credit_engine: Engine, provider: Provider) -> None:
    engine = credit_engine  # SQLite and PostgreSQL
    save_contact(engine, "s-cr", "c-late", email=None, phone=None, channel="sms", consent=True, by=OWNER, now=NOW)
    svc = service(engine, None, provider)
    first = svc.send("s-cr", ["c-late"], tone="friendly", by=OWNER, key="click-1", now=NOW)
    second = svc.send("s-cr", ["c-late"], tone="friendly", by=OWNER, key="click-1", now=NOW + timedelta(seconds=1))
    assert first[0].status == "sent" and second[0].status == "duplicate"
    assert second[0].reminder == first[0].reminder and len(provider.requests) == 1
    # another request within 7 days is refused, with the day it was sent
    third = svc.send("s-cr", ["c-late"], tone="firm", by=OWNER, key="click-2", now=NOW + timedelta(days=6))
    assert third[0].status == "refused" and "2026-11-21" in third[0].reason and "7 days" in third[0].reason
    assert len(provider.requests) == 1
    fourth = svc.send("s-cr", ["c-late"], tone="firm", by=OWNER, key="click-3", now=NOW + timedelta(days=7, hours=1))
    assert fourth[0].status == "sent" and len(provider.requests) == 2
    assert [r.status for r in reminders(engine, "s-cr", "c-late")] == ["sent", "sent"]


def test_consent_routing_and_refusals(engine: Engine, provider: Provider, mailbox: Mailbox) -> None:
    svc = service(engine, mailbox, provider)
    # Nina never agreed; Rosa opted out; Carmen prefers e-mail; Luis has no preference: WhatsApp comes first
    save_contact(engine, "s-cr", "c-rel", email=None, phone=None, channel=None, consent=False, by=OWNER, now=NOW)
    save_contact(engine, "s-cr", "c-carmen", email="carmen.pena@example.do", phone=None, channel="email",
                 consent=True, by=OWNER, now=NOW)
    out = {o.customer_id: o for o in svc.send("s-cr", ["c-new", "c-rel", "c-carmen", "c-late", "c-nobody"],
                                              tone="friendly", by=OWNER, key="sel-1", now=NOW)}
    assert out["c-new"].status == "refused" and "agreed" in out["c-new"].reason
    assert out["c-rel"].status == "refused" and "opted out" in out["c-rel"].reason
    assert (out["c-carmen"].status, out["c-carmen"].channel) == ("sent", "email")
    assert (out["c-late"].status, out["c-late"].channel) == ("sent", "whatsapp")
    assert out["c-nobody"].status == "refused"
    assert len(mailbox.messages) == 1 and len(provider.requests) == 1
    assert {r.customer_id for r in reminders(engine, "s-cr")} == {"c-carmen", "c-late"}  # refusals send nothing
    # a channel the hub has not set up, and a customer with no address for it
    only_sms = service(engine, None, provider)
    [o] = only_sms.send("s-cr", ["c-stop"], tone="friendly", by=OWNER, key="sel-2", now=NOW, channel="email")
    assert o.status == "refused" and "not set up" in o.reason


def test_contacts_are_checked_and_kept_in_international_form(engine: Engine) -> None:
    c = save_contact(engine, "s-cr", "c-new", email=" nina@example.do ", phone="(809) 555-0177", channel="sms",
                     consent=True, by=OWNER, now=NOW, region="DO")
    assert (c.email, c.phone, c.channel, c.consent, c.consent_at) == (
        "nina@example.do", "+18095550177", "sms", True, "2026-11-21T15:00:00Z")
    again = save_contact(engine, "s-cr", "c-new", email="nina@example.do", phone="+18095550177", channel="sms",
                         consent=True, by=OWNER, now=NOW + timedelta(days=3))
    assert again.consent_at == "2026-11-21T15:00:00Z"  # the consent did not change: nor does its time
    assert load_contact(engine, "s-cr", "c-new").message_phone == "+18095550177"
    for kwargs, words in (({"email": "not-an-address"}, "not an e-mail address"),
                          ({"phone": "555"}, "not a phone number in international form"),
                          ({"phone": "+1 809 12"}, "not a valid phone number"),
                          ({"channel": "fax"}, "channel must be one of")):
        args = {"email": None, "phone": None, "channel": None, **kwargs}
        with pytest.raises(ContactError, match=words):
            save_contact(engine, "s-cr", "c-new", consent=True, by=OWNER, now=NOW, **args)
    with pytest.raises(ContactError, match="no credit customer"):
        save_contact(engine, "s-cr", "c-nobody", email=None, phone=None, channel=None, consent=None, by=OWNER, now=NOW)


def test_the_configuration_names_bad_keys_and_never_shows_a_secret() -> None:
    env = {"TILLSIGHT__OUTBOUND__SMS__AUTH_TOKEN": "very-secret-token"}
    cfg = load_config(None, env=env, fleet_overlay=False, overrides={"outbound": {"sms": {
        "enabled": True, "account_sid": "AC1", "from_number": "+18095550000"}}})
    assert "very-secret-token" not in str(dump_config(cfg)) and "very-secret-token" not in repr(cfg)
    assert dump_config(cfg)["outbound"]["sms"]["auth_token"] == "**********"
    with pytest.raises(ConfigError) as err:
        load_config(None, env={}, fleet_overlay=False, overrides={"outbound": {
            "sms": {"enabled": True, "acount_sid": "AC1"}, "whatsapp": {"enabled": True}, "email": {"enabled": True}}})
    text = str(err.value)
    assert "outbound.sms.acount_sid: unknown key" in text
    assert "phone_number_id is needed when whatsapp.enabled is true" in text
    assert "from_address is needed when email.enabled is true" in text
