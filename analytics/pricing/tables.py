"""The hub's pricing tables (migration 14): each store's guard rails and every pricing decision.

``price_changes`` holds one row per decision on a suggestion (or an owner's own price): who decided
and when, the price before and after, when it takes effect at the tills (UTC), what was predicted
(units, revenue and profit over the horizon, with ranges, and the elasticity used) and, once it is
pushed, the fleet deployment that carries it.  Kinds: ``price``, ``multibuy``, ``bundle`` (an offer: the
tills price it from its effective time).  Statuses: ``approved`` (waiting to be sent), ``sent`` (in a
signed price update), ``rejected``, ``withdrawn`` (taken back by a fleet rollback), ``ended`` (an offer the
owner ended), ``recorded`` (an offer approved before the tills priced offers).

``pricing_reports`` (migration 19) keeps each store's newest computed report (``stored.py``): the nightly
job computes it, the Pricing page reads it, an owner may recompute it.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Float, Index, String, Table, Text

from analytics.db.tables import metadata

price_rails = Table(
    "price_rails", metadata,
    Column("store_id", String(32), primary_key=True),
    Column("min_margin", Float, nullable=False),
    Column("max_step", Float, nullable=False),
    Column("endings", JSON, nullable=False),
    Column("updated_by", String(120), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

price_changes = Table(
    "price_changes", metadata,
    Column("change_id", String(36), primary_key=True),
    Column("store_id", String(32), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # price | multibuy | bundle
    Column("skus", JSON, nullable=False),  # every SKU the decision covers (two for a bundle)
    Column("name", Text, nullable=False),
    Column("old_price", BigInteger, nullable=False),
    Column("new_price", BigInteger, nullable=False),
    Column("suggested_price", BigInteger),  # null: the owner's own price, not a suggestion
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("effective_at", String(32), nullable=False),
    Column("decided_by", String(120), nullable=False),
    Column("decided_at", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("predicted", JSON),  # {"effect": ..., "elasticity": ..., "base_daily_units": ...}
    Column("deployment_id", String(36)),
    Column("sent_at", String(32)),
    Index("price_changes_store", "store_id", "status", "effective_at"),
)

pricing_reports = Table(
    "pricing_reports", metadata,
    Column("store_id", String(32), primary_key=True),
    Column("computed_at", String(32), nullable=False),  # UTC, ...Z
    Column("computed_by", String(120), nullable=False),  # "nightly", or the user who asked
    Column("as_of", String(10)),  # the store-local day the sales run up to (exclusive)
    Column("seconds", Float, nullable=False),
    Column("report", JSON, nullable=False),  # stored.encode_report
)

PRICING_TABLES = (price_rails, price_changes)
REPORT_TABLES = (pricing_reports,)
