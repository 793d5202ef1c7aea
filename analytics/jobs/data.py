"""Read one store's sales from the hub database into data frames for the analytics (and nothing
else: the segmentation and forecasting code works on these frames, not on the database).

Sales that move money count: ``completed`` sales and ``refunded`` refunds (negative totals);
voided sales are left out.  Times become store-local for features.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Engine, func, select

from analytics.db import tables as t
from analytics.jobs.categories import SERVICE, categorise_many
from analytics.jobs.settings import AnalyticsSettings, parse_settings
from analytics.llm.language import settings_with_language

log = logging.getLogger(__name__)

COUNTED_STATUSES = ("completed", "refunded")
# bump when a change to the analytics makes old results stale although the data did not change
ANALYTICS_VERSION = "2026.11.1"


@dataclass
class StoreInfo:
    store_id: str
    name: str
    timezone: str
    currency: str
    settings: AnalyticsSettings


@dataclass
class StoreData:
    store: StoreInfo
    # one row per sale: tx_id, status, utc (tz-aware), local (naive), total, customer_id, payment, items
    sales: pd.DataFrame
    # one row per line: tx_id, sku, name, qty, line_total, category, status, local, customer_id
    lines: pd.DataFrame
    # the store-local date of the run (its clock read by the caller, in the store's time zone); None
    # for data with no "now" (a file of past sales)
    today: date | None = None

    @property
    def last_day(self) -> date | None:
        return None if self.sales.empty else self.sales["local"].max().date()

    @property
    def as_of(self) -> date:
        """The analysis date, the first day forecast: the store's today when the run's time is known
        (so a run at 03:40 on Monday after a sale at 03:39 forecasts Monday, not Tuesday; the history
        is the days before it), but never later than the day after the store's last sale (a file of
        sales that ended years ago is analysed as of its end, not of the day it was imported); without
        the run's time, the day after the last sale.  A store with no sales has none (the wall clock's
        date would make the analysis depend on when it ran)."""
        last = self.last_day
        if self.today is not None:
            return self.today if last is None else min(self.today, last + timedelta(days=1))
        if last is None:
            raise ValueError(f"store {self.store.store_id!r} has no sales: there is no analysis date")
        return last + timedelta(days=1)


def store_info(engine: Engine, store_id: str) -> StoreInfo | None:
    """The store's row; its settings' ``language`` is the store's language (the hub's setting, else the
    one its devices report: ``analytics.llm.language``), which the texts written for it use."""
    with engine.connect() as conn:
        row = conn.execute(select(t.stores).where(t.stores.c.store_id == store_id)).mappings().first()
        if row is None:
            return None
        settings = settings_with_language(conn, store_id, parse_settings(row["settings"], store_id))
    return StoreInfo(store_id, row["name"], row["timezone"], row["currency"], settings)


def store_ids(engine: Engine) -> list[str]:
    """Every store the hub knows: in ``stores`` or with sales."""
    with engine.connect() as conn:
        known = set(conn.execute(select(t.stores.c.store_id)).scalars())
        known |= set(conn.execute(select(t.transactions.c.store_id).distinct()).scalars())
    return sorted(known)


def store_today(info: StoreInfo, now: datetime) -> date:
    """The store's date at ``now`` (its own time zone)."""
    return now.astimezone(ZoneInfo(info.timezone)).date()


def fingerprint(engine: Engine, info: StoreInfo, today: date | None = None) -> str:
    """Changes when the store's sales or settings change, or its day (``today``) does: a store with
    the same fingerprint as its last successful run is skipped."""
    tx = t.transactions.c
    with engine.connect() as conn:
        count, last_rx, last_sale = conn.execute(
            select(func.count(), func.max(tx.received_at), func.max(tx.completed_at))
            .where(tx.store_id == info.store_id)).one()
    key = f"{ANALYTICS_VERSION}|{count}|{last_rx}|{last_sale}|{info.settings.fingerprint()}|{info.timezone}|{today}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _utc(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, utc=True, format="ISO8601")


