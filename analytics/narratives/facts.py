"""The facts of one store for one period: a flat, typed set of named figures that narratives are
written from and checked against.

A period is ``daily`` (one store-local day) or ``weekly`` (the 7 store-local days ending on
``end``).  Figures come from the hub database (sales, lines, alerts) and from the newest analytics
run (forecast, reorder advice, segments; ``analytics.jobs.results``).  Money is integer minor
units in ``value`` and the store's formatted text in ``text``; percentages are percent points
(``12.5`` is 12.5 %); hours are store-local hours 0-23; dates are ``YYYY-MM-DD``.

Nothing here calls a language model: the same facts feed the LLM (as a quoted data block), the
computed narrative and the fact check.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from sqlalchemy import Engine, func, select

from analytics.db import tables as t
from analytics.jobs import results as rs
from analytics.jobs.data import store_info
from analytics.llm.language import language_code, store_language
from contracts.events import (
    DiscountChange,
    DrawerOpen,
    RefundApproval,
    SaleEvent,
    SaleVoid,
    UnknownItem,
    payload_events,
)
from contracts.money import exponent, format_money
from contracts.timestamps import format_utc, parse_utc
from i18n import format_date, format_decimal, format_number, format_percent, formatting_locale
from i18n import format_money as local_money

PERIODS = ("daily", "weekly")
KINDS = ("money", "count", "percent", "number", "hour", "date", "text")
USUAL_WEEKS = 4  # "usual" = the mean of the same weekday (daily) or week (weekly) over this many weeks before
TOP_PRODUCTS = 3
MOVERS = 2
BUSY_HOURS = 2
REORDER_ITEMS = 5


#: the sale events a period's facts count (key ``events_{kind}``), from the typed records of contracts.events
EVENT_FACTS: tuple[tuple[str, str], ...] = (
    ("void_line", "Lines voided in sales"), ("price_override", "Price overrides"),
    ("discount_change", "Discounts set by hand"), ("manual_entry", "Items typed in by hand"),
    ("drawer_open_no_sale", "Cash drawer opened without a sale"), ("vision_mismatch", "Camera/till mismatches"),
)


def fact_kind(event: SaleEvent) -> str | None:
    """The ``events_{kind}`` fact an event counts towards; None for events that are part of an ordinary
    sale (the drawer opening for the sale's own cash payment, a refund's approval)."""
    match event:
        case DrawerOpen():
            return "drawer_open_no_sale" if event.no_sale else None
        case DiscountChange():
            return "discount_change"
        case RefundApproval():
            return None
        case SaleVoid():
            return "sale_void"
        case UnknownItem():  # a product the camera did not know: a mismatch only when it was not rung up
            return None if event.sold else "vision_mismatch"
        case _:
            return event.type


class FactsError(LookupError):
    """The store is unknown or the period is invalid."""


@dataclass(frozen=True)
class Fact:
    key: str
    label: str
    kind: str  # one of KINDS
    value: int | float | str
    text: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fact {self.key!r}: unknown kind {self.kind!r}")


@dataclass
class Facts:
    store_id: str
    store_name: str
    currency: str
    timezone: str
    period: str  # daily | weekly
    start: str  # first store-local day, YYYY-MM-DD
    end: str  # last store-local day (inclusive)
    label: str  # "Friday 30 October 2026" or "24 October - 30 October 2026", in the store's language
    data_version: str
    items: list[Fact] = field(default_factory=list)
    language: str = "en"  # the store's language: generated texts are written, and their numbers read, in it

    def get(self, key: str) -> Fact | None:
        return next((f for f in self.items if f.key == key), None)

    def value(self, key: str, default: Any = None) -> Any:
        f = self.get(key)
        return default if f is None else f.value

    def text(self, key: str, default: str = "") -> str:
        f = self.get(key)
        return default if f is None else f.text

    def keys(self) -> list[str]:
        return [f.key for f in self.items]

    def money_exponent(self) -> int:
        return exponent(self.currency)

    def as_data(self) -> dict[str, Any]:
        """What the model sees (inside a quoted data block): the period and every figure as text."""
        return {"store": self.store_name, "period": self.period, "from": self.start, "to": self.end,
                "label": self.label, "currency": self.currency,
                "facts": [{"key": f.key, "label": f.label, "value": f.text} for f in self.items]}

    def to_json(self) -> dict[str, Any]:
        return {**{k: v for k, v in asdict(self).items() if k != "items"},
                "items": [asdict(f) for f in self.items]}


# -- building ------------------------------------------------------------------------------------

def day_label(day: date, language: str = "en", timezone: str = "UTC") -> str:
    """A day written out in the store's language: ``Friday 30 October 2026`` (English, as before),
    ``viernes, 30 de octubre de 2026``, ``vendredi 30 octobre 2026`` (CLDR's full date of the store's locale)."""
    if language_code(language) == "en":
        return day.strftime("%A %d %B %Y")
    return format_date(day, locale=formatting_locale(language_code(language), timezone), format="full")


def week_label(start: date, end: date, language: str = "en", timezone: str = "UTC") -> str:
    """A run of days in the store's language: ``24 October - 30 October 2026`` (English, as before),
    ``24–30 de octubre de 2026`` (CLDR's interval of the store's locale)."""
    if language_code(language) == "en":
        return f"{start.strftime('%d %B')} - {end.strftime('%d %B %Y')}"
    return str(babel_dates.format_interval(start, end, "yMMMMd",
                                           locale=formatting_locale(language_code(language), timezone)))


class _Builder:
    def __init__(self, currency: str, language: str = "en", timezone: str = "UTC") -> None:
        self.currency = currency
        self.language = language  # date facts are written out in it
        self.timezone = timezone
        self.items: list[Fact] = []

    @property
    def _locale(self) -> str | None:
        """The store's formatting locale (es_DO, fr...); None for English, whose texts stay as they were."""
        code = language_code(self.language)
        return None if code == "en" else formatting_locale(code, self.timezone)

    def money(self, key: str, label: str, minor: int) -> None:
        loc = self._locale
        text = format_money(int(minor), self.currency) if loc is None else local_money(int(minor), self.currency, loc)
        self.items.append(Fact(key, label, "money", int(minor), text))

    def count(self, key: str, label: str, n: int) -> None:
        loc = self._locale
        self.items.append(Fact(key, label, "count", int(n), f"{int(n):,}" if loc is None else format_number(int(n),
                                                                                                           loc)))

    def number(self, key: str, label: str, x: float, digits: int = 1) -> None:
        x = round(float(x), digits)
        loc = self._locale
        text = f"{x:,.{digits}f}" if loc is None else format_decimal(x, loc, digits=digits)
        self.items.append(Fact(key, label, "number", x, text))

    def percent(self, key: str, label: str, pct: float, signed: bool = True) -> None:
        pct = round(float(pct), 1)
        loc = self._locale
        if loc is None:
            text = f"{pct:+.1f}%" if signed else f"{pct:.1f}%"
        else:
            text = format_percent(pct / 100, loc, digits=1)
            text = f"+{text}" if signed and pct > 0 else text
        self.items.append(Fact(key, label, "percent", pct, text))

    def hour(self, key: str, label: str, h: int) -> None:
        self.items.append(Fact(key, label, "hour", int(h), f"{int(h):02d}:00-{(int(h) + 1) % 24:02d}:00"))

    def day(self, key: str, label: str, d: str) -> None:
        self.items.append(Fact(key, label, "date", d, day_label(date.fromisoformat(d), self.language, self.timezone)))

    def text(self, key: str, label: str, s: str) -> None:
        self.items.append(Fact(key, label, "text", s, s))


