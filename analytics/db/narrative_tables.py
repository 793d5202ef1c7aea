"""Tables of the written insights (migration 7): narratives, segment personas, alert explanations
and product descriptions, each with where its words came from (``source``: llm | cache |
computed) and the data it was written from.  Every row carries ``store_id``; readers filter on it."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, PrimaryKeyConstraint, String, Table, Text

from analytics.db.tables import IdInt, metadata

# One row per generated narrative (history kept; the newest per store and period is shown).
narratives = Table(
    "narratives", metadata,
    Column("id", IdInt, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("period", String(8), nullable=False),  # daily | weekly
    Column("period_start", String(10), nullable=False),  # store-local days
    Column("period_end", String(10), nullable=False),
    Column("title", Text, nullable=False),
    Column("sections", JSON, nullable=False),  # what_happened, what_changed, what_to_do, risks: lists of text
    Column("text", Text, nullable=False),  # the sections as plain text
    Column("source", String(16), nullable=False),  # llm | cache | computed
    Column("model", String(200)),
    Column("note", Text),  # why it is computed (the AI's unavailability message), if it is
    Column("unsupported", JSON, nullable=False),  # numbers the fact check did not find in the facts
    Column("dropped", JSON, nullable=False),  # the sentences it dropped: [{sentence, unsupported}]
    Column("facts", JSON, nullable=False),  # the facts it was written from
    Column("data_version", String(64), nullable=False),
    Column("generated_at", String(32), nullable=False),
    Index("narratives_store", "store_id", "period", "generated_at"),
)

# The newest persona of each segment of a store.
personas = Table(
    "personas", metadata,
    Column("store_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # rfm | basket
    Column("segment", String(80), nullable=False),
    Column("run_id", String(36)),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("marketing", JSON, nullable=False),  # list of ideas
    Column("operations", JSON, nullable=False),  # list of advice
    Column("source", String(16), nullable=False),
    Column("model", String(200)),
    Column("note", Text),
    Column("unsupported", JSON, nullable=False),
    Column("generated_at", String(32), nullable=False),
    PrimaryKeyConstraint("store_id", "kind", "segment"),
)

alert_explanations = Table(
    "alert_explanations", metadata,
    Column("store_id", String(32), nullable=False),
    Column("alert_id", String(80), nullable=False),
    Column("summary", Text, nullable=False),
    Column("details", JSON, nullable=False),  # list of plain-words points
    Column("advice", Text, nullable=False),
    Column("source", String(16), nullable=False),
    Column("model", String(200)),
    Column("note", Text),
    Column("unsupported", JSON, nullable=False),
    Column("generated_at", String(32), nullable=False),
    PrimaryKeyConstraint("store_id", "alert_id"),
)

product_descriptions = Table(
    "product_descriptions", metadata,
    Column("store_id", String(32), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("short", Text, nullable=False),
    Column("bullets", JSON, nullable=False),
    Column("source", String(16), nullable=False),
    Column("model", String(200)),
    Column("note", Text),
    Column("generated_at", String(32), nullable=False),
    PrimaryKeyConstraint("store_id", "sku"),
)

NARRATIVE_TABLES = (narratives, personas, alert_explanations, product_descriptions)
