"""What the hub's pages read: the analytics results of a store's newest successful run.

Tenant isolation: every function takes ``allowed``, the store ids the caller (the signed-in user)
may see, and the ``store_id`` asked for.  A store outside ``allowed`` raises
:class:`StoreNotAllowed` before any query runs, and every query filters on ``store_id`` as well,
so one store's rows never reach another's page.  Money is integer minor units; days are
store-local ``YYYY-MM-DD``.  ``run_id=None`` means the newest succeeded run.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select

from analytics.db import analytics_tables as an
from analytics.db import tables as t


class StoreNotAllowed(PermissionError):
    """The caller may not see this store."""


def _check(store_id: str, allowed: Collection[str]) -> None:
    if store_id not in allowed:
        raise StoreNotAllowed(f"store {store_id!r} is not one of yours")


def _run_id(engine: Engine, store_id: str, run_id: str | None) -> str | None:
    r = an.analytics_runs.c
    q = select(r.run_id).where(r.store_id == store_id, r.status == "succeeded")
    if run_id is not None:
        q = q.where(r.run_id == run_id)
    with engine.connect() as conn:
        return conn.execute(q.order_by(r.started_at.desc(), r.run_id.desc()).limit(1)).scalar()


def _rows(engine: Engine, query: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings().all()]


# -- runs ------------------------------------------------------------------------------------

def latest_run(engine: Engine, store_id: str, allowed: Collection[str]) -> dict[str, Any] | None:
    """The newest succeeded run (run_id, as_of, data range, sales, metrics, published_at), or None."""
    _check(store_id, allowed)
    rid = _run_id(engine, store_id, None)
    if rid is None:
        return None
    r = an.analytics_runs.c
    return _rows(engine, select(an.analytics_runs).where(r.run_id == rid, r.store_id == store_id))[0]


def run_history(engine: Engine, store_id: str, allowed: Collection[str], limit: int = 30) -> list[dict[str, Any]]:
    """Recent runs of every status (without the bulky settings and metrics)."""
    _check(store_id, allowed)
    r = an.analytics_runs.c
    return _rows(engine, select(r.run_id, r.status, r.started_at, r.finished_at, r.as_of, r.sales, r.error,
                                r.published_at).where(r.store_id == store_id)
                 .order_by(r.started_at.desc(), r.run_id.desc()).limit(limit))


def stores_overview(engine: Engine, allowed: Collection[str]) -> list[dict[str, Any]]:
    """Each allowed store with its newest succeeded run's date and headline figures."""
    if not allowed:
        return []
    s = t.stores.c
    stores = _rows(engine, select(s.store_id, s.name, s.timezone, s.currency)
                   .where(s.store_id.in_(list(allowed))).order_by(s.store_id))
    out = []
    for row in stores:
        run = latest_run(engine, row["store_id"], allowed)
        out.append({**row, "run_id": run["run_id"] if run else None, "as_of": run["as_of"] if run else None,
                    "finished_at": run["finished_at"] if run else None, "sales": run["sales"] if run else None})
    return out


# -- segments --------------------------------------------------------------------------------

def segments(engine: Engine, store_id: str, allowed: Collection[str], kind: str = "rfm",
             run_id: str | None = None) -> list[dict[str, Any]]:
    """Profiles of the run's segments of ``kind`` (rfm | cluster | basket), in display order; each has
    segment, members, share, revenue, revenue_share and the profile dict."""
    _check(store_id, allowed)
    rid = _run_id(engine, store_id, run_id)
    if rid is None:
        return []
    p = an.segment_profiles.c
    return _rows(engine, select(p.segment, p.members, p.share, p.revenue, p.revenue_share, p.profile)
                 .where(p.store_id == store_id, p.run_id == rid, p.kind == kind).order_by(p.ordinal))


def customers(engine: Engine, store_id: str, allowed: Collection[str], segment: str | None = None,
              cluster: str | None = None, limit: int = 100, offset: int = 0, order: str = "monetary",
              run_id: str | None = None) -> list[dict[str, Any]]:
    """Known customers with their RFM, segment, cluster and churn risk."""
    _check(store_id, allowed)
    rid = _run_id(engine, store_id, run_id)
    if rid is None:
        return []
    c = an.customer_segments.c
    orders = {"monetary": c.monetary.desc(), "churn_risk": c.churn_risk.desc(), "recency": c.recency_days.asc(),
              "frequency": c.frequency.desc()}
    if order not in orders:
        raise ValueError(f"order must be one of {sorted(orders)}")
    q = select(an.customer_segments).where(c.store_id == store_id, c.run_id == rid)
    if segment:
        q = q.where(c.segment == segment)
    if cluster:
        q = q.where(c.cluster == cluster)
    return _rows(engine, q.order_by(orders[order], c.customer_id).limit(limit).offset(offset))