def _bounds(day_from: date, day_to: date, tz: ZoneInfo) -> tuple[str, str]:
    """UTC text bounds [from, to) of the store-local days ``day_from``..``day_to`` inclusive."""
    a = datetime.combine(day_from, time(0), tz)
    b = datetime.combine(day_to + timedelta(days=1), time(0), tz)
    return format_utc(a), format_utc(b)


def _change(now: float, before: float) -> float | None:
    return None if before <= 0 else 100.0 * (now - before) / before


@dataclass
class _Window:
    revenue: int = 0
    sales: int = 0
    refunds: int = 0
    refund_amount: int = 0
    voids: int = 0


def default_end(engine: Engine, store_id: str, now: datetime | None = None) -> date:
    """The last complete store-local day before ``now``, or the day of the store's last sale when
    that is older (an imported or quiet store)."""
    info = store_info(engine, store_id)
    if info is None:
        raise FactsError(f"store {store_id!r} is not in the hub database")
    tz = ZoneInfo(info.timezone)
    now = now or datetime.now(UTC)
    yesterday = now.astimezone(tz).date() - timedelta(days=1)
    tx = t.transactions.c
    with engine.connect() as conn:
        last = conn.execute(select(func.max(tx.completed_at)).where(tx.store_id == store_id,
                                                                     tx.status == "completed")).scalar()
    if not last:
        return yesterday
    last_day = parse_utc(last).astimezone(tz).date()
    return min(yesterday, last_day)


