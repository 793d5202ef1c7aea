"""What the analytics pages read from the sales themselves, beside the results of ``hub jobs``
(``analytics.jobs.results``): the daily sales history leading up to a run's analysis date, the
hour x weekday traffic of the weeks before it, one SKU's daily units, and the medians of the
customers' RFM values per segment or cluster.

Every function takes the user's :class:`StoreScope` and filters each store id column with it (a
store outside the scope reads nothing).  Days and hours are store-local; money is integer minor
units; completed and refunded sales move money (refunds carry negative totals), voided ones count
nowhere, and "sales" counts completed sales (the rules of the store page and of the jobs).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from analytics.db import tables as t
from analytics.segmentation.rfm import SEGMENT_RULES
from analytics.web.queries.stores import COUNTED, first_sale_day, local_midnight, utc_text, zone
from analytics.web.tenancy import StoreScope
from i18n import N_

# English names (data in the API); pages translate them with _(name)
WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"), N_("Sunday"))


@dataclass(frozen=True)
class DayActual:
    day: str  # store-local YYYY-MM-DD
    revenue: int  # net of refunds, minor units
    sales: int  # completed sales


@dataclass(frozen=True)
class HeatCell:
    weekday: int  # 0 = Monday
    hour: int  # store-local
    sales: int  # completed sales in the window
    per_week: float  # sales / weeks in the window
    revenue: int  # net, minor units


@dataclass(frozen=True)
class HeatMap:
    first_day: str
    last_day: str
    weeks: int
    hours: tuple[int, ...]  # the hours to show: first to last hour with a sale
    cells: tuple[HeatCell, ...]  # 7 x 24, Monday 00 first
    peak: float  # the largest per_week

    def grid(self) -> list[tuple[str, list[HeatCell]]]:
        """Rows (weekday name, the cells of ``hours``) for an HTML table."""
        by_key = {(c.weekday, c.hour): c for c in self.cells}
        return [(WEEKDAYS[d], [by_key[(d, h)] for h in self.hours]) for d in range(7)]

    def level(self, cell: HeatCell, levels: int = 6) -> int:
        """0 (no sale) .. levels - 1 (the busiest slot): the cell's shade."""
        if cell.sales == 0 or self.peak <= 0:
            return 0
        return max(1, min(levels - 1, round(cell.per_week / self.peak * (levels - 1))))


def _parse_utc(text: str) -> datetime | None:
    try:
        return datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _window(as_of: date, days: int, tz_name: str) -> tuple[date, str, str]:
    """The first local day of the ``days`` before ``as_of`` and the UTC bounds of the window."""
    tz = zone(tz_name)
    first = as_of - timedelta(days=days)
    return first, utc_text(local_midnight(first, tz)), utc_text(local_midnight(as_of, tz))


def _from_first_sale(conn: Connection, scope: StoreScope, store_id: str, tz: ZoneInfo, first: date,
                     as_of: date) -> tuple[date, int]:
    """A window's first day and length, moved up to the store's first sale when that is later."""
    began = first_sale_day(conn, scope, store_id, tz)
    if began is not None and first < began < as_of:
        first = began
    return first, (as_of - first).days


def _sales(conn: Connection, scope: StoreScope, store_id: str, start: str, end: str) -> Iterable[Any]:
    tx = t.transactions.c
    return conn.execute(select(tx.completed_at, tx.total, tx.status)
                        .where(tx.store_id == store_id, scope.where(tx.store_id), tx.status.in_(COUNTED),
                               tx.completed_at >= start, tx.completed_at < end))


def daily_actuals(conn: Connection, scope: StoreScope, store_id: str, tz_name: str, as_of: date,
                  days: int = 91) -> list[DayActual]:
    """Net revenue and completed sales per store-local day for the ``days`` days before ``as_of``
    (the run's analysis date), oldest first, days without a sale kept as zeros; from the store's
    first sale on (the days before the hub had any are unknown, not zero)."""
    first, start, end = _window(as_of, days, tz_name)
    tz = zone(tz_name)
    first, days = _from_first_sale(conn, scope, store_id, tz, first, as_of)
    totals: dict[date, list[int]] = {first + timedelta(days=i): [0, 0] for i in range(days)}
    for completed_at, total, status in _sales(conn, scope, store_id, start, end):
        moment = _parse_utc(completed_at)
        if moment is None:
            continue
        day = moment.astimezone(tz).date()
        if day in totals:
            totals[day][0] += int(total)
            totals[day][1] += 1 if status == "completed" else 0
    return [DayActual(d.isoformat(), v[0], v[1]) for d, v in sorted(totals.items())]


