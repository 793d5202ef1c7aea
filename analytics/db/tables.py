"""Hub tables (SQLAlchemy Core).  Money is integer minor units; times are ISO-8601 UTC text as the
payloads carry them (``received_at`` is the hub's clock)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

IdInt = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", String(32), nullable=False),
)

# The stores the hub knows (created by ``hub import`` or ``hub device add``; a sale from a store
# without a row is still stored, and its pages wait for the row, which brings the time zone).
# ``settings`` holds the store's analytics settings (paydays, holidays, supplier lead time,
# service level...), validated by the code that reads them.
stores = Table(
    "stores", metadata,
    Column("store_id", String(32), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("settings", JSON, nullable=False, default=dict),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

devices = Table(
    "devices", metadata,
    Column("store_id", String(32), nullable=False),
    Column("device_id", String(32), nullable=False),
    Column("first_seen", String(32), nullable=False),
    Column("last_seen", String(32), nullable=False),
    Column("online", Boolean, nullable=False, default=False),
    Column("status_at", String(32)),
    Column("status_reason", String(200)),
    Column("versions", JSON),
    Column("reported", JSON),
    Column("telemetry", JSON),
    Column("backlog", Integer),
    Column("last_tx_seq_reported", BigInteger),
    Column("last_seq", BigInteger, nullable=False, default=0),
    Column("gaps", Integer, nullable=False, default=0),
    PrimaryKeyConstraint("store_id", "device_id"),
)

transactions = Table(
    "transactions", metadata,
    Column("tx_id", String(36), primary_key=True),
    Column("store_id", String(32), nullable=False),
    Column("device_id", String(32), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("cashier_id", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("completed_at", String(32), nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("customer_id", String(64)),
    Column("anomaly_score", Float),
    Column("payload", JSON, nullable=False),
    Column("received_at", String(32), nullable=False),
    Index("transactions_device_seq", "store_id", "device_id", "seq"),
    Index("transactions_store_time", "store_id", "completed_at"),
)

tx_lines = Table(
    "tx_lines", metadata,
    Column("tx_id", String(36), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("store_id", String(32), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("qty", Integer, nullable=False),
    Column("unit_price", BigInteger, nullable=False),
    Column("line_total", BigInteger, nullable=False),
    Column("source", String(16)),
    # the product's unit cost at the moment of sale (tillsight.tx/2, or an import's cost column or
    # default margin; migration 12); null: unknown.  cost_assumed: made up from a default margin.
    # net_revenue: the line's share of the sale's takings net of discount and tax
    # (contracts.margins.line_revenue), what its gross profit is measured against; null before v12.
    Column("unit_cost", BigInteger),
    Column("cost_assumed", Boolean),
    Column("net_revenue", BigInteger),
    PrimaryKeyConstraint("tx_id", "line_no"),
    Index("tx_lines_sku", "store_id", "sku"),
)

alerts = Table(
    "alerts", metadata,
    Column("alert_id", String(80), nullable=False),
    Column("store_id", String(32), nullable=False),
    Column("device_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("raised_at", String(32), nullable=False),
    Column("tx_id", String(36)),
    Column("score", Float, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("model", String(120)),
    Column("received_at", String(32), nullable=False),
    Column("closed_at", String(32)),  # when the store closed it (tillsight.alert/2); NULL while open
    Column("closed_how", String(16)),  # acknowledged (by a person) or cleared (the condition ended)
    PrimaryKeyConstraint("store_id", "alert_id"),
)

dead_letters = Table(
    "dead_letters", metadata,
    Column("id", IdInt, primary_key=True, autoincrement=True),
    Column("topic", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("received_at", String(32), nullable=False),
)

# The store's product names as its devices' catalogue has them (telemetry's stock items, the
# catalogue path): a sale's line names never rename a product (analytics.ingest.catalogue).
store_products = Table(
    "store_products", metadata,
    Column("store_id", String(32), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("device_id", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

seq_gaps = Table(
    "seq_gaps", metadata,
    Column("id", IdInt, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("device_id", String(32), nullable=False),
    Column("from_seq", BigInteger, nullable=False),
    Column("to_seq", BigInteger, nullable=False),
    Column("detected_at", String(32), nullable=False),
    Column("filled", Boolean, nullable=False, default=False),
    Column("filled_at", String(32)),
    Column("resend_requested_at", String(32)),
    # set when the gap was closed because the device said it cannot fill it (migration 10)
    Column("closed_reason", Text),
    UniqueConstraint("store_id", "device_id", "from_seq", name="seq_gaps_start"),
    Index("seq_gaps_open", "store_id", "device_id", "filled"),
)

# A product's current unit cost per store (migration 12): the cost of its newest completed sale
# line that carried one (analytics.ingest.costs keeps it).  ``source``: ``till`` (tillsight.tx/2),
# ``import`` (an import's cost column) or ``default_margin`` (assumed: ``assumed`` is true).
product_costs = Table(
    "product_costs", metadata,
    Column("store_id", String(32), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("unit_cost", BigInteger, nullable=False),
    Column("assumed", Boolean, nullable=False),
    Column("source", String(16), nullable=False),
    Column("as_of", String(32), nullable=False),  # completed_at (UTC) of the sale it came from
    Column("updated_at", String(32), nullable=False),
)
