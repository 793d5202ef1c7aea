"""Stores as the hub sees them: which exist (the ``stores`` table, plus any store a device or the
registry names), their sales today and over the last 7 days in the store's own time zone, daily
sales, recent sales and alerts.

Sales follow the device's rules: completed and refunded sales move money (refunds carry negative
totals), voided ones count nowhere; "transactions" counts completed sales.  Days are store-local:
a store's "today" starts at its local midnight (UTC when the hub does not know its time zone).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, Connection, case, func, select

from analytics.db import fleet_tables as ft
from analytics.db import tables as t
from analytics.web.tenancy import StoreScope
from i18n.reasons import localized_reasons

COUNTED = ("completed", "refunded")


@dataclass(frozen=True)
class StoreInfo:
    store_id: str
    name: str
    timezone: str
    currency: str | None
    known: bool  # has a row in ``stores`` (else the name is the id and the zone UTC)


@dataclass(frozen=True)
class StoreRow:
    store_id: str
    name: str
    timezone: str
    currency: str | None
    devices: int
    online: int
    last_heard: str | None
    sales_today: int
    transactions_today: int
    sales_7d: int
    transactions_7d: int


@dataclass
class _DeviceTally:
    """A store's devices as the hub last heard of them."""

    devices: int = 0
    online: int = 0
    last_heard: str | None = None


@dataclass(frozen=True)
class DaySales:
    date: str  # store-local YYYY-MM-DD
    sales: int
    transactions: int
    currency: str | None


@dataclass(frozen=True)
class SaleRow:
    tx_id: str
    completed_at: str
    device_id: str
    seq: int
    status: str
    cashier_id: str
    items: int
    total: int
    currency: str
    anomaly_score: float | None
    customer_id: str | None


@dataclass(frozen=True)
class AlertRow:
    alert_id: str
    raised_at: str
    device_id: str
    kind: str
    score: float
    reasons: list[str]  # as the device wrote them (English)
    tx_id: str | None
    model: str | None
    reasons_text: list[str] = field(default_factory=list)  # re-worded in the reader's language (i18n.reasons)
    state: str = "open"  # open, or how the store closed it: acknowledged (a person) or cleared (the condition)
    closed_at: str | None = None


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz)


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def known_stores(conn: Connection, scope: StoreScope, store_id: str | None = None) -> dict[str, StoreInfo]:
    """Every store in scope the hub knows of (or just ``store_id``), by id.  For a listed scope
    (owners, viewers) the listed stores count as known even before they send anything."""
    def limit(column: ColumnElement[str]) -> ColumnElement[bool]:  # a store id column -> its WHERE clause
        clause = scope.where(column)
        return clause if store_id is None else clause & (column == store_id)

    out: dict[str, StoreInfo] = {}
    for r in conn.execute(select(t.stores).where(limit(t.stores.c.store_id))).mappings():
        out[r["store_id"]] = StoreInfo(r["store_id"], r["name"], r["timezone"], r["currency"], True)
    others: set[str] = set()
    for table in (t.devices, ft.device_registry):
        others.update(conn.execute(select(table.c.store_id).distinct().where(limit(table.c.store_id))).scalars())
    if not scope.all_stores:  # an owner's store that has not spoken yet is still theirs
        others.update(s for s in scope.store_ids if store_id is None or s == store_id)
    for sid in others - set(out):
        out[sid] = StoreInfo(sid, sid, "UTC", None, False)
    return out


def store_zones(conn: Connection, scope: StoreScope) -> dict[str, str]:
    """``{store_id: IANA zone}`` of the stores in scope the hub has a row for (the rest read as UTC)."""
    s = t.stores.c
    return {r.store_id: r.timezone for r in conn.execute(select(s.store_id, s.timezone).where(scope.where(s.store_id)))}


def store_info(conn: Connection, scope: StoreScope, store_id: str) -> StoreInfo | None:
    """The store, or None when it is outside ``scope`` or unknown to the hub."""
    if not scope.allows(store_id):
        return None
    info = known_stores(conn, scope, store_id).get(store_id)
    if info is not None and info.currency is None:
        cur = conn.execute(select(t.transactions.c.currency).where(
            t.transactions.c.store_id == store_id, scope.where(t.transactions.c.store_id))
            .order_by(t.transactions.c.completed_at.desc()).limit(1)).scalar()
        info = StoreInfo(info.store_id, info.name, info.timezone, cur, info.known)
    return info