def hour_weekday(conn: Connection, scope: StoreScope, store_id: str, tz_name: str, as_of: date,
                 weeks: int = 12) -> HeatMap:
    """Completed sales per store-local weekday and hour over the ``weeks`` weeks before ``as_of``."""
    first, start, end = _window(as_of, weeks * 7, tz_name)
    tz = zone(tz_name)
    counts: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for completed_at, total, status in _sales(conn, scope, store_id, start, end):
        moment = _parse_utc(completed_at)
        if moment is None:
            continue
        local = moment.astimezone(tz)
        slot = counts[(local.weekday(), local.hour)]
        slot[0] += 1 if status == "completed" else 0
        slot[1] += int(total)
    busy = [h for (_, h), (n, _) in counts.items() if n]
    hours = tuple(range(min(busy), max(busy) + 1)) if busy else ()
    cells = tuple(HeatCell(d, h, counts[(d, h)][0] if (d, h) in counts else 0,
                           round((counts[(d, h)][0] if (d, h) in counts else 0) / weeks, 2),
                           counts[(d, h)][1] if (d, h) in counts else 0)
                  for d in range(7) for h in range(24))
    return HeatMap(first.isoformat(), (as_of - timedelta(days=1)).isoformat(), weeks, hours, cells,
                   max((c.per_week for c in cells), default=0.0))


def sku_daily_units(conn: Connection, scope: StoreScope, store_id: str, sku: str, tz_name: str, as_of: date,
                    days: int = 84) -> list[dict[str, Any]]:
    """Units of ``sku`` sold (completed sales; refunds are not negative demand) per store-local day
    over the ``days`` days before ``as_of``, oldest first, zeros kept from the store's first sale on."""
    first, start, end = _window(as_of, days, tz_name)
    tz = zone(tz_name)
    first, days = _from_first_sale(conn, scope, store_id, tz, first, as_of)
    tx, ln = t.transactions.c, t.tx_lines.c
    units: dict[date, int] = {first + timedelta(days=i): 0 for i in range(days)}
    # two indexed reads instead of a join: SQLite's planner drives a join from the sales of the
    # window and rescans the SKU's lines for each (seconds on the retailer's data)
    when = dict(conn.execute(select(tx.tx_id, tx.completed_at).where(
        tx.store_id == store_id, scope.where(tx.store_id), tx.status == "completed", tx.completed_at >= start,
        tx.completed_at < end)).all())
    lines = conn.execute(select(ln.tx_id, ln.qty).where(ln.store_id == store_id, ln.sku == sku,
                                                        scope.where(ln.store_id)))
    for tx_id, qty in lines:
        completed_at = when.get(tx_id)
        if completed_at is None:
            continue
        moment = _parse_utc(completed_at)
        if moment is None:
            continue
        day = moment.astimezone(tz).date()
        if day in units:
            units[day] += int(qty)
    return [{"day": d.isoformat(), "units": n} for d, n in sorted(units.items())]


def medians_by(customers: Iterable[Mapping[str, Any]], key: str) -> dict[str, dict[str, float]]:
    """Median recency (days), frequency (sales) and spend (minor units) of the customers per value
    of ``key`` (``segment`` or ``cluster``), each rounded half up to a whole number (a median of
    an even count may fall between two whole days or sales)."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for c in customers:
        if c.get(key) is not None:
            groups[str(c[key])].append(c)
    def median(rows: list[Mapping[str, Any]], field: str) -> int:
        return int(math.floor(statistics.median(int(c[field]) for c in rows) + 0.5))

    return {name: {"median_recency_days": median(rows, "recency_days"), "median_frequency": median(rows, "frequency"),
                   "median_monetary": median(rows, "monetary")} for name, rows in groups.items()}


def _span(values: tuple[int, ...]) -> str:
    lo, hi = min(values), max(values)
    return str(lo) if lo == hi else f"{lo}-{hi}"


def rfm_rule_text(segment: str) -> str:
    """The cells of the RFM grid that make ``segment``, e.g. ``R 5 and FM 4-5`` (see
    ``analytics.segmentation.rfm.SEGMENT_RULES``; R, F and M are scored 1..5)."""
    parts = [f"R {_span(rs)} and FM {_span(fms)}" for name, rs, fms in SEGMENT_RULES if name == segment]
    return "; or ".join(parts)


def last_purchase(as_of: str | None, recency_days: int | None) -> str | None:
    """The store-local day of a customer's last purchase from the run's analysis date."""
    if not as_of or recency_days is None:
        return None
    return (date.fromisoformat(as_of) - timedelta(days=int(recency_days))).isoformat()