def load_store_data(engine: Engine, store_id: str, info: StoreInfo | None = None,
                    now: datetime | None = None) -> StoreData:
    """The store's sales as frames; with ``now`` (aware, the caller's clock) the analysis is as of the
    store's date then (:attr:`StoreData.as_of`)."""
    info = info or store_info(engine, store_id)
    if info is None:
        raise LookupError(f"store {store_id!r} is not in the hub database")
    tx, ln = t.transactions.c, t.tx_lines.c
    with engine.connect() as conn:
        last = conn.execute(select(func.max(tx.completed_at)).where(tx.store_id == store_id,
                                                                     tx.status.in_(COUNTED_STATUSES))).scalar()
        since = None
        if last:
            since = (_utc(pd.Series([last])).iloc[0] - pd.Timedelta(days=info.settings.history_days)) \
                .strftime("%Y-%m-%dT%H:%M:%SZ")
        where = [tx.store_id == store_id, tx.status.in_(COUNTED_STATUSES)]
        if since:
            where.append(tx.completed_at >= since)
        method = tx.payload[("payment", "method")].as_string()
        sales = pd.DataFrame(conn.execute(select(tx.tx_id, tx.status, tx.completed_at, tx.total, tx.customer_id,
                                                 method.label("payment")).where(*where)).all(),
                             columns=["tx_id", "status", "completed_at", "total", "customer_id", "payment"])
        # the store's lines without a join: ``frames`` keeps those of the sales read above.  (A join
        # here met a nested-loop plan on PostgreSQL right after a bulk import, before ANALYZE: 150 s.)
        lines = pd.DataFrame(conn.execute(
            select(ln.tx_id, ln.sku, ln.name, ln.qty, ln.line_total).where(ln.store_id == store_id)).all(),
            columns=["tx_id", "sku", "name", "qty", "line_total"])
    data = frames(info, sales, lines)
    if now is not None:
        data.today = store_today(info, now)
    return data


def frames(info: StoreInfo, sales: pd.DataFrame, lines: pd.DataFrame) -> StoreData:
    """Typed, store-local frames from raw sales and lines (also used by benchmarks and tests)."""
    sales = sales.copy()
    if sales.empty:
        sales = pd.DataFrame({c: pd.Series(dtype=d) for c, d in
                              (("tx_id", object), ("status", object), ("completed_at", object), ("total", "int64"),
                               ("customer_id", object), ("payment", object))})
    sales["utc"] = _utc(sales["completed_at"]) if len(sales) else pd.Series(dtype="datetime64[ns, UTC]")
    sales["local"] = sales["utc"].dt.tz_convert(info.timezone).dt.tz_localize(None)
    sales["total"] = sales["total"].astype("int64")
    sales["payment"] = sales["payment"].fillna("unknown").astype(str)
    # pandas takes any scalar as `other` (None keeps unknown customers None, not NaN); pandas-stubs 2.3 omits None
    sales["customer_id"] = sales["customer_id"].where(sales["customer_id"].notna(), None)  # type: ignore[call-overload]
    lines = lines.copy()
    overrides = {sku: o.category for sku, o in info.settings.sku_overrides.items() if o.category}
    excluded = {sku for sku, o in info.settings.sku_overrides.items() if o.exclude}
    cats = categorise_many(zip(lines["sku"], lines["name"], strict=True), overrides) if len(lines) else {}
    lines["category"] = lines["sku"].map(cats).fillna("uncategorised") if len(lines) else pd.Series(dtype=object)
    if excluded and len(lines):
        lines.loc[lines["sku"].isin(excluded), "category"] = SERVICE
    lines["qty"] = lines["qty"].astype("int64")
    lines["line_total"] = lines["line_total"].astype("int64")
    items = lines["qty"].abs().groupby(lines["tx_id"]).sum() if len(lines) else pd.Series(dtype="int64")
    sales["items"] = sales["tx_id"].map(items).fillna(0).astype("int64")
    meta = sales.set_index("tx_id")[["status", "local", "customer_id"]]
    lines = lines.join(meta, on="tx_id", how="inner")
    sales = sales.drop(columns=["completed_at"]).sort_values("utc").reset_index(drop=True)
    return StoreData(info, sales, lines.reset_index(drop=True))


def utc_now() -> str:
    """ISO-8601 UTC with milliseconds, so runs started within one second still sort in order."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def as_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in df.to_dict("records")]