def churn_risk_list(engine: Engine, store_id: str, allowed: Collection[str], limit: int = 50,
                    min_monetary: int = 0, run_id: str | None = None) -> list[dict[str, Any]]:
    """Customers most likely not to buy in the next 90 days, the most valuable first among equals."""
    _check(store_id, allowed)
    rid = _run_id(engine, store_id, run_id)
    if rid is None:
        return []
    c = an.customer_segments.c
    return _rows(engine, select(c.customer_id, c.churn_risk, c.segment, c.cluster, c.recency_days, c.frequency,
                                c.monetary).where(c.store_id == store_id, c.run_id == rid, c.churn_risk.is_not(None),
                                                  c.monetary >= min_monetary)
                 .order_by(c.churn_risk.desc(), c.monetary.desc(), c.customer_id).limit(limit))


def movers(engine: Engine, store_id: str, allowed: Collection[str], limit: int = 200,
           run_id: str | None = None) -> dict[str, Any]:
    """Who changed RFM segment since the previous run: the customers and the from/to counts."""
    _check(store_id, allowed)
    rid = _run_id(engine, store_id, run_id)
    if rid is None:
        return {"customers": [], "transitions": {"previous_run": False, "moved": 0, "matrix": []}}
    c = an.customer_segments.c
    moved = _rows(engine, select(c.customer_id, c.prev_segment, c.segment, c.monetary, c.churn_risk)
                  .where(c.store_id == store_id, c.run_id == rid, c.prev_segment.is_not(None),
                         c.prev_segment != c.segment).order_by(c.monetary.desc(), c.customer_id).limit(limit))
    return {"customers": moved, "transitions": view(engine, store_id, allowed, "transitions", rid) or {}}


def view(engine: Engine, store_id: str, allowed: Collection[str], name: str, run_id: str | None = None) -> Any:
    """A ready-made JSON view of the run: time_bands, value_bands, churn_validation, transitions,
    top_products, calendar.  None when absent."""
    _check(store_id, allowed)
    rid = _run_id(engine, store_id, run_id)
    if rid is None:
        return None
    v = an.analytics_views.c
    with engine.connect() as conn:
        return conn.execute(select(v.data).where(v.store_id == store_id, v.run_id == rid, v.view == name)).scalar()


def top_products(engine: Engine, store_id: str, allowed: Collection[str], limit: int = 20) -> list[dict[str, Any]]:
    return list(view(engine, store_id, allowed, "top_products") or [])[:limit]


# -- forecasts -------------------------------------------------------------------------------

def forecast_skus(engine: Engine, store_id: str, allowed: Collection[str], search: str | None = None,
                  category: str | None = None, limit: int = 100, offset: int = 0,
                  run_id: str | None = None) -> list[dict[str, Any]]:
    """SKUs with a forecast: model, demand class, mean daily units; busiest first."""
    _check(store_id, allowed)
    rid = _run_id(engine, store_id, run_id)
    if rid is None:
        return []
    m = an.sku_forecast_models.c
    q = select(an.sku_forecast_models).where(m.store_id == store_id, m.run_id == rid)
    if search:
        like = f"%{search.lower()}%"
        q = q.where(or_(func.lower(m.sku).like(like), func.lower(m.name).like(like)))
    if category:
        q = q.where(m.category == category)
    return _rows(engine, q.order_by(m.mean_daily.desc(), m.sku).limit(limit).offset(offset))


def sku_forecast(engine: Engine, store_id: str, allowed: Collection[str], sku: str,
                 run_id: str | None = None) -> dict[str, Any] | None:
    """One SKU's daily forecast with 80% and 95% intervals, its model and its reorder advice."""
    _check(store_id, allowed)
    rid = _run_id(engine, store_id, run_id)
    if rid is None:
        return None
    m, f, r = an.sku_forecast_models.c, an.sku_forecasts.c, an.reorder_advice.c
    info = _rows(engine, select(an.sku_forecast_models).where(m.store_id == store_id, m.run_id == rid, m.sku == sku))
    if not info:
        return None
    days = _rows(engine, select(f.day, f.mean, f.lo80, f.hi80, f.lo95, f.hi95)
                 .where(f.store_id == store_id, f.run_id == rid, f.sku == sku).order_by(f.day))
    advice = _rows(engine, select(an.reorder_advice).where(r.store_id == store_id, r.run_id == rid, r.sku == sku))
    return {**info[0], "days": days, "reorder": advice[0] if advice else None}


