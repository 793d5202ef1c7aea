"""Sending collection reminders: the owner picks customers (and a tone, perhaps a channel); each one gets the
collection message in their language over a channel that reaches them, and every send is recorded.

For each customer, in order:

1. the same request again (its idempotency key, ``{key}:{customer}``) answers with what was recorded the first
   time: a double click or a resent form sends once;
2. a customer is sent nothing (*refused*, with the reason, nothing recorded) when they did not agree to receive
   reminders or opted out, owe nothing, were reminded less than ``outbound.reminder_every_days`` ago, or no
   enabled channel can reach them (no phone, no e-mail, an invalid number);
3. the message is written as the composer writes it (:mod:`analytics.credit.messages`: templates, or the AI
   with the customer pseudonymised), in the customer's language, else the store's;
4. the reminder is recorded as ``sending`` before the provider is asked, then ``sent`` with the provider's id
   or ``failed`` with its error: nothing is lost, and a failed reminder can be sent again (:meth:`retry`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, and_, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from analytics.credit.data import load_store
from analytics.credit.languages import message_language
from analytics.credit.messages import CollectionMessage, MessageError, compose_message, facts_for
from analytics.credit.sending.base import Outgoing, Sender, SendFailure
from analytics.credit.sending.contacts import Contact, ContactError, e164, iso, load_contacts
from analytics.credit.sending.tables import credit_reminders
from firmware_config.outbound import CHANNELS, OutboundConfig
from i18n import gettext as _

log = logging.getLogger(__name__)

SENT, FAILED, SENDING, REFUSED, DUPLICATE = "sent", "failed", "sending", "refused", "duplicate"
# a reminder still "sending" this long after it was last touched was interrupted (the hub stopped while the
# provider was asked): it may be sent again, like a failed one (the provider may or may not have sent it)
STALE_SENDING = timedelta(minutes=10)


class ReminderError(ValueError):
    """A request that cannot be carried out at all (unknown reminder, one that is not failed, a bad channel)."""


@dataclass(frozen=True)
class Reminder:
    """One recorded reminder (a row of ``credit_reminders``)."""

    reminder_id: str
    store_id: str
    customer_id: str
    channel: str
    language: str
    tone: str
    recipient: str
    subject: str | None
    body: str
    amount: int
    currency: str
    source: str
    status: str
    provider_id: str | None
    error: str | None
    attempts: int
    requested_by: str
    requested_at: str
    sent_at: str | None
    updated_at: str

    @classmethod
    def from_row(cls, row: RowMapping) -> Reminder:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    """What happened for one customer of a send: sent, failed, refused (with the reason) or duplicate."""

    customer_id: str
    name: str
    status: str
    channel: str | None
    reason: str
    reminder: Reminder | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["reminder"] = self.reminder.as_dict() if self.reminder else None
        return out


def reminders(engine: Engine, store_id: str, customer_id: str | None = None, limit: int = 200) -> list[Reminder]:
    """The store's (or one customer's) reminders, newest first."""
    c = credit_reminders.c
    q = select(credit_reminders).where(c.store_id == store_id)
    if customer_id is not None:
        q = q.where(c.customer_id == customer_id)
    with engine.connect() as conn:
        rows = conn.execute(q.order_by(c.requested_at.desc(), c.reminder_id).limit(limit)).mappings().all()
    return [Reminder.from_row(r) for r in rows]


def last_reminders(engine: Engine, store_id: str) -> dict[str, Reminder]:
    """Each customer's latest reminder (any status)."""
    latest: dict[str, Reminder] = {}
    for r in reminders(engine, store_id, limit=100_000):
        latest.setdefault(r.customer_id, r)
    return latest


