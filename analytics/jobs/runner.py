"""``tillsight hub jobs``: segmentation and forecasting for every store (or the ones named),
incrementally (a store whose sales and settings have not changed since its last successful run is
skipped, unless forced) and in parallel across stores (one process per store, each with its own
database connection), storing each run's results with its metadata.  What a nightly timer runs.
After a store's forecasts it computes and stores the store's pricing report too (the Pricing page reads
it: ``analytics/pricing/stored.py``); a pricing failure is logged and the run stands.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from analytics.db import make_engine, migrate
from analytics.forecasting.run import forecast_store
from analytics.jobs import store as st
from analytics.jobs.calendar import StoreCalendar
from analytics.jobs.data import StoreData, fingerprint, load_store_data, store_ids, store_info, store_today, utc_now
from analytics.jobs.settings import SettingsError
from analytics.jobs.stock import store_stock
from analytics.pricing.stored import compute_and_store
from analytics.segmentation.run import segment_store

log = logging.getLogger(__name__)


@dataclass
class StoreRun:
    store_id: str
    status: str  # succeeded | skipped | failed
    run_id: str | None = None
    seconds: float = 0.0
    detail: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def top_products(data: StoreData, days: int = 28, limit: int = 20) -> list[dict[str, Any]]:
    """Best sellers of the last ``days`` days by revenue, with the change against the ``days`` before."""
    ln = data.lines[(data.lines["status"] == "completed") & (data.lines["category"] != "service")]
    end = pd.Timestamp(data.as_of)
    cur = ln[ln["local"] >= end - pd.Timedelta(days=days)]
    prev = ln[(ln["local"] < end - pd.Timedelta(days=days)) & (ln["local"] >= end - pd.Timedelta(days=2 * days))]
    g = cur.groupby("sku").agg(units=("qty", "sum"), revenue=("line_total", "sum"), sales=("tx_id", "nunique"),
                               name=("name", "last"), category=("category", "last"))
    before = prev.groupby("sku")["line_total"].sum()
    g = g.sort_values("revenue", ascending=False).head(limit)
    out = []
    for sku, r in g.iterrows():
        b = float(before.get(sku, 0))
        out.append({"sku": str(sku), "name": str(r["name"]), "category": str(r["category"]), "units": int(r["units"]),
                    "revenue": int(r["revenue"]), "sales": int(r["sales"]),
                    "change": round(float(r["revenue"]) / b - 1, 3) if b > 0 else None})
    return out


def run_store(url: str, store_id: str, force: bool = False, engine: Engine | None = None,
              now: datetime | None = None) -> StoreRun:
    """One store's nightly run; never raises for a problem of the store's own (it is recorded).
    ``now`` (aware; the caller reads the clock): the analysis is as of the store's date then, and
    forecasts start that day; without it, the day after the store's last sale."""
    started = time.perf_counter()
    own = engine is None
    engine = engine or make_engine(url)
    try:
        try:
            info = store_info(engine, store_id)
        except SettingsError as exc:
            return StoreRun(store_id, "failed", detail=str(exc))
        if info is None:
            return StoreRun(store_id, "failed", detail=f"store {store_id!r} is not in the hub database")
        today = store_today(info, now) if now is not None else None
        fp = fingerprint(engine, info, today)
        last = st.last_run(engine, store_id)
        if not force and last is not None and last["fingerprint"] == fp:
            run_id = st.record_skip(engine, store_id, utc_now(), fp, "no new sales or settings since the last run")
            return StoreRun(store_id, "skipped", run_id, round(time.perf_counter() - started, 2),
                            "no new sales or settings since the last run")
        run_id = st.start_run(engine, store_id, utc_now(), fp, info.settings.model_dump(mode="json"))
        try:
            data = load_store_data(engine, store_id, info, now=now)
            if data.sales.empty:
                raise ValueError("the store has no sales yet")
            calendar = StoreCalendar.for_store(info.settings, set(data.sales["local"].dt.date), data.as_of)
            seg = segment_store(data, calendar, st.previous_segments(engine, store_id))
            fc = forecast_store(data, calendar, store_stock(engine, store_id))
            metrics = {"segmentation": seg.metrics, "forecast": fc.metrics,
                       "seconds": round(time.perf_counter() - started, 2)}
            st.write_results(engine, run_id, store_id, utc_now(), seg, fc,
                             {"top_products": top_products(data),
                              "calendar": {"closed_weekdays": calendar.closed_weekdays,
                                           "closed_days": fc.metrics["closed_days"],
                                           "paydays": info.settings.paydays}},
                             {"as_of": data.as_of.isoformat(), "data_from": data.sales["utc"].min().isoformat(),
                              "data_to": data.sales["utc"].max().isoformat(), "sales": int(len(data.sales)),
                              "metrics": metrics})
            st.prune(engine, store_id)
            _store_pricing(engine, store_id, now, data)
        except Exception as exc:  # noqa: BLE001 - a store's failure is recorded and the other stores go on
            log.error("analytics for %s failed: %s", store_id, exc)
            log.debug("%s", traceback.format_exc())
            st.fail_run(engine, run_id, utc_now(), f"{type(exc).__name__}: {exc}")
            return StoreRun(store_id, "failed", run_id, round(time.perf_counter() - started, 2),
                            f"{type(exc).__name__}: {exc}")
        return StoreRun(store_id, "succeeded", run_id, round(time.perf_counter() - started, 2), "",
                        {"customers": seg.metrics["customers"], "baskets": seg.metrics["baskets"],
                         "skus": fc.metrics["skus"], "default_model": fc.metrics["default_model"],
                         "churn_auc": seg.metrics["churn_auc"]})
    finally:
        if own:
            engine.dispose()


def _store_pricing(engine: Engine, store_id: str, now: datetime | None, data: StoreData) -> None:
    """The store's pricing report for its Pricing page; a failure is logged, the run's results stand."""
    try:
        compute_and_store(engine, store_id, now or datetime.now(UTC), "nightly", data)
    except Exception:  # the page keeps the last report and says when it was computed
        log.exception("pricing report for %s failed; the Pricing page keeps the last one", store_id)


def _run_in_child(url: str, store_id: str, force: bool, now: datetime | None) -> StoreRun:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    return run_store(url, store_id, force, now=now)


def run_jobs(url: str, stores: list[str] | None = None, workers: int | None = None,
             force: bool = False, now: datetime | None = None) -> list[StoreRun]:
    """Run every store (or ``stores``); ``workers`` processes at once (default: CPU count); ``now``
    as :func:`run_store`."""
    engine = make_engine(url)
    migrate(engine)
    targets = stores or store_ids(engine)
    if not targets:
        engine.dispose()
        return []
    n = max(1, min(workers or os.cpu_count() or 1, len(targets)))
    results: list[StoreRun] = []
    if n == 1:
        for sid in targets:
            results.append(run_store(url, sid, force, engine, now=now))
        engine.dispose()
        return results
    engine.dispose()
    with ProcessPoolExecutor(max_workers=n) as pool:
        futures = {pool.submit(_run_in_child, url, sid, force, now): sid for sid in targets}
        for fut in as_completed(futures):
            sid = futures[fut]
            try:
                results.append(fut.result())
            except Exception as exc:  # noqa: BLE001 - the worker process itself died: recorded, the rest go on
                results.append(StoreRun(sid, "failed", detail=f"{type(exc).__name__}: {exc}"))
    order = {sid: i for i, sid in enumerate(targets)}
    return sorted(results, key=lambda r: order[r.store_id])