def store_forecast(engine: Engine, store_id: str, allowed: Collection[str], series: str = "revenue",
                   run_id: str | None = None) -> list[dict[str, Any]]:
    """Daily ``revenue`` (minor units) or ``sales`` (transactions) with intervals."""
    _check(store_id, allowed)
    if series not in ("revenue", "sales"):
        raise ValueError("series must be 'revenue' or 'sales'")
    rid = _run_id(engine, store_id, run_id)
    if rid is None:
        return []
    s = an.store_forecasts.c
    return _rows(engine, select(s.day, s.mean, s.lo80, s.hi80, s.lo95, s.hi95)
                 .where(s.store_id == store_id, s.run_id == rid, s.series == series).order_by(s.day))


def hourly_traffic(engine: Engine, store_id: str, allowed: Collection[str], day: str | None = None,
                   run_id: str | None = None) -> list[dict[str, Any]]:
    """Expected sales per hour (and the upper 80% bound) with the staff suggested; one day or all."""
    _check(store_id, allowed)
    rid = _run_id(engine, store_id, run_id)
    if rid is None:
        return []
    h = an.hourly_forecasts.c
    q = select(h.day, h.hour, h.sales_mean, h.sales_hi80, h.staff).where(h.store_id == store_id, h.run_id == rid)
    if day:
        q = q.where(h.day == day)
    return _rows(engine, q.order_by(h.day, h.hour))


def staffing(engine: Engine, store_id: str, allowed: Collection[str], day: str | None = None,
             run_id: str | None = None) -> dict[str, Any]:
    """The staffing suggestion for one day (default: the first forecast day): per hour and peak."""
    rows = hourly_traffic(engine, store_id, allowed, None, run_id)
    if not rows:
        return {"day": day, "hours": [], "peak_staff": 0}
    day = day or rows[0]["day"]
    hours = [{"hour": r["hour"], "sales": round(float(r["sales_mean"]), 1), "staff": r["staff"]}
             for r in rows if r["day"] == day]
    return {"day": day, "hours": hours, "peak_staff": max((h["staff"] for h in hours), default=0),
            "staff_hours": sum(h["staff"] for h in hours)}


# -- reorder ---------------------------------------------------------------------------------

def reorder_list(engine: Engine, store_id: str, allowed: Collection[str], only_order_now: bool = False,
                 category: str | None = None, include_slow: bool = True, limit: int = 200, offset: int = 0,
                 run_id: str | None = None) -> list[dict[str, Any]]:
    """Reorder advice: SKUs to order now first (earliest stock-out first), then by demand."""
    _check(store_id, allowed)
    rid = _run_id(engine, store_id, run_id)
    if rid is None:
        return []
    r = an.reorder_advice.c
    q = select(an.reorder_advice).where(r.store_id == store_id, r.run_id == rid)
    if only_order_now:
        q = q.where(r.order_now.is_(True))
    if category:
        q = q.where(r.category == category)
    if not include_slow:
        q = q.where(r.slow_mover.is_(False))
    ordering = [func.coalesce(r.order_now, False).desc(), func.coalesce(r.stockout_date, "9999-12-31"),
                r.mean_daily.desc(), r.sku]
    return _rows(engine, q.order_by(*ordering).limit(limit).offset(offset))


def advice_counts(engine: Engine, store_id: str, allowed: Collection[str], run_id: str | None = None) -> dict[str, int]:
    """How many SKUs of the run are to be ordered now (``order_now``) and are slow movers (``slow``):
    the one count every text about them uses, whatever part of the list it shows."""
    _check(store_id, allowed)
    rid = _run_id(engine, store_id, run_id)
    if rid is None:
        return {"order_now": 0, "slow": 0}
    r = an.reorder_advice.c
    with engine.connect() as conn:
        order_now, slow = conn.execute(
            select(func.count().filter(r.order_now.is_(True)), func.count().filter(r.slow_mover.is_(True)))
            .where(r.store_id == store_id, r.run_id == rid)).one()
    return {"order_now": int(order_now or 0), "slow": int(slow or 0)}


def slow_movers(engine: Engine, store_id: str, allowed: Collection[str], limit: int = 200,
                run_id: str | None = None) -> list[dict[str, Any]]:
    """Slow movers with the reason, the ones with stock on hand first, then the longest idle."""
    _check(store_id, allowed)
    rid = _run_id(engine, store_id, run_id)
    if rid is None:
        return []
    r = an.reorder_advice.c
    return _rows(engine, select(r.sku, r.name, r.category, r.slow_reason, r.last_sold, r.units_28d, r.on_hand,
                                r.days_of_cover)
                 .where(and_(r.store_id == store_id, r.run_id == rid, r.slow_mover.is_(True)))
                 .order_by(func.coalesce(r.on_hand, -1).desc(), func.coalesce(r.last_sold, ""), r.sku).limit(limit))
