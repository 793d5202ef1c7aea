"""Writes of the analytics jobs: run rows, every result of a run in one transaction (a page never
sees half a run: readers take the newest *succeeded* run, and a run turns succeeded in the same
transaction that writes its results), the previous run's segments, pruning of old runs."""

from __future__ import annotations

import math
import uuid
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert, select, update

from analytics.db import analytics_tables as an
from analytics.forecasting.run import ForecastResult
from analytics.segmentation.run import SegmentationResult

CHUNK = 5000
KEEP_RUNS = 3


def clean(value: Any) -> Any:
    """JSON- and column-safe: numpy scalars to Python, NaN to None, recursively."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def records(df: pd.DataFrame, **extra: Any) -> list[dict[str, Any]]:
    rows = df.to_dict("records")
    return [{**{str(k): clean(v) for k, v in r.items()}, **extra} for r in rows]


def start_run(engine: Engine, store_id: str, now: str, fingerprint: str | None, settings: dict[str, Any]) -> str:
    run_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(insert(an.analytics_runs).values(run_id=run_id, store_id=store_id, status="running",
                                                      started_at=now, fingerprint=fingerprint, settings=settings))
    return run_id


def finish_run(conn: Connection, run_id: str, status: str, now: str, **values: Any) -> None:
    conn.execute(update(an.analytics_runs).where(an.analytics_runs.c.run_id == run_id)
                 .values(status=status, finished_at=now, **{k: clean(v) for k, v in values.items()}))


def fail_run(engine: Engine, run_id: str, now: str, error: str) -> None:
    with engine.begin() as conn:
        finish_run(conn, run_id, "failed", now, error=error[:4000])


def last_run(engine: Engine, store_id: str, status: str = "succeeded") -> dict[str, Any] | None:
    r = an.analytics_runs.c
    with engine.connect() as conn:
        row = conn.execute(select(an.analytics_runs).where(r.store_id == store_id, r.status == status)
                           .order_by(r.started_at.desc(), r.run_id.desc()).limit(1)).mappings().first()
    return dict(row) if row else None


def previous_segments(engine: Engine, store_id: str) -> dict[str, str]:
    run = last_run(engine, store_id)
    if run is None:
        return {}
    c = an.customer_segments.c
    with engine.connect() as conn:
        return dict(conn.execute(select(c.customer_id, c.segment).where(c.run_id == run["run_id"],
                                                                        c.store_id == store_id)).all())


def _insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(table), rows[start:start + CHUNK])


def write_results(engine: Engine, run_id: str, store_id: str, now: str, seg: SegmentationResult | None,
                  fc: ForecastResult | None, views: dict[str, Any], run_values: dict[str, Any]) -> None:
    """Everything a run produced, and the run turned ``succeeded``, in one transaction."""
    ids = {"run_id": run_id, "store_id": store_id}
    with engine.begin() as conn:
        if seg is not None:
            cust = seg.customers.reset_index()
            cols = ["customer_id", "recency_days", "frequency", "monetary", "tenure_days", "diversity", "r_score",
                    "f_score", "m_score", "segment", "cluster", "prev_segment", "churn_risk"]
            cust = cust[cols].copy()
            cust["diversity"] = cust["diversity"].round(3)
            _insert(conn, an.customer_segments, records(cust, **ids))
            prof_rows = []
            for kind, profiles in seg.profiles.items():
                for i, p in enumerate(profiles):
                    members = p.get("members", p.get("sales", 0))
                    prof_rows.append({**ids, "kind": kind, "segment": p["segment"], "ordinal": i,
                                      "members": int(members), "share": float(p["share"]),
                                      "revenue": int(p["revenue"]), "revenue_share": float(p["revenue_share"]),
                                      "profile": clean(p)})
            _insert(conn, an.segment_profiles, prof_rows)
            views = {**seg.views, **views}
        if fc is not None:
            _insert(conn, an.sku_forecast_models, records(fc.sku_models, **ids))
            _insert(conn, an.sku_forecasts, records(fc.sku_daily, **ids))
            _insert(conn, an.store_forecasts, records(fc.store_daily, **ids))
            _insert(conn, an.hourly_forecasts, records(fc.hourly, **ids))
            _insert(conn, an.reorder_advice, records(fc.reorder, **ids))
        _insert(conn, an.analytics_views, [{**ids, "view": k, "data": clean(v)} for k, v in views.items()])
        finish_run(conn, run_id, "succeeded", now, **run_values)


def prune(engine: Engine, store_id: str, keep: int = KEEP_RUNS) -> int:
    """Delete the detail rows of all but the newest ``keep`` succeeded runs (run rows stay)."""
    r = an.analytics_runs.c
    with engine.begin() as conn:
        runs = list(conn.execute(select(r.run_id).where(r.store_id == store_id, r.status == "succeeded")
                                 .order_by(r.started_at.desc(), r.run_id.desc())).scalars())
        old = runs[keep:]
        failed = list(conn.execute(select(r.run_id).where(r.store_id == store_id, r.status != "succeeded")).scalars())
        gone = old + failed
        if gone:
            for table in an.RUN_DETAIL_TABLES:
                conn.execute(delete(table).where(table.c.store_id == store_id, table.c.run_id.in_(gone)))
    return len(old)


def record_skip(engine: Engine, store_id: str, now: str, fingerprint: str, reason: str) -> str:
    run_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(insert(an.analytics_runs).values(run_id=run_id, store_id=store_id, status="skipped",
                                                      started_at=now, finished_at=now, fingerprint=fingerprint,
                                                      error=reason))
    return run_id


def mark_published(engine: Engine, run_id: str, now: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(an.analytics_runs).where(an.analytics_runs.c.run_id == run_id).values(published_at=now))

