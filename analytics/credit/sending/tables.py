"""The collection reminders' tables (hub migration 17): each credit customer's contact details as the owner set
them on the hub, and every reminder sent.

``credit_contacts`` is kept by the hub only (the devices' customer updates never touch it): the customer's
e-mail, a phone for messages when it differs from the one the till knows, the preferred channel and the
customer's consent (``True`` agreed to receive reminders, ``False`` opted out, ``NULL`` not recorded), with when
and by whom it was last changed.

``credit_reminders`` holds one row per reminder the owner sent: who asked and when, the channel, language and
tone, the recipient and the exact text, the status (``sending`` while the provider is asked, ``sent`` once it
accepted the message, with its id, ``failed`` with the error: a failed one can be sent again, which counts its
attempts) and the idempotency key of the request (unique per store: a double click sends once).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from analytics.db.tables import metadata

credit_contacts = Table(
    "credit_contacts", metadata,
    Column("store_id", String(32), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("email", String(254)),
    Column("phone", String(40)),  # E.164; NULL: the phone the device reported
    Column("channel", String(16)),  # whatsapp | sms | email; NULL: the first one that can reach them
    Column("consent", Boolean),  # True: agreed to reminders; False: opted out; NULL: not recorded
    Column("consent_at", String(32)),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", String(32), nullable=False),
    PrimaryKeyConstraint("store_id", "customer_id"),
)

credit_reminders = Table(
    "credit_reminders", metadata,
    Column("reminder_id", String(36), primary_key=True),
    Column("store_id", String(32), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("idempotency_key", String(120), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    Column("tone", String(16), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("subject", String(200)),
    Column("body", Text, nullable=False),
    Column("amount", BigInteger, nullable=False),  # the balance the text states, minor units
    Column("currency", String(3), nullable=False),
    Column("source", String(16), nullable=False),  # computed | llm | cache: who wrote the text
    Column("status", String(16), nullable=False),  # sending | sent | failed
    Column("provider_id", String(200)),
    Column("error", String(1000)),
    Column("attempts", Integer, nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", String(32), nullable=False),  # UTC ISO Z
    Column("sent_at", String(32)),
    Column("updated_at", String(32), nullable=False),
    UniqueConstraint("store_id", "idempotency_key", name="credit_reminders_key"),
    Index("credit_reminders_customer", "store_id", "customer_id", "requested_at"),
)

REMINDER_TABLES = (credit_contacts, credit_reminders)
