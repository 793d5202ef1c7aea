"""``tillsight bench hub``: how long the hub's analytics take at fleet scale, each beside a reference
run in the same process so the ratios hold on a shared, noisy machine.

* segmentation of 1,000,000 sales (RFM and named segments, customer clusters with k by silhouette,
  churn model with its time-split validation, basket clusters, glance views) on a synthetic year of
  a busy store: the real retail data's shape would mean 21 lines a sale, a corner shop has three;
  reference: the RFM table alone (one pass of group-bys over the same sales);
* forecasting 1,000 SKU series (inner backtest per series, model choice, weekday profiles, the
  two pooled LightGBM models over all of them, intervals) on the real retailer's 1,000 best sellers; reference:
  the per-series statsforecast models alone on the same series (the forecaster without its pooled
  model), so ``forecast_ratio_to_reference`` holds on a loaded machine; target under 30 s;
* the backtest's figures on the real data (``tillsight hub backtest``): ``mase_ratio``,
  ``ratio_to_best_standard`` and ``coverage_80``.
Targets: segmentation under 60 s, forecasting under 30 s.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

TARGET_S = 60.0
FORECAST_TARGET_S = 30.0


def synthetic_store(sales: int, customers: int = 60_000, skus: int = 600, days: int = 365,
                    seed: int = 0) -> Any:
    """A year of a busy store: weekday and hour rhythms, paydays, about 30% known customers with
    loyal and occasional habits, baskets of one to eight lines over categorised products."""
    from analytics.jobs.data import StoreInfo, frames
    from analytics.jobs.settings import parse_settings

    rng = np.random.default_rng(seed)
    start = date(2025, 1, 1)
    day_w = np.array([1.0, 0.9, 0.9, 1.0, 1.3, 1.6, 0.7])
    dates = np.array([start + timedelta(days=i) for i in range(days)])
    w = day_w[[d.weekday() for d in dates]] * np.array([1.3 if d.day in (15, 16, 30, 31, 1) else 1.0 for d in dates])
    day_idx = rng.choice(days, size=sales, p=w / w.sum())
    hour_w = np.array([0, 0, 0, 0, 0, 0, 1, 3, 6, 7, 6, 7, 9, 8, 6, 5, 6, 8, 9, 7, 4, 2, 1, 0], dtype=float)
    hours = rng.choice(24, size=sales, p=hour_w / hour_w.sum())
    minutes = rng.integers(0, 60, size=sales)
    base = np.array([np.datetime64(d) for d in dates])[day_idx]
    local = base + hours.astype("timedelta64[h]") + minutes.astype("timedelta64[m]")
    completed_at = pd.to_datetime(local).tz_localize("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    # customers: a Zipf-like spread of visits, 30% of sales known
    known = rng.random(sales) < 0.3
    cust_w = 1.0 / np.arange(1, customers + 1) ** 0.8
    cust = np.where(known, rng.choice(customers, size=sales, p=cust_w / cust_w.sum()), -1)
    customer_id = np.array([f"c{c}" if c >= 0 else None for c in cust.tolist()], dtype=object)
    status = np.where(rng.random(sales) < 0.01, "refunded", "completed")
    n_lines = rng.integers(1, 9, size=sales)
    n_lines = np.minimum(n_lines, rng.integers(1, 9, size=sales))  # mostly short baskets
    tx_ids = np.char.add("t", np.arange(sales).astype(str))
    line_tx = np.repeat(np.arange(sales), n_lines)
    sku_w = 1.0 / np.arange(1, skus + 1) ** 1.1
    sku_idx = rng.choice(skus, size=len(line_tx), p=sku_w / sku_w.sum())
    price = (rng.lognormal(5.0, 0.8, size=skus)).astype(int) + 10
    qty = rng.integers(1, 4, size=len(line_tx))
    sign = np.where(status[line_tx] == "refunded", -1, 1)
    line_total = sign * qty * price[sku_idx]
    words = ["RICE 5LB", "MILK 1 L", "SODA 500ML", "CANDLE", "NOTEBOOK", "SOAP", "MUG", "BAG", "TOY CAR", "GARDEN"]
    names = np.array([f"{words[i % len(words)]} #{i}" for i in range(skus)])
    lines = pd.DataFrame({"tx_id": tx_ids[line_tx], "sku": np.char.add("P", sku_idx.astype(str)),
                          "name": names[sku_idx], "qty": sign * qty, "line_total": line_total})
    totals = np.bincount(line_tx, weights=line_total, minlength=sales).astype(np.int64)
    payment = rng.choice(["cash", "card", "mobile_money", "credit"], size=sales, p=[0.55, 0.3, 0.12, 0.03])
    sales_df = pd.DataFrame({"tx_id": tx_ids, "status": status, "completed_at": completed_at, "total": totals,
                             "customer_id": customer_id, "payment": payment})
    info = StoreInfo("bench", "bench", "UTC", "DOP", parse_settings({"paydays": [15, 30]}))
    return frames(info, sales_df, lines)


def bench_segmentation(sales: int) -> dict[str, Any]:
    from analytics.jobs.calendar import StoreCalendar
    from analytics.segmentation.rfm import customer_table, score_customers
    from analytics.segmentation.run import segment_store

    t0 = time.perf_counter()
    data = synthetic_store(sales)
    build_s = time.perf_counter() - t0
    calendar = StoreCalendar.for_store(data.store.settings, set(data.sales["local"].dt.date), data.as_of)
    t0 = time.perf_counter()
    score_customers(customer_table(data.sales, data.lines, data.as_of))
    ref_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = segment_store(data, calendar)
    seg_s = time.perf_counter() - t0
    return {"sales": sales, "lines": int(len(data.lines)), "customers": result.metrics["customers"],
            "segment_s": round(seg_s, 2), "reference_rfm_only_s": round(ref_s, 2),
            "ratio_to_reference": round(seg_s / ref_s, 2) if ref_s > 0 else None, "synthesis_s": round(build_s, 2),
            "customer_k": result.metrics["customer_k"], "basket_k": result.metrics["basket_k"],
            "churn_auc": result.metrics["churn_auc"], "stages_s": result.metrics["timings"]}


def bench_forecast(data_path: Path, series: int) -> dict[str, Any]:
    from analytics.forecasting.backtest import top_series
    from analytics.forecasting.demand import forecast_series
    from analytics.forecasting.series import daily_prices, daily_units, day_range, sku_groups, traded_days
    from analytics.importer.frames import load_file_frames
    from analytics.jobs.calendar import StoreCalendar

    data, _ = load_file_frames(data_path, store_id="bench")
    days = day_range(data.sales["local"].min(), pd.Timestamp(data.as_of))
    units = daily_units(data.lines, days)
    units = units[top_series(units, series)]
    traded = traded_days(data.sales, days)
    calendar = StoreCalendar.for_store(data.store.settings, set(data.sales["local"].dt.date), data.as_of)
    future = pd.date_range(pd.Timestamp(data.as_of), periods=28, freq="D")
    prices, groups = daily_prices(data.lines, days), sku_groups(data.lines)
    t0 = time.perf_counter()
    forecast_series(units, traded, future, calendar.closed(future), global_weight=0.0)
    ref_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    fc = forecast_series(units, traded, future, calendar.closed(future), prices=prices, groups=groups)
    fc_s = time.perf_counter() - t0
    return {"series": int(units.shape[1]), "history_days": int(len(days)), "forecast_s": round(fc_s, 2),
            "reference_per_series_models_s": round(ref_s, 2),
            "forecast_ratio_to_reference": round(fc_s / ref_s, 2) if ref_s > 0 else None,
            "global_weight": fc.global_weight, "default_model": fc.default_model}


def run_hub_bench(sales: int = 1_000_000, series: int = 1000, data: str | None = None) -> dict[str, Any]:
    from analytics.forecasting.evaluate import backtest_store
    from analytics.importer.frames import DEFAULT_DATA, load_file_frames

    path = Path(data) if data else DEFAULT_DATA
    if not path.exists():
        raise FileNotFoundError(f"the retail data file {path} is missing (pass --data)")
    seg = bench_segmentation(sales)
    log.info("segmented %d sales in %.1f s", sales, seg["segment_s"])
    fc = bench_forecast(path, series)
    log.info("forecast %d series in %.1f s", fc["series"], fc["forecast_s"])
    store, _ = load_file_frames(path, store_id="bench")
    bt = backtest_store(store)
    return {"bench": "hub", "cpus": os.cpu_count(),
            "segment_1m_sales_s": seg["segment_s"], "forecast_1000_series_s": fc["forecast_s"],
            "forecast_ratio_to_reference": fc["forecast_ratio_to_reference"],
            "mase_ratio": bt["mase_ratio"], "ratio_to_best_standard": bt["ratio_to_best_standard"],
            "coverage_80": bt["coverage_80"], "target_s": TARGET_S, "forecast_target_s": FORECAST_TARGET_S,
            "meets_targets": bool(seg["segment_s"] < TARGET_S and fc["forecast_s"] < FORECAST_TARGET_S
                                  and (bt["ratio_to_best_standard"] or 9) <= 0.98
                                  and 0.77 <= (bt["coverage_80"] or 0) <= 0.83),
            "segmentation": seg, "forecast": fc,
            "backtest": {k: bt[k] for k in ("series", "origins", "mase", "wape", "baseline_mase", "baseline_wape",
                                            "mase_ratio", "ratio_to_best_standard", "best_standard",
                                            "coverage_80", "coverage_95", "models")}}
