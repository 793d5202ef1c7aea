"""All of one store's segmentation in one call: RFM segments, customer clusters, churn risk, who
moved since the last run, basket segments and the at-a-glance views.  Pure: frames in, results out."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analytics.jobs.calendar import StoreCalendar
from analytics.jobs.data import StoreData
from analytics.segmentation import baskets as bk
from analytics.segmentation.churn import churn_risk
from analytics.segmentation.clusters import cluster_customers
from analytics.segmentation.rfm import SEGMENT_ACTIONS, SEGMENTS, customer_table, score_customers
from contracts.money import exponent

log = logging.getLogger(__name__)


@dataclass
class SegmentationResult:
    customers: pd.DataFrame  # index customer_id; the customer_segments columns
    profiles: dict[str, list[dict[str, Any]]]  # kind (rfm | cluster | basket) -> profiles in display order
    views: dict[str, Any]  # time_bands, value_bands, churn_validation, transitions
    metrics: dict[str, Any] = field(default_factory=dict)


def _category_mix(lines: pd.DataFrame, owners: pd.Series) -> dict[str, list[dict[str, Any]]]:
    """Top three categories by spend for each group of customers (owners: customer_id -> group)."""
    ln = lines[(lines["status"] == "completed") & lines["customer_id"].notna() & (lines["line_total"] > 0)]
    if ln.empty or owners.empty:
        return {}
    grp = ln["customer_id"].map(owners)
    spend = ln.groupby([grp, ln["category"]])["line_total"].sum()
    out = {}
    for g, group in spend.groupby(level=0):
        s = group.droplevel(0).sort_values(ascending=False)
        total = float(s.sum()) or 1.0
        out[str(g)] = [{"category": str(c), "share": round(float(v) / total, 3)} for c, v in s.head(3).items()]
    return out


def _customer_profiles(table: pd.DataFrame, by: str, lines: pd.DataFrame, order: list[str]) -> list[dict[str, Any]]:
    total_rev = float(table["monetary"].sum()) or 1.0
    mix = _category_mix(lines, table[by])
    out = []
    for name in order:
        part = table[table[by] == name]
        if part.empty:
            continue
        profile = {
            "segment": name, "members": int(len(part)), "share": round(len(part) / len(table), 4),
            "revenue": int(part["monetary"].sum()),
            "revenue_share": round(float(part["monetary"].sum()) / total_rev, 4),
            "avg_recency_days": round(float(part["recency_days"].mean()), 1),
            "avg_frequency": round(float(part["frequency"].mean()), 2),
            "avg_monetary": int(round(part["monetary"].mean())),
            "avg_basket": int(round(part["monetary"].sum() / max(int(part["frequency"].sum()), 1))),
            "avg_tenure_days": round(float(part["tenure_days"].mean()), 1),
            "avg_diversity": round(float(part["diversity"].mean()), 2),
            "top_categories": mix.get(name, []),
        }
        if "churn_risk" in part and part["churn_risk"].notna().any():
            profile["avg_churn_risk"] = round(float(part["churn_risk"].mean()), 3)
        if by == "segment":
            profile["action"] = SEGMENT_ACTIONS.get(name, "")
            profile["rfm_scores"] = {"r": round(float(part["r_score"].mean()), 2),
                                     "f": round(float(part["f_score"].mean()), 2),
                                     "m": round(float(part["m_score"].mean()), 2)}
        else:
            top = part["segment"].value_counts()
            profile["main_rfm_segments"] = [{"segment": str(s), "share": round(float(c) / len(part), 3)}
                                            for s, c in top.head(3).items()]
        out.append(profile)
    return out


def transitions(current: pd.Series, previous: Mapping[str, str]) -> dict[str, Any]:
    """Counts of customers per (from, to) segment since the previous run; new customers have from=None."""
    if not previous:
        return {"previous_run": False, "moved": 0, "matrix": []}
    prev = pd.Series(previous, dtype=object)
    joined = pd.DataFrame({"to": current}).join(prev.rename("from"), how="left")
    moved = joined[joined["from"].notna() & (joined["from"] != joined["to"])]
    counts = joined.groupby([joined["from"].fillna("(new)"), joined["to"]]).size().rename("customers").reset_index()
    return {"previous_run": True, "moved": int(len(moved)), "new": int(joined["from"].isna().sum()),
            "gone": int(len(set(prev.index) - set(current.index))),
            "matrix": [{"from": r["from"], "to": r["to"], "customers": int(r["customers"])}
                       for r in counts.to_dict("records") if r["from"] != r["to"]]}


def segment_store(data: StoreData, calendar: StoreCalendar, previous: Mapping[str, str] | None = None,
                  seed: int = 0) -> SegmentationResult:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    as_of = data.as_of
    table = score_customers(customer_table(data.sales, data.lines, as_of))
    timings["rfm_s"] = round(time.perf_counter() - t0, 3)

    t1 = time.perf_counter()
    clusters = cluster_customers(table, seed=seed)
    table["cluster"] = clusters.names.reindex(table.index) if len(table) else pd.Series(dtype=object)
    timings["customer_clusters_s"] = round(time.perf_counter() - t1, 3)

    t1 = time.perf_counter()
    first_day = data.sales["local"].min().date() if len(data.sales) else as_of
    churn = churn_risk(data.sales, data.lines, as_of, first_day)
    table["churn_risk"] = churn.risk.reindex(table.index) if len(churn.risk) else np.nan
    timings["churn_s"] = round(time.perf_counter() - t1, 3)

    prev = dict(previous or {})
    table["prev_segment"] = [prev.get(c) for c in table.index]

    t1 = time.perf_counter()
    done = data.sales[data.sales["status"] == "completed"]
    dtp = calendar.days_to_payday(done["local"].dt.date) if calendar.settings.paydays else None
    frame = bk.basket_frame(data.sales, data.lines, dtp)
    baskets = bk.segment_baskets(frame, seed=seed)
    timings["basket_segments_s"] = round(time.perf_counter() - t1, 3)

    rfm_order = [s for s in SEGMENTS if s in set(table["segment"])]
    cluster_order = list(table["cluster"].value_counts().index) if len(table) else []
    profiles = {
        "rfm": _customer_profiles(table, "segment", data.lines, rfm_order),
        "cluster": _customer_profiles(table, "cluster", data.lines, cluster_order),
        "basket": baskets.profiles,
    }
    views = {
        "time_bands": bk.time_band_view(frame),
        "value_bands": bk.value_band_view(frame, 10 ** exponent(data.store.currency)),
        "churn_validation": churn.validation,
        "transitions": transitions(table["segment"], prev),
    }
    metrics = {
        "customers": int(len(table)), "baskets": int(len(frame)),
        "anonymous_baskets": int((~frame["known"]).sum()) if len(frame) else 0,
        "customer_k": clusters.k, "customer_silhouettes": clusters.silhouettes,
        "basket_k": baskets.k, "basket_silhouettes": baskets.silhouettes,
        "churn_auc": churn.validation.get("auc"), "timings": timings,
    }
    log.info("segmented %s: %d customers (k=%d), %d baskets (k=%d)", data.store.store_id, len(table), clusters.k,
             len(frame), baskets.k)
    return SegmentationResult(table, profiles, views, metrics)
