"""Each credit customer's contact details for reminders, kept by the hub (``credit_contacts``): an e-mail
address, a phone for messages when it differs from the one the till reported, the preferred channel and the
customer's consent to receive reminders (agreed, opted out, or not recorded: only a customer who agreed is
sent anything).  Phones are checked and kept in international form (E.164) with ``phonenumbers``; a number
written without ``+country`` is read in ``outbound.default_region``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from typing import Any

import phonenumbers
from sqlalchemy import Engine, select

from analytics.credit.sending.tables import credit_contacts
from analytics.db.credit_tables import credit_customers
from firmware_config.outbound import CHANNELS
from i18n import gettext as _


class ContactError(ValueError):
    """An unknown customer or a contact detail that cannot be used; the message says which (translated)."""


@dataclass(frozen=True)
class Contact:
    customer_id: str
    name: str
    device_phone: str | None  # as the till reported it
    phone: str | None  # the hub's own (E.164), when set
    email: str | None
    channel: str | None  # preferred: whatsapp | sms | email; None: the first that can reach them
    consent: bool | None  # True agreed, False opted out, None not recorded
    consent_at: str | None
    language: str | None  # the customer's message language (None: the store's)

    @property
    def message_phone(self) -> str | None:
        return self.phone or self.device_phone

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message_phone": self.message_phone}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def e164(raw: str, region: str | None) -> str:
    """``raw`` as an E.164 number (``+18095550102``); :class:`ContactError` when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        if not raw.strip().startswith("+") and region is None:
            raise ContactError(_("%(phone)s is not a phone number in international form (write it with +country "
                                 "code, or set outbound.default_region)", phone=raw))
        raise ContactError(_("%(phone)s is not a valid phone number", phone=raw))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def valid_email(raw: str) -> str:
    text = raw.strip()
    try:
        address = Address(addr_spec=text)
    except (ValueError, IndexError):
        address = None
    if address is None or not address.username or "." not in address.domain:
        raise ContactError(_("%(email)s is not an e-mail address", email=raw))
    return text


def load_contacts(engine: Engine, store_id: str, customer_id: str | None = None) -> dict[str, Contact]:
    """``{customer_id: Contact}`` for the store's credit customers (every one the tills reported)."""
    cc, kc = credit_customers.c, credit_contacts.c
    q = (select(cc.customer_id, cc.name, cc.phone.label("device_phone"), cc.language, kc.phone, kc.email, kc.channel,
                kc.consent, kc.consent_at)
         .select_from(credit_customers.outerjoin(
             credit_contacts, (kc.store_id == cc.store_id) & (kc.customer_id == cc.customer_id)))
         .where(cc.store_id == store_id))
    if customer_id is not None:
        q = q.where(cc.customer_id == customer_id)
    with engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return {r["customer_id"]: Contact(r["customer_id"], r["name"], r["device_phone"] or None, r["phone"], r["email"],
                                      r["channel"], None if r["consent"] is None else bool(r["consent"]),
                                      r["consent_at"], r["language"])
            for r in rows}


def load_contact(engine: Engine, store_id: str, customer_id: str) -> Contact:
    found = load_contacts(engine, store_id, customer_id).get(customer_id)
    if found is None:
        raise ContactError(_("no credit customer %(customer)s in this store", customer=customer_id))
    return found


def save_contact(engine: Engine, store_id: str, customer_id: str, *, email: str | None, phone: str | None,
                 channel: str | None, consent: bool | None, by: str, now: datetime,
                 region: str | None = None) -> Contact:
    """Set the customer's contact details (None or "" clears one); the consent's time changes when it does."""
    before = load_contact(engine, store_id, customer_id)
    email = valid_email(email) if email and email.strip() else None
    phone = e164(phone, region) if phone and phone.strip() else None
    channel = channel or None
    if channel is not None and channel not in CHANNELS:
        raise ContactError(_("channel must be one of %(channels)s (or empty: the first that reaches them)",
                             channels=", ".join(CHANNELS)))
    consent_at = before.consent_at if consent == before.consent else (iso(now) if consent is not None else None)
    values = {"email": email, "phone": phone, "channel": channel, "consent": consent, "consent_at": consent_at,
              "updated_by": by, "updated_at": iso(now)}
    kc = credit_contacts.c
    with engine.begin() as conn:
        done = conn.execute(credit_contacts.update().where(kc.store_id == store_id, kc.customer_id == customer_id)
                            .values(**values)).rowcount
        if not done:
            conn.execute(credit_contacts.insert().values(store_id=store_id, customer_id=customer_id, **values))
    return load_contact(engine, store_id, customer_id)
