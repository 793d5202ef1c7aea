"""Basket segments: every completed sale described by when and what, clustered and named.

The features use nothing about who bought, so the segments exist for a shop that knows no
customer: store-local hour and weekday (on circles, so 23:00 is next to 00:00 and Sunday next to
Monday), days to the next payday (when the store has paydays), basket value and item count (log),
the category mix of the basket (value shares of the store's top categories, weighted as one
feature in all), and the payment method (one-hot, dropped when every sale has the same, as with
imported sales, whose method is unknown).  k-means with k by silhouette; each segment is named
from its peak time band, weekend lean, basket size against the store's, and a dominant category.

Also the at-a-glance views a shop owner reads: sales by time-of-day band and by basket-value band.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analytics.segmentation.kmeans import choose_k

TIME_BANDS = (("Early morning", 0, 9), ("Morning", 9, 12), ("Midday", 12, 14), ("Afternoon", 14, 17),
              ("Evening", 17, 20), ("Night", 20, 24))
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TOP_CATEGORIES = 8
MIN_SALES = 30


def time_band(hour: int) -> str:
    for name, lo, hi in TIME_BANDS:
        if lo <= hour < hi:
            return name
    return TIME_BANDS[-1][0]


@dataclass
class BasketSegments:
    labels: pd.Series  # tx_id -> segment name
    profiles: list[dict[str, Any]]  # one per segment, largest first
    k: int
    silhouettes: dict[int, float] = field(default_factory=dict)


def basket_frame(sales: pd.DataFrame, lines: pd.DataFrame, days_to_payday: np.ndarray | None) -> pd.DataFrame:
    """One row per completed sale: hour, weekday, value, items, payment, customer known, payday
    distance, and the category value shares (columns ``cat:<name>``)."""
    done = sales[sales["status"] == "completed"].copy()
    out = pd.DataFrame({"tx_id": done["tx_id"].to_numpy(), "hour": done["local"].dt.hour.to_numpy(),
                        "weekday": done["local"].dt.dayofweek.to_numpy(), "value": done["total"].to_numpy(),
                        "items": done["items"].to_numpy(), "payment": done["payment"].to_numpy(),
                        "known": done["customer_id"].notna().to_numpy()})
    out["days_to_payday"] = days_to_payday if days_to_payday is not None else -1
    ln = lines[(lines["status"] == "completed") & (lines["line_total"] > 0)]
    if len(ln):
        mix = ln.groupby(["tx_id", "category"], sort=False)["line_total"].sum().unstack(fill_value=0)
        mix = mix.div(mix.sum(axis=1).replace(0, 1), axis=0)
        mix.columns = [f"cat:{c}" for c in mix.columns]
        out = out.join(mix, on="tx_id")
    cat_cols = [c for c in out.columns if c.startswith("cat:")]
    out[cat_cols] = out[cat_cols].fillna(0.0)
    return out


def _matrix(frame: pd.DataFrame, top_cats: list[str], use_payday: bool) -> np.ndarray:
    cols: list[np.ndarray] = []
    hour = frame["hour"].to_numpy(dtype=float) * 2 * math.pi / 24
    wd = frame["weekday"].to_numpy(dtype=float) * 2 * math.pi / 7
    cols += [np.sin(hour), np.cos(hour), np.sin(wd), np.cos(wd)]
    cols += [np.log1p(frame["value"].clip(lower=0).to_numpy(dtype=float)),
             np.log1p(frame["items"].to_numpy(dtype=float))]
    if use_payday:
        cols.append(frame["days_to_payday"].to_numpy(dtype=float))
    x = np.column_stack(cols)
    sd = x.std(axis=0)
    x = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1)
    blocks = [x]
    if top_cats:
        mix = frame[[f"cat:{c}" for c in top_cats]].to_numpy(dtype=float)
        # the whole mix counts like one standardised feature
        total_sd = math.sqrt(max(float(mix.var(axis=0).sum()), 1e-12))
        blocks.append((mix - mix.mean(axis=0)) / total_sd)
    payments = frame["payment"].astype(str)
    if payments.nunique() > 1:
        onehot = pd.get_dummies(payments).to_numpy(dtype=float)
        total_sd = math.sqrt(max(float(onehot.var(axis=0).sum()), 1e-12))
        blocks.append((onehot - onehot.mean(axis=0)) / total_sd)
    return np.column_stack(blocks)


def _size_word(median_value: float, terciles: tuple[float, float]) -> str:
    if median_value <= terciles[0]:
        return "small"
    if median_value >= terciles[1]:
        return "large"
    return "mid-size"


def _profile(part: pd.DataFrame, whole: pd.DataFrame, top_cats: list[str]) -> dict[str, Any]:
    revenue = int(part["value"].sum())
    hours = part["hour"].value_counts()
    days = part["weekday"].value_counts()
    cat_rev = {c: float((part[f"cat:{c}"] * part["value"]).sum()) for c in top_cats}
    cat_total = sum(cat_rev.values()) or 1.0
    top = sorted(cat_rev.items(), key=lambda kv: -kv[1])[:3]
    pay = part["payment"].value_counts(normalize=True)
    profile: dict[str, Any] = {
        "sales": int(len(part)),
        "avg_basket": int(round(part["value"].mean())) if len(part) else 0,
        "median_basket": int(round(part["value"].median())) if len(part) else 0,
        "avg_items": round(float(part["items"].mean()), 2) if len(part) else 0.0,
        "peak_hours": [int(h) for h in hours.index[:3]],
        "peak_days": [WEEKDAYS[int(d)] for d in days.index[:2]],
        "time_band": time_band(int(hours.index[0])) if len(hours) else "",
        "weekend_share": round(float(part["weekday"].isin([5, 6]).mean()), 3),
        "top_categories": [{"category": c, "share": round(v / cat_total, 3)} for c, v in top if v > 0],
        "payment_mix": {str(k): round(float(v), 3) for k, v in pay.items()},
        "known_customer_share": round(float(part["known"].mean()), 3),
        "revenue": revenue,
    }
    if (whole["days_to_payday"] >= 0).any():
        profile["avg_days_to_payday"] = round(float(part["days_to_payday"].mean()), 1)
    return profile


def _name(profile: dict[str, Any], whole: pd.DataFrame, terciles: tuple[float, float], top_cats: list[str],
          store_cat_share: dict[str, float]) -> str:
    words = []
    overall_weekend = float(whole["weekday"].isin([5, 6]).mean())
    if profile["weekend_share"] >= max(0.5, 1.5 * overall_weekend):
        words.append("Weekend")
    words.append(profile["time_band"].lower() if words else profile["time_band"])
    words.append(_size_word(profile["median_basket"], terciles))
    top = profile["top_categories"][0] if profile["top_categories"] else None
    if top and top["share"] >= 0.4 and top["share"] >= 1.5 * store_cat_share.get(top["category"], 1.0):
        words.append(top["category"])
    words.append("baskets")
    return " ".join(words)


def segment_baskets(frame: pd.DataFrame, seed: int = 0) -> BasketSegments:
    """``frame`` from :func:`basket_frame`."""
    if frame.empty:
        return BasketSegments(pd.Series(dtype=object), [], 0)
    revenue_by_cat = {c[4:]: float((frame[c] * frame["value"]).sum()) for c in frame.columns if c.startswith("cat:")}
    total_cat = sum(revenue_by_cat.values()) or 1.0
    store_cat_share = {c: v / total_cat for c, v in revenue_by_cat.items()}
    top_cats = [c for c, _ in sorted(revenue_by_cat.items(), key=lambda kv: -kv[1])[:TOP_CATEGORIES]]
    use_payday = bool((frame["days_to_payday"] >= 0).any())
    if len(frame) < MIN_SALES:
        labels = np.zeros(len(frame), dtype=int)
        k, sil = 1, {}
    else:
        choice = choose_k(_matrix(frame, top_cats, use_payday), seed=seed)
        labels, k, sil = choice.labels, choice.k, choice.silhouettes
    low, high = (float(v) for v in frame["value"].quantile([1 / 3, 2 / 3]))
    terciles = (low, high)
    total_rev = float(frame["value"].sum()) or 1.0
    by_label = pd.Series(labels, index=frame.index)
    order = by_label.value_counts().index
    names: dict[int, str] = {}
    used: dict[str, int] = {}
    profiles = []
    for lab in order:
        part = frame[by_label == lab]
        prof = _profile(part, frame, top_cats)
        name = _name(prof, frame, terciles, top_cats, store_cat_share)
        used[name] = used.get(name, 0) + 1
        if used[name] > 1:
            name = f"{name} ({used[name]})"
        names[int(lab)] = name
        prof.update({"segment": name, "share": round(len(part) / len(frame), 4),
                     "revenue_share": round(prof["revenue"] / total_rev, 4)})
        profiles.append(prof)
    return BasketSegments(pd.Series(by_label.map(names).to_numpy(), index=frame["tx_id"].to_numpy()), profiles, k,
                          sil)


def time_band_view(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Sales, revenue and average basket per time-of-day band (completed sales)."""
    total = float(frame["value"].sum()) or 1.0
    out = []
    for name, lo, hi in TIME_BANDS:
        part = frame[(frame["hour"] >= lo) & (frame["hour"] < hi)]
        out.append({"band": name, "hours": f"{lo:02d}:00-{hi % 24:02d}:00", "sales": int(len(part)),
                    "revenue": int(part["value"].sum()), "revenue_share": round(float(part["value"].sum()) / total, 4),
                    "avg_basket": int(round(part["value"].mean())) if len(part) else 0})
    return out


