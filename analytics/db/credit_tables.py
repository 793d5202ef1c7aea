"""Credit tables (SQLAlchemy Core, same ``metadata`` as the ingest tables): the stores' credit
customers ("fiado") and their repayments, as the devices report them on ``tillsight.credit/1``.

``credit_customers`` holds the latest state of each customer as its device last reported it (a
newer event ``at`` wins; an older one never overwrites it); ``credit_repayments`` is the
repayment history, one row per device event (``event_id`` is the idempotency key).  Names and
phones are personal data: they stay on the hub and are pseudonymised before any LLM call."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, PrimaryKeyConstraint, String, Table

from analytics.db.tables import metadata

credit_customers = Table(
    "credit_customers", metadata,
    Column("store_id", String(32), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("name", String(120), nullable=False),
    Column("phone", String(40)),
    Column("credit_limit", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("balance", BigInteger, nullable=False),  # as last reported by the device
    Column("updated_at", String(32), nullable=False),  # UTC ISO Z of the device event
    Column("device_id", String(32), nullable=False),
    Column("currency", String(3)),
    Column("event_id", String(36)),  # the event that set this state
    Column("seq", BigInteger),  # its device's credit counter: orders a device's events within one second
    Column("received_at", String(32)),
    Column("language", String(16)),  # messages to the customer: en | es | fr; NULL: the store's (hub-set)
    PrimaryKeyConstraint("store_id", "customer_id"),
)

credit_repayments = Table(
    "credit_repayments", metadata,
    Column("event_id", String(36), primary_key=True),
    Column("store_id", String(32), nullable=False),
    Column("device_id", String(32), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),  # minor units, > 0
    Column("balance_after", BigInteger, nullable=False),
    Column("paid_at", String(32), nullable=False),
    Column("received_at", String(32), nullable=False),
    Column("currency", String(3)),
    Index("credit_repayments_customer", "store_id", "customer_id", "paid_at"),
)

CREDIT_TABLES = (credit_customers, credit_repayments)