def _sales_windows(conn: Connection, scope: StoreScope, stores: dict[str, StoreInfo],
                   now: datetime) -> dict[str, dict]:
    """Per store: sales and transactions today and over the last 7 local days, and the currency."""
    tx = t.transactions.c
    by_zone: dict[str, list[str]] = defaultdict(list)
    for info in stores.values():
        by_zone[info.timezone].append(info.store_id)
    out: dict[str, dict] = {}
    for zone_name, ids in by_zone.items():
        tz = zone(zone_name)
        today = local_today(now, tz)
        today_start = utc_text(local_midnight(today, tz))
        week_start = utc_text(local_midnight(today - timedelta(days=6), tz))
        is_today = tx.completed_at >= today_start
        completed = tx.status == "completed"
        q = (select(tx.store_id,
                    func.coalesce(func.sum(case((is_today, tx.total), else_=0)), 0),
                    func.count(case((is_today & completed, 1))),
                    func.coalesce(func.sum(tx.total), 0),
                    func.count(case((completed, 1))),
                    func.max(tx.currency))
             .where(tx.store_id.in_(sorted(ids)), scope.where(tx.store_id), tx.completed_at >= week_start,
                    tx.status.in_(COUNTED))
             .group_by(tx.store_id))
        for store_id, s_today, n_today, s_week, n_week, currency in conn.execute(q):
            out[store_id] = {"sales_today": int(s_today), "transactions_today": int(n_today),
                             "sales_7d": int(s_week), "transactions_7d": int(n_week), "currency": currency}
    return out


def store_rows(conn: Connection, scope: StoreScope, now: datetime) -> list[StoreRow]:
    """The store list: one row per store in scope, sorted by name."""
    stores = known_stores(conn, scope)
    if not stores:
        return []
    sales = _sales_windows(conn, scope, stores, now)
    dev: defaultdict[str, _DeviceTally] = defaultdict(_DeviceTally)
    for store_id, online, last_seen in conn.execute(
            select(t.devices.c.store_id, t.devices.c.online, t.devices.c.last_seen)
            .where(scope.where(t.devices.c.store_id))):
        d = dev[store_id]
        d.devices += 1
        d.online += 1 if online else 0
        d.last_heard = max(filter(None, (d.last_heard, last_seen)), default=None)
    registry: defaultdict[str, set[str]] = defaultdict(set)
    for store_id, device_id in conn.execute(select(ft.device_registry.c.store_id, ft.device_registry.c.device_id)
                                            .where(scope.where(ft.device_registry.c.store_id))):
        registry[store_id].add(device_id)
    seen: defaultdict[str, set[str]] = defaultdict(set)
    for store_id, device_id in conn.execute(select(t.devices.c.store_id, t.devices.c.device_id)
                                            .where(scope.where(t.devices.c.store_id))):
        seen[store_id].add(device_id)
    out = []
    for info in stores.values():
        s = sales.get(info.store_id, {})
        d = dev[info.store_id]
        out.append(StoreRow(
            store_id=info.store_id, name=info.name, timezone=info.timezone,
            currency=info.currency or s.get("currency"),
            devices=len(registry[info.store_id] | seen[info.store_id]), online=d.online, last_heard=d.last_heard,
            sales_today=s.get("sales_today", 0), transactions_today=s.get("transactions_today", 0),
            sales_7d=s.get("sales_7d", 0), transactions_7d=s.get("transactions_7d", 0)))
    return sorted(out, key=lambda r: (r.name.lower(), r.store_id))


