"""All of one store's forecasting in one call: daily units per SKU, daily sales and revenue, hourly
traffic with staffing, and reorder advice.  Pure: frames in, result frames out."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from analytics.forecasting import reorder as ro
from analytics.forecasting.demand import SeriesForecast, forecast_series
from analytics.forecasting.effects import estimate_effects, multipliers
from analytics.forecasting.series import daily_prices, daily_units, day_range, sku_groups, store_daily, traded_days
from analytics.forecasting.traffic import hour_profile, hourly_forecast
from analytics.jobs.calendar import StoreCalendar
from analytics.jobs.categories import SERVICE
from analytics.jobs.data import StoreData

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StockLevel:
    on_hand: int
    as_of: str


@dataclass
class ForecastResult:
    first_day: date
    sku_daily: pd.DataFrame  # sku, day, mean, lo80, hi80, lo95, hi95
    sku_models: pd.DataFrame  # sku, name, category, model, demand_class, mean_daily, backtest_mae, dispersion
    store_daily: pd.DataFrame  # series, day, mean, lo80, hi80, lo95, hi95 (integers)
    hourly: pd.DataFrame  # day, hour, sales_mean, sales_hi80, staff
    reorder: pd.DataFrame  # the reorder_advice columns
    metrics: dict[str, Any] = field(default_factory=dict)


def _stacked(frame: pd.DataFrame, name: str) -> pd.Series:
    """A day x series frame as one Series on (day, series)."""
    stacked = frame.stack()
    if not isinstance(stacked, pd.Series):  # one column level always stacks to a Series
        raise TypeError(f"{name}: a frame with {frame.columns.nlevels} column levels")
    return stacked.rename(name)


def _long(fc: SeriesForecast, integer: bool = False) -> pd.DataFrame:
    parts = [_stacked(fc.mean, "mean")]
    for lv, tag in ((0.8, "80"), (0.95, "95")):
        lo, hi = fc.bounds[lv]
        parts += [_stacked(lo, f"lo{tag}"), _stacked(hi, f"hi{tag}")]
    out = pd.concat(parts, axis=1).reset_index()
    out.columns = ["day", "series", "mean", "lo80", "hi80", "lo95", "hi95"]
    out["day"] = out["day"].dt.date.map(date.isoformat)
    if integer:
        for c in ("mean", "lo80", "hi80", "lo95", "hi95"):
            out[c] = out[c].round().astype("int64")
    else:
        out["mean"] = out["mean"].round(4)
    return out


def forecast_store(data: StoreData, calendar: StoreCalendar, stock: dict[str, StockLevel] | None = None,
                   skus: list[str] | None = None) -> ForecastResult:
    s = data.store.settings
    timings: dict[str, float] = {}
    first_day = data.as_of
    if data.sales.empty:
        raise ValueError(f"store {data.store.store_id} has no sales to forecast from")
    days = day_range(data.sales["local"].min(), pd.Timestamp(first_day))
    future = pd.date_range(pd.Timestamp(first_day), periods=s.horizon_days, freq="D")
    closed = calendar.closed(future)
    traded = traded_days(data.sales, days)

    t0 = time.perf_counter()
    units = daily_units(data.lines, days)
    excluded = {sku for sku, o in s.sku_overrides.items() if o.exclude}
    units = units[[c for c in units.columns if c not in excluded and (skus is None or c in set(skus))]]
    effects = estimate_effects(calendar, units.sum(axis=1), traded)
    mult = multipliers(calendar, effects, future)
    fc = forecast_series(units, traded, future, closed, mult, prices=daily_prices(data.lines, days),
                         groups=sku_groups(data.lines))
    timings["sku_forecast_s"] = round(time.perf_counter() - t0, 3)

    sku_daily = _long(fc).rename(columns={"series": "sku"})
    ln = data.lines[data.lines["category"] != SERVICE]
    names = ln.sort_values("local").groupby("sku")[["name", "category"]].last()
    # the model label names what the mean came from: the series' own choice, with the pooled ensemble where it ran
    models = pd.DataFrame({"sku": fc.model.index, "model": fc.used_models().to_numpy(),
                           "demand_class": fc.demand_class.reindex(fc.model.index).to_numpy(),
                           "mean_daily": fc.mean.mean(axis=0).reindex(fc.model.index).round(4).to_numpy(),
                           "backtest_mae": fc.backtest_mae.round(4).to_numpy(),
                           "dispersion": fc.dispersion.round(4).to_numpy()})
    models = models.join(names, on="sku")
    models["name"] = models["name"].fillna(models["sku"])
    models["category"] = models["category"].fillna("uncategorised")

    t0 = time.perf_counter()
    store_hist = store_daily(data.sales, days)
    # each store series on its own: a dispersion prior pooled over counts and money would be nonsense
    store_fc = {col: forecast_series(store_hist[[col]], traded, future, closed, mult, profile_strength=0.0)
                for col in store_hist.columns}
    store_rows = pd.concat([_long(f, integer=True) for f in store_fc.values()], ignore_index=True)
    timings["store_forecast_s"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    profile = hour_profile(data.sales, pd.Timestamp(first_day))
    hourly = hourly_forecast(store_fc["sales"].mean["sales"], float(store_fc["sales"].dispersion["sales"]), profile,
                             s.staffing)
    timings["traffic_s"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    reorder = _reorder(data, fc, models, stock or {}, first_day)
    timings["reorder_s"] = round(time.perf_counter() - t0, 3)
    metrics = {"skus": int(len(models)), "default_model": fc.default_model, "model_scores": fc.model_scores,
               "global_weight": fc.global_weight,
               "models": {str(k): int(v) for k, v in models["model"].value_counts().items()},
               "demand_classes": {str(k): int(v) for k, v in models["demand_class"].value_counts().items()},
               "payday_effect": effects.payday, "holiday_effect": effects.holiday,
               "closed_weekdays": calendar.closed_weekdays,
               "closed_days": [d.date().isoformat() for d, c in zip(future, closed, strict=True) if c],
               "store_models": {k: str(f.model[k]) for k, f in store_fc.items()}, "timings": timings}
    log.info("forecast %s: %d SKUs (default model %s), %d closed days ahead", data.store.store_id, len(models),
             fc.default_model, int(closed.sum()))
    return ForecastResult(first_day, sku_daily, models, store_rows, hourly, reorder, metrics)


def _reorder(data: StoreData, fc: SeriesForecast, models: pd.DataFrame, stock: dict[str, StockLevel],
             first_day: date) -> pd.DataFrame:
    s = data.store.settings
    ln = data.lines[(data.lines["status"] == "completed") & (data.lines["qty"] > 0)]
    as_of_ts = pd.Timestamp(first_day)
    recent = ln[ln["local"] >= as_of_ts - pd.Timedelta(days=56)]
    units_8w = recent.groupby("sku")["qty"].sum()
    units_28d = ln[ln["local"] >= as_of_ts - pd.Timedelta(days=28)].groupby("sku")["qty"].sum()
    last_sold = ln.groupby("sku")["local"].max().dt.date
    rows = []
    info = models.set_index("sku")
    for sku in fc.mean.columns:
        o = s.sku(sku)
        lvl = stock.get(sku)
        adv = ro.advise(ro.ReorderInput(
            sku=sku, daily_mean=fc.mean[sku].to_numpy(), dispersion=float(fc.dispersion[sku]),
            lead_time_days=o.lead_time_days if o.lead_time_days is not None else s.lead_time_days,
            review_days=o.review_days if o.review_days is not None else s.review_days,
            service_level=o.service_level if o.service_level is not None else s.service_level,
            on_hand=lvl.on_hand if lvl else None, pack_size=o.pack_size, min_order_qty=o.min_order_qty))
        last = last_sold.get(sku)
        slow = ro.slow_mover(float(units_8w.get(sku, 0)), last, first_day, s.slow_mover_units_per_week,
                             s.slow_mover_idle_days)
        out_day = ro.stockout_date(first_day, adv.stockout_day)
        rows.append({
            "sku": sku, "name": str(info.at[sku, "name"]), "category": str(info.at[sku, "category"]),
            "on_hand": lvl.on_hand if lvl else None, "stock_as_of": lvl.as_of if lvl else None,
            "lead_time_days": o.lead_time_days if o.lead_time_days is not None else s.lead_time_days,
            "review_days": o.review_days if o.review_days is not None else s.review_days,
            "service_level": o.service_level if o.service_level is not None else s.service_level,
            "mean_daily": round(adv.mean_daily, 4), "lead_time_demand": round(adv.lead_time_demand, 3),
            "safety_stock": adv.safety_stock, "reorder_point": adv.reorder_point, "order_up_to": adv.order_up_to,
            "order_qty": adv.order_qty, "order_now": adv.order_now,
            "stockout_date": out_day.isoformat() if out_day else None, "days_of_cover": adv.days_of_cover,
            "slow_mover": slow is not None, "slow_reason": slow,
            "last_sold": last.isoformat() if last else None, "units_28d": int(units_28d.get(sku, 0)),
        })
    return pd.DataFrame(rows)

