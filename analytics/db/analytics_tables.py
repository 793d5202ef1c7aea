"""Analytics result tables (SQLAlchemy Core, same ``metadata`` as the ingest tables): what the nightly
``tillsight hub jobs`` computes per store, kept per run so a page can show the latest run and what
changed since the one before.

Every result row carries ``store_id`` (tenant isolation: readers filter on it) and the ``run_id`` of
the ``analytics_runs`` row that produced it.  Money is integer minor units; days are store-local
dates as ``YYYY-MM-DD`` text; instants are ISO-8601 UTC text.  Detail rows of old runs are pruned
(``analytics.jobs.store.prune``); run rows stay as the history of what ran.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from analytics.db.tables import metadata

# One row per job run per store.  status: running | succeeded | failed | skipped (data unchanged).
analytics_runs = Table(
    "analytics_runs", metadata,
    Column("run_id", String(36), primary_key=True),
    Column("store_id", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    Column("as_of", String(10)),  # the store-local analysis date (day after the last sale used)
    Column("data_from", String(32)),  # first and last sale (UTC) the run used
    Column("data_to", String(32)),
    Column("sales", Integer),  # transactions the run used
    Column("fingerprint", String(64)),  # of the store's data and settings: an unchanged store is skipped
    Column("settings", JSON),  # the validated analytics settings the run used
    Column("metrics", JSON),  # silhouette, churn validation, forecast backtest, timings
    Column("error", Text),
    Column("published_at", String(32)),  # when the insights went to the store's devices
    Index("analytics_runs_store", "store_id", "started_at"),
)

# Profiles of every segment of one run.  kind: rfm (named RFM segments), cluster (k-means on
# customers), basket (clusters of anonymous sales).
segment_profiles = Table(
    "segment_profiles", metadata,
    Column("run_id", String(36), nullable=False),
    Column("store_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("segment", String(80), nullable=False),
    Column("ordinal", Integer, nullable=False),  # display order
    Column("members", Integer, nullable=False),  # customers (rfm, cluster) or sales (basket)
    Column("share", Float, nullable=False),  # of members
    Column("revenue", BigInteger, nullable=False),  # minor units
    Column("revenue_share", Float, nullable=False),
    Column("profile", JSON, nullable=False),  # averages, peaks, top categories, description
    PrimaryKeyConstraint("run_id", "kind", "segment"),
    Index("segment_profiles_store", "store_id", "run_id"),
)

# One row per known customer per run: RFM, named segment, cluster, churn risk, and the segment the
# previous run gave (so "who moved" is one query).
customer_segments = Table(
    "customer_segments", metadata,
    Column("run_id", String(36), nullable=False),
    Column("store_id", String(32), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("recency_days", Integer, nullable=False),
    Column("frequency", Integer, nullable=False),
    Column("monetary", BigInteger, nullable=False),
    Column("tenure_days", Integer, nullable=False),
    Column("diversity", Float, nullable=False),
    Column("r_score", Integer, nullable=False),
    Column("f_score", Integer, nullable=False),
    Column("m_score", Integer, nullable=False),
    Column("segment", String(40), nullable=False),
    Column("cluster", String(80)),
    Column("prev_segment", String(40)),
    Column("churn_risk", Float),
    PrimaryKeyConstraint("run_id", "customer_id"),
    Index("customer_segments_store", "store_id", "run_id"),
)

# Ready-made JSON documents of one run for pages: time_bands, value_bands, top_products,
# churn_validation, transitions, calendar.
analytics_views = Table(
    "analytics_views", metadata,
    Column("run_id", String(36), nullable=False),
    Column("store_id", String(32), nullable=False),
    Column("view", String(40), nullable=False),
    Column("data", JSON, nullable=False),
    PrimaryKeyConstraint("run_id", "view"),
    Index("analytics_views_store", "store_id", "run_id"),
)

# The model each SKU's forecast came from, and why.
sku_forecast_models = Table(
    "sku_forecast_models", metadata,
    Column("run_id", String(36), nullable=False),
    Column("store_id", String(32), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("category", String(40), nullable=False),
    Column("model", String(40), nullable=False),
    Column("demand_class", String(16), nullable=False),  # smooth | erratic | intermittent | lumpy | new
    Column("mean_daily", Float, nullable=False),  # over the horizon's open days
    Column("backtest_mae", Float),  # the chosen model's error in the inner backtest
    Column("dispersion", Float, nullable=False),  # variance / mean of the predictive distribution
    PrimaryKeyConstraint("run_id", "sku"),
    Index("sku_forecast_models_store", "store_id", "run_id"),
)

# Daily unit demand per SKU for the horizon, with 80% and 95% prediction intervals.
sku_forecasts = Table(
    "sku_forecasts", metadata,
    Column("run_id", String(36), nullable=False),
    Column("store_id", String(32), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("day", String(10), nullable=False),
    Column("mean", Float, nullable=False),
    Column("lo80", Float, nullable=False),
    Column("hi80", Float, nullable=False),
    Column("lo95", Float, nullable=False),
    Column("hi95", Float, nullable=False),
    PrimaryKeyConstraint("run_id", "sku", "day"),
    Index("sku_forecasts_store", "store_id", "run_id", "sku"),
)

# Store-level daily series: revenue (minor units) and sales (transactions).
store_forecasts = Table(
    "store_forecasts", metadata,
    Column("run_id", String(36), nullable=False),
    Column("store_id", String(32), nullable=False),
    Column("series", String(16), nullable=False),  # revenue | sales
    Column("day", String(10), nullable=False),
    Column("mean", BigInteger, nullable=False),
    Column("lo80", BigInteger, nullable=False),
    Column("hi80", BigInteger, nullable=False),
    Column("lo95", BigInteger, nullable=False),
    Column("hi95", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_id", "series", "day"),
    Index("store_forecasts_store", "store_id", "run_id"),
)

# Sales per store-local hour for the horizon, and the staff that traffic needs.
hourly_forecasts = Table(
    "hourly_forecasts", metadata,
    Column("run_id", String(36), nullable=False),
    Column("store_id", String(32), nullable=False),
    Column("day", String(10), nullable=False),
    Column("hour", Integer, nullable=False),
    Column("sales_mean", Float, nullable=False),
    Column("sales_hi80", Float, nullable=False),
    Column("staff", Integer, nullable=False),
    PrimaryKeyConstraint("run_id", "day", "hour"),
    Index("hourly_forecasts_store", "store_id", "run_id"),
)

# Reorder advice per SKU.  on_hand, stock_as_of, order_qty's meaning, stockout_date and
# days_of_cover depend on whether the store's devices report stock (see docs/analytics.md).
reorder_advice = Table(
    "reorder_advice", metadata,
    Column("run_id", String(36), nullable=False),
    Column("store_id", String(32), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("category", String(40), nullable=False),
    Column("on_hand", Integer),
    Column("stock_as_of", String(32)),
    Column("lead_time_days", Integer, nullable=False),
    Column("review_days", Integer, nullable=False),
    Column("service_level", Float, nullable=False),
    Column("mean_daily", Float, nullable=False),
    Column("lead_time_demand", Float, nullable=False),
    Column("safety_stock", Integer, nullable=False),
    Column("reorder_point", Integer, nullable=False),
    Column("order_up_to", Integer, nullable=False),
    Column("order_qty", Integer, nullable=False),
    Column("order_now", Boolean),  # None when stock is unknown
    Column("stockout_date", String(10)),
    Column("days_of_cover", Float),
    Column("slow_mover", Boolean, nullable=False),
    Column("slow_reason", String(200)),
    Column("last_sold", String(10)),
    Column("units_28d", Integer, nullable=False),
    PrimaryKeyConstraint("run_id", "sku"),
    Index("reorder_advice_store", "store_id", "run_id"),
)

ANALYTICS_TABLES = (analytics_runs, segment_profiles, customer_segments, analytics_views, sku_forecast_models,
                    sku_forecasts, store_forecasts, hourly_forecasts, reorder_advice)
# The per-run detail tables (pruned for old runs).
RUN_DETAIL_TABLES = ANALYTICS_TABLES[1:]