def first_sale_day(conn: Connection, scope: StoreScope, store_id: str, tz: ZoneInfo) -> date | None:
    """The store-local day of the store's first sale the hub holds (None: none yet).  A daily series
    starts there: the days before it are not days without sales but days the hub knows nothing of."""
    tx = t.transactions.c
    first = conn.execute(select(func.min(tx.completed_at)).where(
        tx.store_id == store_id, scope.where(tx.store_id), tx.status.in_(COUNTED))).scalar()
    if not first:
        return None
    try:
        moment = datetime.strptime(str(first)[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment.astimezone(tz).date()


def daily_sales(conn: Connection, scope: StoreScope, info: StoreInfo, now: datetime, days: int = 14) -> list[DaySales]:
    """Sales per store-local day, oldest first, the last ``days`` days including today (zeros kept),
    from the store's first sale on (no zeros for the days before the hub had any of its sales)."""
    tz = zone(info.timezone)
    today = local_today(now, tz)
    first = today - timedelta(days=days - 1)
    began = first_sale_day(conn, scope, info.store_id, tz)
    if began is not None and first < began <= today:
        days, first = (today - began).days + 1, began
    tx = t.transactions.c
    totals: dict[date, list[int]] = {first + timedelta(days=i): [0, 0] for i in range(days)}
    currency = info.currency
    for completed_at, total, status, cur in conn.execute(
            select(tx.completed_at, tx.total, tx.status, tx.currency)
            .where(tx.store_id == info.store_id, scope.where(tx.store_id), tx.status.in_(COUNTED),
                   tx.completed_at >= utc_text(local_midnight(first, tz)))):
        try:
            moment = datetime.strptime(completed_at[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            continue
        day = moment.astimezone(tz).date()
        if day in totals:
            totals[day][0] += int(total)
            totals[day][1] += 1 if status == "completed" else 0
        currency = currency or cur
    return [DaySales(d.isoformat(), v[0], v[1], currency) for d, v in sorted(totals.items())]


def recent_sales(conn: Connection, scope: StoreScope, store_id: str, since: str | None = None,
                 limit: int = 200) -> list[SaleRow]:
    """A store's sales (all statuses), newest first; ``since`` is an ISO-8601 UTC bound."""
    tx, ln = t.transactions.c, t.tx_lines.c
    items = (select(ln.tx_id, func.sum(ln.qty).label("items")).where(ln.store_id == store_id)
             .group_by(ln.tx_id).subquery())
    q = (select(tx.tx_id, tx.completed_at, tx.device_id, tx.seq, tx.status, tx.cashier_id, tx.total, tx.currency,
                tx.anomaly_score, tx.customer_id, func.coalesce(items.c["items"], 0).label("items"))
         .select_from(t.transactions.outerjoin(items, items.c.tx_id == tx.tx_id))
         .where(tx.store_id == store_id, scope.where(tx.store_id))
         .order_by(tx.completed_at.desc(), tx.seq.desc()).limit(limit))
    if since:
        q = q.where(tx.completed_at >= since)
    return [SaleRow(tx_id=r["tx_id"], completed_at=r["completed_at"], device_id=r["device_id"], seq=int(r["seq"]),
                    status=r["status"], cashier_id=r["cashier_id"], items=int(r["items"] or 0), total=int(r["total"]),
                    currency=r["currency"], anomaly_score=r["anomaly_score"], customer_id=r["customer_id"])
            for r in conn.execute(q).mappings()]


def store_alerts(conn: Connection, scope: StoreScope, store_id: str, limit: int = 100,
                 currency: str | None = None) -> list[AlertRow]:
    """The store's alerts, newest first, their reasons also re-worded in the current language (amounts in
    ``currency``, the store's, written the reader's way)."""
    a = t.alerts.c
    q = (select(t.alerts).where(a.store_id == store_id, scope.where(a.store_id))
         .order_by(a.raised_at.desc(), a.alert_id).limit(limit))
    return [AlertRow(alert_id=r["alert_id"], raised_at=r["raised_at"], device_id=r["device_id"], kind=r["kind"],
                     score=float(r["score"]), reasons=[str(x) for x in (r["reasons"] or [])], tx_id=r["tx_id"],
                     model=r["model"], reasons_text=localized_reasons(r["reasons"] or [], currency),
                     state=r["closed_how"] or "open", closed_at=r["closed_at"])
            for r in conn.execute(q).mappings()]
