"""A store's trading calendar: which days it is closed, its paydays and holidays.

Past closures are read from the sales themselves (a day with no sale at all on a weekday the store
trades was a closed day, not a day of zero demand); future closures come from the settings
(``closed_weekdays``, ``holidays``, ``holiday_country``), with the closed weekdays learned from the
last twelve weeks of sales when the settings leave them out.
"""

from __future__ import annotations

import calendar as _cal
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from analytics.jobs.settings import AnalyticsSettings

# a weekday with sales on fewer than this share of its dates (last 12 weeks) counts as closed
CLOSED_WEEKDAY_SHARE = 0.2


def learn_closed_weekdays(trading_days: Iterable[date], until: date, weeks: int = 12) -> list[int]:
    """Weekdays on which the store (almost) never traded in the ``weeks`` before ``until``."""
    start = until - timedelta(days=7 * weeks)
    traded = [d for d in trading_days if start <= d < until]
    if not traded:
        return []
    first = max(start, min(traded))
    dates = pd.date_range(first, until - timedelta(days=1), freq="D")
    totals = pd.Series(dates.dayofweek).value_counts()
    seen = pd.Series([d.weekday() for d in set(traded)]).value_counts()
    closed = [wd for wd in range(7) if totals.get(wd, 0) >= 3 and seen.get(wd, 0) / totals[wd] < CLOSED_WEEKDAY_SHARE]
    return closed if len(closed) < 7 else []


@dataclass
class StoreCalendar:
    settings: AnalyticsSettings
    closed_weekdays: list[int] = field(default_factory=list)

    @classmethod
    def for_store(cls, settings: AnalyticsSettings, trading_days: Iterable[date], until: date) -> StoreCalendar:
        closed = settings.closed_weekdays
        if closed is None:
            closed = learn_closed_weekdays(trading_days, until)
        return cls(settings, list(closed))

    def holidays(self, start: date, end: date) -> dict[date, str]:
        """Holidays from ``start`` to ``end`` inclusive: the country's public ones and the store's own."""
        out: dict[date, str] = {}
        s = self.settings
        if s.holiday_country:
            import holidays as hol

            years = list(range(start.year, end.year + 1))
            found = hol.country_holidays(s.holiday_country, subdiv=s.holiday_subdivision, years=years)
            out.update({d: str(n) for d, n in found.items() if start <= d <= end})
        for d in s.holidays:
            if start <= d <= end:
                out.setdefault(d, "store holiday")
        return out

    def closed(self, days: pd.DatetimeIndex) -> np.ndarray:
        """Days the store is expected to be closed (closed weekdays; holidays when it closes on them)."""
        if len(days) == 0:
            return np.zeros(0, dtype=bool)
        mask = np.isin(days.dayofweek, self.closed_weekdays)
        if self.settings.closed_on_holidays:
            hol = self.holidays(days[0].date(), days[-1].date())
            mask |= np.array([d.date() in hol for d in days])
        return mask

    def holiday_flags(self, days: pd.DatetimeIndex) -> np.ndarray:
        if len(days) == 0:
            return np.zeros(0, dtype=bool)
        hol = self.holidays(days[0].date(), days[-1].date())
        return np.array([d.date() in hol for d in days])

    def payday_dates(self, start: date, end: date) -> list[date]:
        out = []
        y, m = start.year, start.month
        while date(y, m, 1) <= end:
            last = _cal.monthrange(y, m)[1]
            for d in self.settings.paydays:
                day = date(y, m, min(d, last))
                if start <= day <= end and day not in out:
                    out.append(day)
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return sorted(out)

    def payday_flags(self, days: pd.DatetimeIndex) -> np.ndarray:
        """True on a payday and the ``payday_window_days`` after it."""
        if len(days) == 0 or not self.settings.paydays:
            return np.zeros(len(days), dtype=bool)
        w = self.settings.payday_window_days
        pays = self.payday_dates(days[0].date() - timedelta(days=w), days[-1].date())
        window = {p + timedelta(days=k) for p in pays for k in range(w + 1)}
        return np.array([d.date() in window for d in days])

    def days_to_payday(self, days: Iterable[date]) -> np.ndarray:
        """Days until the next payday (0 on a payday); -1 when the store has no paydays set."""
        days = list(days)
        if not days:
            return np.zeros(0, dtype=int)
        if not self.settings.paydays:
            return np.full(len(days), -1, dtype=int)
        lo, hi = min(days), max(days)
        pays = np.array([p.toordinal() for p in self.payday_dates(lo, hi + timedelta(days=62))])
        ords = np.array([d.toordinal() for d in days])
        idx = np.searchsorted(pays, ords, side="left")
        return pays[idx] - ords
