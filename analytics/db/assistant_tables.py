"""Assistant tables (SQLAlchemy Core, same ``metadata`` as the ingest tables): the "Ask" chat history
of each store, one row per question and its answer, kept so the page shows the conversation and
the loop can give the model the last few exchanges as context.

Every row carries ``store_id`` (tenant isolation: readers filter on it) and the ``user_id`` of the
person who asked (None for the command line).  ``answer`` is the whole shown answer (text, table,
follow-ups, source, note, tools used) as the hub computed it, customer names included: it never
leaves the hub."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, String, Table, Text

from analytics.db.tables import IdInt, metadata

assistant_messages = Table(
    "assistant_messages", metadata,
    Column("id", IdInt, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("user_id", String(64)),
    Column("asked_at", String(32), nullable=False),  # UTC ISO-8601 ...Z
    Column("question", Text, nullable=False),
    Column("source", String(16), nullable=False),  # llm | computed
    Column("answer", JSON, nullable=False),
    Index("assistant_messages_store", "store_id", "asked_at"),
)

ASSISTANT_TABLES = (assistant_messages,)