def build_facts(engine: Engine, store_id: str, period: str = "daily", end: date | None = None,
                allowed: list[str] | None = None, now: datetime | None = None) -> Facts:
    """The facts of ``store_id`` for the ``period`` ending on the store-local day ``end`` (default:
    :func:`default_end`).  ``allowed`` is the caller's store scope (default: just this store)."""
    if period not in PERIODS:
        raise FactsError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    allowed = allowed if allowed is not None else [store_id]
    if store_id not in allowed:
        raise rs.StoreNotAllowed(f"store {store_id!r} is not one of yours")
    info = store_info(engine, store_id)
    if info is None:
        raise FactsError(f"store {store_id!r} is not in the hub database")
    tz = ZoneInfo(info.timezone)
    cur = info.currency
    end = end or default_end(engine, store_id, now)
    days = 1 if period == "daily" else 7
    start = end - timedelta(days=days - 1)
    prev_end, prev_start = start - timedelta(days=1), start - timedelta(days=days)
    usual_from = start - timedelta(days=7 * USUAL_WEEKS)
    wide_from, wide_to = _bounds(usual_from, end, tz)
    tx, ln, al = t.transactions.c, t.tx_lines.c, t.alerts.c

    with engine.connect() as conn:
        rows = conn.execute(select(tx.tx_id, tx.status, tx.completed_at, tx.total, tx.received_at)
                            .where(tx.store_id == store_id, tx.completed_at >= wide_from,
                                   tx.completed_at < wide_to)).all()
        p_from, p_to = _bounds(start, end, tz)
        q_from, _ = _bounds(prev_start, prev_end, tz)
        line_rows = conn.execute(select(ln.sku, ln.name, ln.qty, ln.line_total, tx.completed_at)
                                 .join(t.transactions, t.transactions.c.tx_id == ln.tx_id)
                                 .where(ln.store_id == store_id, tx.store_id == store_id, tx.status == "completed",
                                        tx.completed_at >= q_from, tx.completed_at < p_to)).all()
        payloads = conn.execute(select(tx.payload).where(tx.store_id == store_id, tx.status == "completed",
                                                         tx.completed_at >= p_from, tx.completed_at < p_to)).scalars()
        events: dict[str, int] = defaultdict(int)
        for payload in payloads:
            for ev in payload_events(payload or {}):
                kind = fact_kind(ev)
                if kind is not None:
                    events[kind] += 1
        alert_rows = conn.execute(select(al.score, al.kind).where(al.store_id == store_id, al.raised_at >= p_from,
                                                                  al.raised_at < p_to)).all()

    def local_day(stamp: str) -> datetime:
        return parse_utc(stamp).astimezone(tz)

    per_day: dict[date, _Window] = defaultdict(_Window)
    hours: dict[int, int] = defaultdict(int)
    version_parts: list[Any] = [len(rows)]
    newest = ""
    for _tx_id, status, completed_at, total, received_at in rows:
        moment = local_day(completed_at)
        w = per_day[moment.date()]
        newest = max(newest, received_at or "")
        if status == "completed":
            w.revenue += int(total)
            w.sales += 1
            if start <= moment.date() <= end:
                hours[moment.hour] += 1
        elif status == "refunded":
            w.revenue += int(total)
            w.refunds += 1
            w.refund_amount += abs(int(total))
        elif status == "voided":
            w.voids += 1

    def window(a: date, b: date) -> _Window:
        out = _Window()
        d = a
        while d <= b:
            w = per_day.get(d)
            if w:
                out.revenue += w.revenue
                out.sales += w.sales
                out.refunds += w.refunds
                out.refund_amount += w.refund_amount
                out.voids += w.voids
            d += timedelta(days=1)
        return out

    now_w, prev_w = window(start, end), window(prev_start, prev_end)
    usual = [window(start - timedelta(days=7 * k), end - timedelta(days=7 * k)) for k in range(1, USUAL_WEEKS + 1)]
    first_sale = min(per_day) if per_day else None
    usual = [u for k, u in enumerate(usual, 1)
             if first_sale is not None and start - timedelta(days=7 * k) >= first_sale]

    language = store_language(info.settings)
    b = _Builder(cur, language, info.timezone)
    noun = "day" if period == "daily" else "week"
    b.count("period_days", "Days in the period", days)
    b.money("revenue", "Revenue (sales less refunds)", now_w.revenue)
    b.count("sales", "Sales (completed)", now_w.sales)
    if now_w.sales:
        b.money("avg_basket", "Average sale", round(now_w.revenue / now_w.sales))
    b.money("revenue_prev", f"Revenue the {noun} before", prev_w.revenue)
    b.count("sales_prev", f"Sales the {noun} before", prev_w.sales)
    if (c := _change(now_w.revenue, prev_w.revenue)) is not None:
        b.percent("revenue_vs_prev_pct", f"Revenue change vs the {noun} before", c)
    if (c := _change(now_w.sales, prev_w.sales)) is not None:
        b.percent("sales_vs_prev_pct", f"Sales count change vs the {noun} before", c)
    if usual:
        u_rev = round(sum(u.revenue for u in usual) / len(usual))
        u_sales = sum(u.sales for u in usual) / len(usual)
        what = f"usual {end.strftime('%A')}" if period == "daily" else "usual week"
        b.count("usual_weeks", "Weeks the usual is averaged over", len(usual))
        b.money("revenue_usual", f"Revenue on a {what}", u_rev)
        b.number("sales_usual", f"Sales on a {what}", u_sales)
        if (c := _change(now_w.revenue, u_rev)) is not None:
            b.percent("revenue_vs_usual_pct", f"Revenue change vs a {what}", c)
        if (c := _change(now_w.sales, u_sales)) is not None:
            b.percent("sales_vs_usual_pct", f"Sales count change vs a {what}", c)
    b.count("refunds", "Refunds", now_w.refunds)
    if now_w.refunds:
        b.money("refund_amount", "Refunded", now_w.refund_amount)
    b.count("voided_sales", "Voided sales", now_w.voids)
    for kind, label in EVENT_FACTS:
        if events.get(kind):
            b.count(f"events_{kind}", label, events[kind])

    # products: this period vs the one before
    cur_p: dict[str, list[Any]] = {}
    prev_p: dict[str, int] = defaultdict(int)
    p_from_local = start
    for sku, name, qty, line_total, completed_at in line_rows:
        d = local_day(completed_at).date()
        if d >= p_from_local:
            entry = cur_p.setdefault(sku, [name, 0, 0])
            entry[0], entry[1], entry[2] = name, entry[1] + int(qty), entry[2] + int(line_total)
        else:
            prev_p[sku] += int(line_total)
    top = sorted(cur_p.items(), key=lambda kv: (-kv[1][2], kv[0]))[:TOP_PRODUCTS]
    if top:
        b.count("top_products_count", "Top products listed", len(top))
    for i, (_sku, (name, units, revenue)) in enumerate(top, 1):
        b.text(f"top_product_{i}_name", f"Top product {i}", name)
        b.count(f"top_product_{i}_units", f"Top product {i} units", units)
        b.money(f"top_product_{i}_revenue", f"Top product {i} revenue", revenue)
    deltas = {sku: cur_p.get(sku, [None, 0, 0])[2] - prev_p.get(sku, 0) for sku in set(cur_p) | set(prev_p)}
    names = {sku: v[0] for sku, v in cur_p.items()}
    if prev_p:
        with engine.connect() as conn:
            missing = [s for s in prev_p if s not in names]
            if missing:
                for sku, name in conn.execute(select(ln.sku, func.max(ln.name)).where(
                        ln.store_id == store_id, ln.sku.in_(missing[:500])).group_by(ln.sku)).all():
                    names[sku] = name
        ups = sorted(((d, s) for s, d in deltas.items() if d > 0), key=lambda x: (-x[0], x[1]))[:MOVERS]
        downs = sorted(((d, s) for s, d in deltas.items() if d < 0), key=lambda x: (x[0], x[1]))[:MOVERS]
        for label, group in (("up", ups), ("down", downs)):
            for i, (d, sku) in enumerate(group, 1):
                b.text(f"mover_{label}_{i}_name", f"Product {'up' if label == 'up' else 'down'} most #{i}",
                       names.get(sku, sku))
                b.money(f"mover_{label}_{i}_revenue", f"Its revenue this {noun}", cur_p.get(sku, [None, 0, 0])[2])
                b.money(f"mover_{label}_{i}_revenue_prev", f"Its revenue the {noun} before", prev_p.get(sku, 0))
                b.money(f"mover_{label}_{i}_change", "Its revenue change", d)

    for i, (h, n) in enumerate(sorted(hours.items(), key=lambda kv: (-kv[1], kv[0]))[:BUSY_HOURS], 1):
        b.hour(f"busy_hour_{i}", f"Busiest hour #{i}", h)
        b.count(f"busy_hour_{i}_sales", f"Sales in busiest hour #{i}", n)

    anomalies = [r for r in alert_rows if r.kind == "anomaly"]
    b.count("alerts", "Anomaly alerts", len(anomalies))
    if anomalies:
        b.number("alerts_top_score", "Highest anomaly score", max(float(r.score) for r in anomalies), 2)
    health = [r for r in alert_rows if r.kind != "anomaly"]
    if health:
        b.count("health_alerts", "Device health alerts", len(health))

    run_id = _analytics(b, engine, store_id, allowed, period, end, cur)
    b.day("period_start", "First day", start.isoformat())
    if end != start:
        b.day("period_end", "Last day", end.isoformat())

    label = (day_label(end, language, info.timezone) if period == "daily"
             else week_label(start, end, language, info.timezone))
    version_parts += [newest, run_id or "", start.isoformat(), end.isoformat(), len(line_rows), len(alert_rows)]
    data_version = hashlib.sha256(json.dumps(version_parts, default=str).encode()).hexdigest()[:24]
    return Facts(store_id, info.name, cur, info.timezone, period, start.isoformat(), end.isoformat(), label,
                 data_version, b.items, language)


