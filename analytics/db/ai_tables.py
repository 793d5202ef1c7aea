"""AI credits, ledger and response cache (SQLAlchemy Core, same ``metadata``; migration 5).

* ``ai_accounts``: one row per store, created on its first AI call with ``llm.starting_credits``
  and the configured caps (NULL cap = no cap).  Credits are whole numbers.
* ``ai_ledger``: one row per AI call (billed, refused, failed or served from the cache) and per
  top-up or cap change; ``credit_change`` is signed (-cost for a call, +amount for a top-up) and
  ``balance_after`` is the account balance once the row applied.
* ``ai_cache``: validated structured answers by a hash of feature, model, messages, schema and data
  version, kept until ``expires_at``.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Table, Text

from analytics.db.tables import IdInt, metadata

ai_accounts = Table(
    "ai_accounts", metadata,
    Column("store_id", String(32), primary_key=True),
    Column("balance", Integer, nullable=False),
    Column("daily_cap", Integer),  # credits per store-local day; NULL = no cap
    Column("monthly_cap", Integer),  # credits per store-local month; NULL = no cap
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

ai_ledger = Table(
    "ai_ledger", metadata,
    Column("entry_id", IdInt, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # call | topup | caps
    Column("feature", String(32)),  # calls only
    Column("at", String(32), nullable=False),  # ISO-8601 UTC
    Column("model", String(200)),
    Column("prompt_tokens", Integer, nullable=False, default=0),
    Column("completion_tokens", Integer, nullable=False, default=0),
    Column("cost", Integer, nullable=False, default=0),  # credits charged (0: failed, refused, cached)
    Column("credit_change", Integer, nullable=False, default=0),
    Column("balance_after", Integer),
    Column("latency_ms", Integer),
    Column("success", Boolean, nullable=False),
    Column("pending", Boolean, nullable=False, default=False),  # reserved, call under way
    Column("error", Text),
    Column("cached", Boolean, nullable=False, default=False),
    Column("note", Text),  # top-ups and cap changes: who and why
    Index("ai_ledger_store_at", "store_id", "at"),
)

ai_cache = Table(
    "ai_cache", metadata,
    Column("cache_key", String(64), primary_key=True),
    Column("store_id", String(32), nullable=False),
    Column("feature", String(32), nullable=False),
    Column("model", String(200), nullable=False),
    Column("data", JSON, nullable=False),  # the validated answer as the model gave it (pseudonyms)
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Index("ai_cache_expires", "expires_at"),
)

AI_TABLES = (ai_accounts, ai_ledger, ai_cache)
