"""Payday and holiday effects on a store's daily demand, from its settings and its own history.

A store's paydays (``settings.paydays``, plus ``payday_window_days`` after each) and, when it opens
on holidays (``closed_on_holidays: false``), its holidays, each get one multiplier: the mean ratio
of the store's units on those days to the usual level of the same weekday, shrunk towards 1 by
``PRIOR_DAYS`` (few observed paydays barely move it) and kept within [0.5, 2].  Per-SKU effects
would be noise for a shop selling a few units a week; the store's total is where the effect shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.jobs.calendar import StoreCalendar

PRIOR_DAYS = 10.0


@dataclass(frozen=True)
class Effects:
    payday: float = 1.0
    holiday: float = 1.0
    payday_days_seen: int = 0
    holiday_days_seen: int = 0


def estimate_effects(calendar: StoreCalendar, totals: pd.Series, traded: np.ndarray) -> Effects:
    """``totals``: the store's units (or sales) per history day; ``traded``: open that day."""
    days = pd.DatetimeIndex(totals.index)
    if len(days) == 0:
        return Effects()
    open_ = np.asarray(traded, dtype=bool)
    pay = calendar.payday_flags(days) & open_
    hol = ((calendar.holiday_flags(days) & open_) if not calendar.settings.closed_on_holidays
           else np.zeros(len(days), bool))
    y = totals.to_numpy(dtype=float)
    wd = days.dayofweek.to_numpy()
    usual = open_ & ~pay & ~hol
    base = np.array([y[usual & (wd == d)].mean() if (usual & (wd == d)).any() else np.nan for d in range(7)])

    def effect(mask: np.ndarray) -> tuple[float, int]:
        b = base[wd[mask]]
        ok = np.isfinite(b) & (b > 0)
        n = int(ok.sum())
        if n == 0:
            return 1.0, 0
        raw = float(np.mean(y[mask][ok] / b[ok]))
        shrunk = 1.0 + (raw - 1.0) * n / (n + PRIOR_DAYS)
        return float(np.clip(shrunk, 0.5, 2.0)), n

    p, np_ = effect(pay)
    h, nh = effect(hol)
    return Effects(round(p, 4), round(h, 4), np_, nh)


def multipliers(calendar: StoreCalendar, effects: Effects, future: pd.DatetimeIndex) -> np.ndarray:
    out = np.ones(len(future))
    out[calendar.payday_flags(future)] *= effects.payday
    if not calendar.settings.closed_on_holidays:
        out[calendar.holiday_flags(future)] *= effects.holiday
    return out


def day_multipliers(calendar: StoreCalendar, totals: pd.Series, traded: np.ndarray,
                    future: pd.DatetimeIndex) -> np.ndarray:
    return multipliers(calendar, estimate_effects(calendar, totals, traded), future)