def _analytics(b: _Builder, engine: Engine, store_id: str, allowed: list[str], period: str, end: date,
               cur: str) -> str | None:
    """Figures from the newest analytics run: the forecast after the period, reorder items, segments."""
    run = rs.latest_run(engine, store_id, allowed)
    if run is None:
        return None
    rid = run["run_id"]
    next_days = [(end + timedelta(days=i)).isoformat() for i in range(1, 2 if period == "daily" else 8)]
    revenue = {r["day"]: r for r in rs.store_forecast(engine, store_id, allowed, "revenue", rid)}
    sales = {r["day"]: r for r in rs.store_forecast(engine, store_id, allowed, "sales", rid)}
    if all(d in revenue for d in next_days):
        what = "next day" if period == "daily" else "next 7 days"
        b.money("forecast_revenue", f"Expected revenue, {what}", sum(int(revenue[d]["mean"]) for d in next_days))
        b.money("forecast_revenue_lo80", f"Expected revenue, {what}, low end of the 80% range",
                sum(int(revenue[d]["lo80"]) for d in next_days))
        b.money("forecast_revenue_hi80", f"Expected revenue, {what}, high end of the 80% range",
                sum(int(revenue[d]["hi80"]) for d in next_days))
        if all(d in sales for d in next_days):
            b.count("forecast_sales", f"Expected sales, {what}", round(sum(float(sales[d]["mean"]) for d in next_days)))
        b.day("forecast_from", "Forecast from", next_days[0])
    order_now = rs.reorder_list(engine, store_id, allowed, only_order_now=True, limit=REORDER_ITEMS, run_id=rid)
    if order_now:  # the whole count, as the morning insights say it, not the length of the list shown
        b.count("reorder_count", "Products to reorder now",
                rs.advice_counts(engine, store_id, allowed, rid)["order_now"])
        for i, r in enumerate(order_now[:REORDER_ITEMS], 1):
            b.text(f"reorder_{i}_name", f"Reorder #{i}", r["name"])
            b.count(f"reorder_{i}_qty", f"Reorder #{i} quantity", r["order_qty"] or 0)
            if r.get("stockout_date"):
                b.day(f"reorder_{i}_stockout", f"Reorder #{i} may run out on", r["stockout_date"])
    rfm = {s["segment"]: s for s in rs.segments(engine, store_id, allowed, "rfm", rid)}
    for name, key in (("Champions", "champions"), ("At risk", "at_risk"), ("Can't lose", "cant_lose")):
        if name in rfm:
            b.count(f"segment_{key}", f"Customers in {name}", rfm[name]["members"])
            b.percent(f"segment_{key}_revenue_share", f"{name}' share of customer revenue",
                      100 * float(rfm[name]["revenue_share"]), signed=False)
    moved = rs.movers(engine, store_id, allowed, limit=1, run_id=rid)["transitions"]
    if moved.get("previous_run"):
        b.count("segment_moves", "Customers who changed segment since the last run", moved.get("moved", 0))
    churn = rs.churn_risk_list(engine, store_id, allowed, limit=200, run_id=rid)
    high = [c for c in churn if (c["churn_risk"] or 0) >= 0.7]
    if churn:
        b.count("churn_high", "Customers with a high risk (70%+) of not coming back", len(high))
    return rid