def _nice(value: float) -> int:
    """Round up to 1, 2 or 5 times a power of ten (minor units)."""
    if value <= 0:
        return 0
    power = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 5, 10):
        if value <= m * power:
            return int(m * power)
    return int(10 * power)


def value_band_edges(values: pd.Series, minor_per_major: int) -> list[int]:
    """Band edges at nice round amounts near the store's basket quintiles (at least one major unit)."""
    if values.empty:
        return []
    qs = values.quantile([0.2, 0.4, 0.6, 0.8]).to_numpy()
    edges = sorted({max(minor_per_major, _nice(float(q))) for q in qs})
    return edges


def value_band_view(frame: pd.DataFrame, minor_per_major: int) -> list[dict[str, Any]]:
    edges = value_band_edges(frame["value"], minor_per_major)
    bounds = [0, *edges, None]
    total = float(frame["value"].sum()) or 1.0
    out = []
    for lo, hi in itertools.pairwise(bounds):
        part = frame[(frame["value"] >= lo) & ((frame["value"] < hi) if hi is not None else True)]
        out.append({"from": lo, "to": hi, "sales": int(len(part)), "share": round(len(part) / max(len(frame), 1), 4),
                    "revenue": int(part["value"].sum()), "revenue_share": round(float(part["value"].sum()) / total, 4),
                    "avg_items": round(float(part["items"].mean()), 2) if len(part) else 0.0})
    return out
