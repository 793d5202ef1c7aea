"""Daily series from a store's sales frames: units per SKU, the store's sales and revenue, and
which days the store traded."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.jobs.categories import SERVICE


def day_range(first: pd.Timestamp, end_exclusive: pd.Timestamp) -> pd.DatetimeIndex:
    return pd.date_range(first.normalize(), end_exclusive.normalize() - pd.Timedelta(days=1), freq="D")


def daily_units(lines: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Units sold per day (rows: ``days``) and SKU (columns), from completed sales of products.
    Refunds are not negative demand (a return says nothing about what will sell), so they are left out."""
    ln = lines[(lines["status"] == "completed") & (lines["qty"] > 0) & (lines["category"] != SERVICE)]
    if ln.empty or len(days) == 0:
        return pd.DataFrame(index=days, dtype=float)
    day = ln["local"].dt.normalize()
    ln = ln[(day >= days[0]) & (day <= days[-1])]
    table = ln.groupby([ln["local"].dt.normalize(), "sku"])["qty"].sum().unstack(fill_value=0)
    return table.reindex(days, fill_value=0).astype(float)


def traded_days(sales: pd.DataFrame, days: pd.DatetimeIndex) -> np.ndarray:
    """True on days with at least one completed sale."""
    done = sales[sales["status"] == "completed"]
    seen = set(done["local"].dt.normalize())
    return np.array([d in seen for d in days], dtype=bool)


def store_daily(sales: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Per day: ``sales`` (completed transactions) and ``revenue`` (net of refunds, minor units)."""
    day = sales["local"].dt.normalize()
    done = sales["status"] == "completed"
    count = sales[done].groupby(day[done]).size()
    revenue = sales.groupby(day)["total"].sum()
    out = pd.DataFrame({"sales": count, "revenue": revenue}).reindex(days, fill_value=0).fillna(0)
    out["revenue"] = out["revenue"].clip(lower=0)
    return out.astype(float)


def daily_prices(lines: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Mean unit price per day (rows: ``days``) and SKU (columns) of its completed sales, in minor
    units; NaN on days it did not sell."""
    ln = lines[(lines["status"] == "completed") & (lines["qty"] > 0) & (lines["category"] != SERVICE)]
    if ln.empty or len(days) == 0:
        return pd.DataFrame(index=days, dtype=float)
    day = ln["local"].dt.normalize()
    grouped = ln.groupby([day, ln["sku"]])[["line_total", "qty"]].sum()
    price = (grouped["line_total"] / grouped["qty"]).unstack()
    return price.reindex(days).astype(float)


def sku_groups(lines: pd.DataFrame) -> pd.Series:
    """Each SKU's category (its latest), the group its pooled forecast compares it with."""
    if lines.empty:
        return pd.Series(dtype=object)
    return lines.sort_values("local").groupby("sku")["category"].last().astype(str)