class ReminderService:
    """Sends and records reminders over the enabled ``senders`` (``registry.build_senders``)."""

    def __init__(self, engine: Engine, senders: dict[str, Sender], config: OutboundConfig, ai: Any = None) -> None:
        self.engine = engine
        self.senders = senders
        self.config = config
        self.ai = ai

    def _every(self) -> str:
        """``reminder_every_days`` as a person writes it (7, 3.5)."""
        return format(self.config.reminder_every_days, "g")

    # -- one customer ---------------------------------------------------------------------------------------------

    def _existing(self, store_id: str, key: str) -> Reminder | None:
        c = credit_reminders.c
        with self.engine.connect() as conn:
            row = conn.execute(select(credit_reminders).where(c.store_id == store_id, c.idempotency_key == key)
                               ).mappings().first()
        return Reminder.from_row(row) if row else None

    def _recent(self, store_id: str, customer_id: str, now: datetime, exclude: str | None = None,
                conn: Connection | None = None) -> Reminder | None:
        """A reminder sent (or being sent) to the customer within ``reminder_every_days`` of ``now`` (read in
        ``conn``'s transaction when given: see :func:`_lock_customer`)."""
        days = self.config.reminder_every_days
        if days <= 0:
            return None
        c = credit_reminders.c
        q = (select(credit_reminders).where(c.store_id == store_id, c.customer_id == customer_id,
                                            c.status.in_((SENT, SENDING)),
                                            c.requested_at > iso(now - timedelta(days=days)))
             .order_by(c.requested_at.desc()))
        if exclude:
            q = q.where(c.reminder_id != exclude)
        if conn is not None:
            row = conn.execute(q).mappings().first()
        else:
            with self.engine.connect() as own:
                row = own.execute(q).mappings().first()
        return Reminder.from_row(row) if row else None

    def route(self, contact: Contact, channel: str | None) -> tuple[str, str]:
        """``(channel, recipient)`` for the customer; :class:`ContactError` with the reason when none works."""
        def address(name: str) -> str | None:
            if name == "email":
                return contact.email
            phone = contact.message_phone
            return e164(phone, self.config.default_region) if phone else None

        if channel is not None:
            if channel not in CHANNELS:
                raise ReminderError(_("channel must be one of %(channels)s", channels=", ".join(CHANNELS)))
            if channel not in self.senders:
                raise ContactError(_("%(channel)s is not set up on this hub (outbound.%(channel)s)", channel=channel))
            found = address(channel)
            if not found:
                raise ContactError(_("no e-mail address") if channel == "email" else _("no phone number"))
            return channel, found
        order = list(self.senders)
        if contact.channel in self.senders:
            order.remove(contact.channel)
            order.insert(0, contact.channel)
        problem: ContactError | None = None
        for name in order:
            try:
                found = address(name)
            except ContactError as exc:
                problem = problem or exc
                continue
            if found:
                return name, found
        if problem is not None:
            raise problem
        if not self.senders:
            raise ContactError(_("no channel is set up on this hub (outbound.email, outbound.sms, outbound.whatsapp)"))
        raise ContactError(_("no phone number or e-mail address for a channel this hub uses (%(channels)s)",
                             channels=", ".join(self.senders)))

    def _refusal(self, contact: Contact, store_id: str, now: datetime) -> str | None:
        if contact.consent is False:
            return _("opted out of reminders")
        if contact.consent is None:
            return _("has not agreed to receive reminders (record their consent first)")
        recent = self._recent(store_id, contact.customer_id, now)
        if recent is not None:
            return _("already reminded on %(day)s (at most one reminder every %(days)s days)",
                     day=recent.requested_at[:10], days=self._every())
        return None

    def send_one(self, store_id: str, contact: Contact, *, channel: str | None, tone: str, by: str, key: str,
                 now: datetime, store_language: str) -> Outcome:
        cid = contact.customer_id
        existing = self._existing(store_id, key)
        if existing is not None:
            return Outcome(cid, contact.name, DUPLICATE, existing.channel,
                           _("already handled by this request (nothing sent again)"), existing)
        reason = self._refusal(contact, store_id, now)
        if reason is not None:
            return Outcome(cid, contact.name, REFUSED, None, reason)
        try:
            chosen, recipient = self.route(contact, channel)
            facts = facts_for(self.engine, store_id, cid, now)
        except (ContactError, MessageError) as exc:
            return Outcome(cid, contact.name, REFUSED, channel, str(exc))
        language = message_language(self.engine, store_id, cid, store_language)
        message = compose_message(self.ai, facts, tone, language)
        subject, text = _texts(message, chosen)
        reminder_id = str(uuid.uuid4())
        row = {"reminder_id": reminder_id, "store_id": store_id, "customer_id": cid, "idempotency_key": key,
               "channel": chosen, "language": language, "tone": tone, "recipient": recipient, "subject": subject,
               "body": text, "amount": facts.balance, "currency": facts.currency, "source": message.source,
               "status": SENDING, "provider_id": None, "error": None, "attempts": 1, "requested_by": by,
               "requested_at": iso(now), "sent_at": None, "updated_at": iso(now)}
        try:
            with self.engine.begin() as conn:
                # checked again inside the write: two requests with different keys at the same moment must not
                # both pass the "once every N days" rule
                _lock_customer(conn, store_id, cid)
                recent = self._recent(store_id, cid, now, conn=conn)
                if recent is not None:
                    return Outcome(cid, contact.name, REFUSED, None,
                                   _("already reminded on %(day)s (at most one reminder every %(days)s days)",
                                     day=recent.requested_at[:10], days=self._every()))
                conn.execute(insert(credit_reminders).values(**row))
        except IntegrityError:  # the same request, at the same moment (a double click racing itself)
            again = self._existing(store_id, key)
            if again is None:
                raise
            return Outcome(cid, contact.name, DUPLICATE, again.channel,
                           _("already handled by this request (nothing sent again)"), again)
        outgoing = Outgoing(reminder_id, recipient, contact.name, text, subject, language, message.amount_text,
                            facts.shop)
        return self._deliver(store_id, outgoing, chosen, contact.name, cid, now)

    def _deliver(self, store_id: str, outgoing: Outgoing, channel: str, name: str, customer_id: str,
                 now: datetime) -> Outcome:
        c = credit_reminders.c
        try:
            delivery = self.senders[channel].send(outgoing)
        except SendFailure as exc:
            error = str(exc)[:1000]
            log.warning("reminder %s to %s/%s by %s failed: %s", outgoing.reminder_id, store_id, customer_id, channel,
                        error)
            values: dict[str, Any] = {"status": FAILED, "error": error, "updated_at": iso(now)}
            status, reason = FAILED, error
        else:
            values = {"status": SENT, "provider_id": delivery.provider_id[:200], "error": None, "sent_at": iso(now),
                      "updated_at": iso(now)}
            status, reason = SENT, ""
            log.info("reminder %s to %s/%s sent by %s", outgoing.reminder_id, store_id, customer_id, channel)
        with self.engine.begin() as conn:
            conn.execute(update(credit_reminders).where(c.reminder_id == outgoing.reminder_id).values(**values))
            row = conn.execute(select(credit_reminders).where(c.reminder_id == outgoing.reminder_id)).mappings().one()
        return Outcome(customer_id, name, status, channel, reason, Reminder.from_row(row))

    # -- the requests ---------------------------------------------------------------------------------------------

    def send(self, store_id: str, customer_ids: list[str], *, tone: str, by: str, key: str, now: datetime,
             channel: str | None = None) -> list[Outcome]:
        """Send the reminder to each customer (once per ``key``); one :class:`Outcome` each, in the given order."""
        if not key or len(key) > 80:
            raise ReminderError(_("an idempotency key of 1 to 80 characters is required"))
        if channel is not None and channel not in CHANNELS:
            raise ReminderError(_("channel must be one of %(channels)s", channels=", ".join(CHANNELS)))
        ids = list(dict.fromkeys(customer_ids))
        if not ids:
            raise ReminderError(_("choose at least one customer"))
        if len(ids) > self.config.max_per_send:
            raise ReminderError(_("at most %(n)s customers in one send", n=self.config.max_per_send))
        store_language = load_store(self.engine, store_id).language
        contacts = load_contacts(self.engine, store_id)
        out: list[Outcome] = []
        for cid in ids:
            contact = contacts.get(cid)
            if contact is None:
                out.append(Outcome(cid, cid, REFUSED, None, _("no credit customer %(customer)s in this store",
                                                              customer=cid)))
                continue
            out.append(self.send_one(store_id, contact, channel=channel, tone=tone, by=by, key=f"{key}:{cid}",
                                     now=now, store_language=store_language))
        return out

    def retry(self, store_id: str, reminder_id: str, *, by: str, now: datetime) -> Outcome:
        """Send a failed reminder again (or one interrupted while sending, ``STALE_SENDING`` ago), the same text
        to the same recipient (its attempts count up)."""
        c = credit_reminders.c
        with self.engine.begin() as conn:
            row = conn.execute(select(credit_reminders).where(c.store_id == store_id, c.reminder_id == reminder_id)
                               ).mappings().first()
            if row is None:
                raise ReminderError(_("no reminder %(id)s in this store", id=reminder_id))
            _lock_customer(conn, store_id, row["customer_id"])
            recent = self._recent(store_id, row["customer_id"], now, exclude=reminder_id, conn=conn)
            # claim it: only one retry of a failed (or interrupted) reminder runs, a second click finds it sending
            retryable = or_(c.status == FAILED, and_(c.status == SENDING, c.updated_at < iso(now - STALE_SENDING)))
            claimed = conn.execute(update(credit_reminders).where(c.reminder_id == reminder_id, retryable)
                                   .values(status=SENDING, attempts=c.attempts + 1, updated_at=iso(now))).rowcount
        reminder = Reminder.from_row(row)
        contacts = load_contacts(self.engine, store_id, reminder.customer_id)
        contact = contacts.get(reminder.customer_id)
        name = contact.name if contact else reminder.customer_id
        if not claimed:
            return Outcome(reminder.customer_id, name, DUPLICATE, reminder.channel,
                           _("only a failed reminder is sent again (this one is %(status)s)", status=reminder.status),
                           reminder)
        refusal = None
        if contact is None or contact.consent is not True:
            refusal = _("opted out of reminders") if contact and contact.consent is False else \
                _("has not agreed to receive reminders (record their consent first)")
        elif reminder.channel not in self.senders:
            refusal = _("%(channel)s is not set up on this hub (outbound.%(channel)s)", channel=reminder.channel)
        elif recent is not None:
            refusal = _("already reminded on %(day)s (at most one reminder every %(days)s days)",
                        day=recent.requested_at[:10], days=self._every())
        if refusal is not None:
            with self.engine.begin() as conn:  # give the claim back: as it was, to be sent another day
                conn.execute(update(credit_reminders).where(c.reminder_id == reminder_id)
                             .values(status=reminder.status, attempts=reminder.attempts,
                                     updated_at=reminder.updated_at))
            return Outcome(reminder.customer_id, name, REFUSED, reminder.channel, refusal, reminder)
        store = load_store(self.engine, store_id)
        outgoing = Outgoing(reminder_id, reminder.recipient, name, reminder.body, reminder.subject, reminder.language,
                            _amount_text(reminder), store.name)
        log.info("reminder %s: sent again by %s", reminder_id, by)
        return self._deliver(store_id, outgoing, reminder.channel, name, reminder.customer_id, now)


def _lock_customer(conn: Connection, store_id: str, customer_id: str) -> None:
    """Serialise reminder claims for one customer until ``conn``'s transaction ends: on PostgreSQL an advisory
    transaction lock on the (store, customer) pair; SQLite's writes are serialised already (``BEGIN IMMEDIATE``)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"reminder:{store_id}:{customer_id}"})


def _texts(message: CollectionMessage, channel: str) -> tuple[str | None, str]:
    if channel == "email":
        return message.email_subject, message.email_body
    return None, message.whatsapp if channel == "whatsapp" else message.sms


def _amount_text(reminder: Reminder) -> str:
    from analytics.credit.templates import format_amount

    return format_amount(reminder.amount, reminder.currency, reminder.language)
