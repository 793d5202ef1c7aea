"""Read-only reports over the device store for the owner's dashboard.

Everything is computed in the store's local time (``settings.timezone``): a "day" is the local
calendar day, converted to a half-open UTC range ``[start, end)`` before it reaches SQL, so the
``sales_completed`` index does the work; hours of the day are store-local hours (a sale at 02:30Z
in America/Santo_Domingo belongs to 22:30 of the previous day).  Day lengths of 23 or 25 hours
(DST changes) are handled by converting local midnights, never by adding 24 hours.

Money is integer minor units.  Net figures: completed sales count positive, refunds (stored with
negative totals and quantities) subtract, voided sales count nowhere but in ``voided``.

Gross profit (``contracts.margins``): each sale line's revenue is its share of the sale's takings net of
discount and tax (stored with the line), its cost ``qty * unit_cost`` (the weighted average cost when it was
sold).  Lines with no cost are counted apart (``uncosted_revenue``, shown as "no cost") and left out of
profit and margin, never taken as 100 % margin.

"The usual" for a day or an hour is the mean of the same weekday over the previous ``weeks``
weeks (8 by default), counting only weeks on or after the store's first recorded sale, so a store
three weeks old is compared with its three weeks, not diluted by empty weeks before it opened.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from contracts.events import (
    DiscountChange,
    DrawerOpen,
    LineVoid,
    ManualEntry,
    PriceOverride,
    RefundApproval,
    SaleEvent,
    SaleVoid,
    UnknownItem,
    VisionMismatch,
    from_parts,
)
from contracts.margins import line_cost, margin_pct
from contracts.timestamps import format_utc as utc_text
from contracts.timestamps import parse_utc
from edge.store.database import StoreDB
from edge.store.errors import NotFoundError
from edge.store.settings import Settings
from i18n import N_, format_money, ngettext
from i18n import gettext as _

log = logging.getLogger(__name__)

COUNTED = "('completed', 'refunded')"  # statuses that move money
DEFAULT_WEEKS = 8
RATE_WINDOW_DAYS = 14
RUN_OUT_DAYS = 2.0
FLAT_PCT = 5  # a change within +-5 % of the usual reads as "about usual"


# -- time helpers ----------------------------------------------------------------------------

def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[str, str]:
    """The local calendar day ``day`` as a half-open UTC text range."""
    return utc_text(local_midnight(day, zone)), utc_text(local_midnight(day + timedelta(days=1), zone))


def local_wall(day: date, hour: int, minute: int, second: int, zone: ZoneInfo) -> datetime:
    """Local wall-clock time on ``day``; ``hour`` 24 means the next midnight."""
    if hour >= 24:
        return local_midnight(day + timedelta(days=1), zone)
    return datetime.combine(day, time(hour, minute, second), tzinfo=zone)


def change_pct(actual: float, usual: float | None) -> int | None:
    if usual is None or usual <= 0:
        return None
    return round((actual / usual - 1.0) * 100)


def trend_of(pct: int | None) -> str:
    if pct is None:
        return "none"
    if abs(pct) < FLAT_PCT:
        return "flat"
    return "up" if pct > 0 else "down"


# -- records ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Profit:
    """Gross profit of some sale lines: over the lines with a cost only; the rest is ``uncosted_revenue``."""

    revenue: int  # every line's revenue, net of discount and tax
    costed_revenue: int  # the revenue of lines with a cost
    cost: int
    gross_profit: int  # costed_revenue - cost
    margin_pct: float | None  # gross_profit / costed_revenue, one decimal; None with no costed revenue
    uncosted_revenue: int  # revenue of lines with no cost (left out of profit and margin)
    uncosted_products: int  # how many products sold with no cost


def profit_of(row: dict[str, Any]) -> Profit:
    """A :class:`Profit` from an aggregate row of :data:`PROFIT_COLUMNS`."""
    costed, cost = int(row["costed_revenue"] or 0), int(row["cost"] or 0)
    return Profit(revenue=int(row["revenue"] or 0), costed_revenue=costed, cost=cost, gross_profit=costed - cost,
                  margin_pct=margin_pct(costed - cost, costed), uncosted_revenue=int(row["uncosted_revenue"] or 0),
                  uncosted_products=int(row["uncosted_products"] or 0))


# the aggregate columns of a Profit over sale lines ``l``
PROFIT_COLUMNS = (
    "coalesce(sum(l.revenue), 0) AS revenue,"
    " coalesce(sum(CASE WHEN l.unit_cost IS NOT NULL THEN l.revenue END), 0) AS costed_revenue,"
    " coalesce(sum(l.qty * l.unit_cost), 0) AS cost,"
    " coalesce(sum(CASE WHEN l.unit_cost IS NULL THEN l.revenue END), 0) AS uncosted_revenue,"
    " count(DISTINCT CASE WHEN l.unit_cost IS NULL THEN l.sku END) AS uncosted_products")


@dataclass(frozen=True)
class DaySummary:
    date: str  # store-local date
    timezone: str
    currency: str
    net_sales: int  # completed totals minus refunds
    gross_sales: int  # completed totals
    transactions: int  # completed sales
    avg_basket: int  # gross_sales / transactions, rounded
    items_sold: int  # net units (refunded units subtract)
    refunds: int
    refund_total: int  # positive: what was given back
    voided: int
    discounts: int
    tax: int
    open_alerts: int
    profit: Profit | None = None  # gross profit of the day's sales (net of refunds)


@dataclass(frozen=True)
class HourPoint:
    hour: int
    sales: int
    transactions: int
    usual_sales: int | None
    usual_transactions: float | None
    gross_profit: int = 0  # of the lines with a cost
    uncosted_revenue: int = 0  # revenue of lines with no cost, left out of gross_profit


@dataclass(frozen=True)
class HourlySeries:
    date: str
    weekday: str
    usual_weeks: int  # how many earlier same weekdays make up "usual"
    usual_dates: list[str]
    hours: list[HourPoint]


@dataclass(frozen=True)
class TopProduct:
    sku: str
    name: str
    qty: int
    revenue: int  # at the shelf prices rung up (tax included, before the sale's discount)
    transactions: int
    net_revenue: int = 0  # net of discount and tax
    cost: int | None = None  # None: sold with no cost (then no profit either)
    gross_profit: int | None = None  # over the lines with a cost
    margin_pct: float | None = None
    uncosted_revenue: int = 0  # part of net_revenue sold with no cost


def _top_product(r: dict[str, Any]) -> TopProduct:
    costed = r["costed_revenue"] is not None
    profit = int(r["costed_revenue"]) - int(r["cost"] or 0) if costed else None
    return TopProduct(sku=r["sku"], name=r["name"], qty=int(r["qty"]), revenue=int(r["revenue"]),
                      transactions=int(r["tx"]), net_revenue=int(r["net_revenue"] or 0),
                      cost=int(r["cost"] or 0) if costed else None, gross_profit=profit,
                      margin_pct=margin_pct(profit, int(r["costed_revenue"])) if profit is not None else None,
                      uncosted_revenue=int(r["uncosted_revenue"] or 0))


@dataclass(frozen=True)
class PaymentSlice:
    method: str
    amount: int
    transactions: int
    share: float  # of the day's net amount, 0..1


@dataclass(frozen=True)
class AlertRow:
    id: int
    kind: str
    score: float
    reasons: list[str]
    created_at: str
    created_local: str
    tx_id: str | None
    receipt_no: str | None
    sale_total: int | None
    cashier_id: str | None
    acknowledged_at: str | None
    acknowledged_by: str | None


@dataclass(frozen=True)
class StockRow:
    sku: str
    name: str
    category: str
    stock_qty: int
    reorder_level: int
    low: bool  # at or below the reorder level
    daily_rate: float  # units sold per day, recent average
    days_left: float | None  # stock / daily rate; None when it does not sell
    runs_out_soon: bool


@dataclass(frozen=True)
class CreditRow:
    id: str
    name: str
    phone: str
    credit_limit: int
    balance: int
    available: int
    used_pct: int | None
    over_limit: bool
    active: bool
    last_credit_at: str | None


@dataclass(frozen=True)
class Comparison:
    actual: float
    usual: float | None
    change_pct: int | None
    trend: str  # up | down | flat | none


@dataclass(frozen=True)
class Pulse:
    at: str  # local time, ISO
    date: str
    hour: int
    window: str  # "14:00-14:37"
    usual_weeks: int
    sales_this_hour: Comparison
    transactions_this_hour: Comparison
    usual_full_hour_sales: int | None
    usual_full_hour_transactions: float | None
    sales_today: Comparison
    transactions_today: Comparison
    basket_value: Comparison
    basket_items: Comparison
    running_low: list[StockRow] = field(default_factory=list)


def to_json(obj: Any) -> Any:
    """Dataclasses (and lists of them) as plain JSON-able values."""
    if isinstance(obj, list):
        return [to_json(o) for o in obj]
    if hasattr(obj, "__dataclass_fields__"):
        return asdict(obj)
    return obj


def refund_state(status: str, items: int, refunded_items: int) -> str | None:
    """``partly`` / ``fully`` for a completed sale with refunds since (by units), else None."""
    if status != "completed" or refunded_items <= 0:
        return None
    return "fully" if refunded_items >= items else "partly"


# -- event text ------------------------------------------------------------------------------

# how an unknown item was rung up (``UnknownItem.how``), as a person reads it
UNKNOWN_HOW = {"barcode": N_("barcode"), "search": N_("search")}


def describe_event(event: SaleEvent, currency: str, names: dict[str, str]) -> str:
    """A sentence an owner can read for one sale event (a typed record, :mod:`contracts.events`), in the
    current language (:func:`i18n.use_language`; the web request's)."""
    def name(sku: str | None) -> str:
        return names.get(sku, sku) if sku else _("an item")

    def money(v: int | None) -> str:
        return format_money(v, currency) if v is not None else "?"

    reason = getattr(event, "reason", "")
    tail = f" ({reason})" if reason and reason not in ("sale", "refund") else ""
    match event:
        case SaleVoid():
            return ngettext("Whole sale voided with %(num)d line", "Whole sale voided with %(num)d lines",
                            event.lines) + tail
        case LineVoid():
            value = f", {money(event.line_total)}" if event.line_total is not None else ""
            return _("Removed %(qty)s × %(name)s", qty=event.qty, name=event.name or name(event.sku)) + value + tail
        case RefundApproval():
            return _("Refund of receipt %(number)s approved", number=event.of or "?") + tail
        case DiscountChange():
            return _("Discount changed from %(old)s to %(new)s", old=money(event.old_discount),
                     new=money(event.new_discount)) + tail
        case PriceOverride():
            return _("Price of %(name)s changed from %(old)s to %(new)s", name=event.name or name(event.sku),
                     old=money(event.old_price), new=money(event.new_price)) + tail
        case ManualEntry():
            if event.qty:
                return _("%(name)s typed in by hand (qty %(qty)s)", name=name(event.sku), qty=event.qty)
            return _("%(name)s typed in by hand", name=name(event.sku))
        case DrawerOpen():
            if event.no_sale:
                return _("Cash drawer opened without a sale") + tail
            if reason == "refund":
                return _("Cash drawer opened to pay a refund")
            return _("Cash drawer opened for the payment") + tail
        case UnknownItem():
            if event.sku is not None:
                how = _(UNKNOWN_HOW[event.how]) if event.how in UNKNOWN_HOW else event.how
                return _("Camera found an unknown item, rung up as %(name)s by %(how)s", name=name(event.sku), how=how)
            if event.how == "left_tray":
                return _("Camera found an unknown item that went off the tray without being rung up")
            return _("Camera found an unknown item that was removed without being rung up")
        case VisionMismatch():
            if event.rung is not None:
                return _("Camera saw %(seen)s but %(rung)s was rung up", seen=name(event.sku), rung=name(event.rung))
            if event.seen is not None:
                return _("Camera saw %(seen)s × %(name)s on the tray but %(sold)s were sold", seen=event.seen,
                         name=name(event.sku), sold=event.sold or 0)
            return _("Camera and till disagree about %(name)s", name=name(event.sku))
    return event.type.replace("_", " ")


# -- the reports -----------------------------------------------------------------------------

class Reports:
    """Read-only queries for the dashboard.  Whatever depends on the current time takes ``now`` or
    the ``day`` it is about from the caller (the web request reads the clock), never the wall clock."""

    def __init__(self, store_db: StoreDB) -> None:
        self.db = store_db
        self.settings = Settings(store_db)

    # -- basics ------------------------------------------------------------------------------
    def _aggregate(self, sql: str, params: tuple[Any, ...]) -> dict[str, Any]:
        """The one row of an aggregate query (SQL gives one even over no rows)."""
        row = self.db.query_one(sql, params)
        if row is None:
            raise RuntimeError(f"an aggregate query returned no row: {sql[:60]}")
        return row

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.get().timezone)

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone()).date()

    def local_text(self, stamp: str | None, zone: ZoneInfo | None = None) -> str:
        """``2026-03-11T02:30:00Z`` -> ``2026-03-10 22:30`` in store time ("" for None)."""
        if not stamp:
            return ""
        return parse_utc(stamp).astimezone(zone or self.zone()).strftime("%Y-%m-%d %H:%M")

    def first_sale_date(self, zone: ZoneInfo) -> date | None:
        first = self.db.scalar("SELECT min(completed_at) FROM sales")
        return parse_utc(first).astimezone(zone).date() if first else None

    def usual_days(self, day: date, weeks: int, zone: ZoneInfo) -> list[date]:
        """The same weekday in each of the previous ``weeks`` weeks, since the store's first sale."""
        first = self.first_sale_date(zone)
        if first is None:
            return []
        days = [day - timedelta(weeks=k) for k in range(1, max(1, weeks) + 1)]
        return [d for d in days if d >= first]

    def _window(self, start: str, end: str) -> dict[str, int]:
        """Net sales, completed count and gross of sales completed in ``[start, end)``."""
        row = self._aggregate(
            "SELECT coalesce(sum(CASE WHEN status IN " + COUNTED + " THEN total END), 0) AS net,"
            " coalesce(sum(CASE WHEN status = 'completed' THEN total END), 0) AS gross,"
            " coalesce(sum(status = 'completed'), 0) AS tx FROM sales"
            " WHERE completed_at >= ? AND completed_at < ?", (start, end))
        items = self.db.scalar(
            "SELECT coalesce(sum(l.qty), 0) FROM sales s JOIN sale_lines l ON l.tx_id = s.tx_id"
            " WHERE s.completed_at >= ? AND s.completed_at < ? AND s.status = 'completed'", (start, end))
        return {"net": int(row["net"]), "gross": int(row["gross"]), "tx": int(row["tx"]), "items": int(items)}

    # -- the day -----------------------------------------------------------------------------
    def summary(self, day: date) -> DaySummary:
        settings = self.settings.get()
        zone = ZoneInfo(settings.timezone)
        start, end = day_bounds(day, zone)
        row = self._aggregate(
            "SELECT coalesce(sum(CASE WHEN status IN " + COUNTED + " THEN total END), 0) AS net,"
            " coalesce(sum(CASE WHEN status = 'completed' THEN total END), 0) AS gross,"
            " coalesce(sum(status = 'completed'), 0) AS tx,"
            " coalesce(sum(status = 'refunded'), 0) AS refunds,"
            " coalesce(-sum(CASE WHEN status = 'refunded' THEN total END), 0) AS refund_total,"
            " coalesce(sum(status = 'voided'), 0) AS voided,"
            " coalesce(sum(CASE WHEN status IN " + COUNTED + " THEN discount END), 0) AS discounts,"
            " coalesce(sum(CASE WHEN status IN " + COUNTED + " THEN tax END), 0) AS tax"
            " FROM sales WHERE completed_at >= ? AND completed_at < ?", (start, end))
        items = self.db.scalar(
            "SELECT coalesce(sum(l.qty), 0) FROM sales s JOIN sale_lines l ON l.tx_id = s.tx_id"
            " WHERE s.completed_at >= ? AND s.completed_at < ? AND s.status IN " + COUNTED, (start, end))
        open_alerts = self.db.scalar("SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL")
        profit = self.profit(start, end)
        tx = int(row["tx"])
        return DaySummary(date=day.isoformat(), timezone=settings.timezone, currency=settings.currency,
                          net_sales=int(row["net"]), gross_sales=int(row["gross"]), transactions=tx,
                          avg_basket=round(row["gross"] / tx) if tx else 0, items_sold=int(items),
                          refunds=int(row["refunds"]), refund_total=int(row["refund_total"]),
                          voided=int(row["voided"]), discounts=int(row["discounts"]), tax=int(row["tax"]),
                          open_alerts=int(open_alerts), profit=profit)

    def profit(self, start: str, end: str) -> Profit:
        """Gross profit of the sales completed in ``[start, end)`` (UTC text), net of refunds."""
        return profit_of(self._aggregate(
            f"SELECT {PROFIT_COLUMNS} FROM sales s JOIN sale_lines l ON l.tx_id = s.tx_id"
            " WHERE s.completed_at >= ? AND s.completed_at < ? AND s.status IN " + COUNTED, (start, end)))

    def profit_by_hour(self, day: date) -> list[dict[str, int]]:
        """The store-local hours of ``day`` with sales: net revenue, gross profit and revenue with no cost."""
        zone = self.zone()
        revenue, profit, uncosted = self._profit_by_hour(day, zone)
        return [{"hour": h, "revenue": revenue[h], "gross_profit": profit[h], "uncosted_revenue": uncosted[h]}
                for h in range(24) if revenue[h] or profit[h] or uncosted[h]]

    def _profit_by_hour(self, day: date, zone: ZoneInfo) -> tuple[list[int], list[int], list[int]]:
        """Net revenue, gross profit (lines with a cost) and revenue with no cost per store-local hour of ``day``."""
        start, end = day_bounds(day, zone)
        revenue_of, profit, uncosted = [0] * 24, [0] * 24, [0] * 24
        for stamp, revenue, qty, unit_cost in self.db.conn.execute(
                "SELECT s.completed_at, l.revenue, l.qty, l.unit_cost FROM sales s"
                " JOIN sale_lines l ON l.tx_id = s.tx_id WHERE s.completed_at >= ? AND s.completed_at < ?"
                " AND s.status IN " + COUNTED, (start, end)):
            hour = parse_utc(stamp).astimezone(zone).hour
            cost = line_cost(qty, unit_cost)
            revenue_of[hour] += revenue
            if cost is None:
                uncosted[hour] += revenue
            else:
                profit[hour] += revenue - cost
        return revenue_of, profit, uncosted

    def _by_hour(self, day: date, zone: ZoneInfo) -> tuple[list[int], list[int]]:
        """Net sales and completed-sale counts per store-local hour of ``day``."""
        start, end = day_bounds(day, zone)
        sales, count = [0] * 24, [0] * 24
        rows = self.db.conn.execute(
            "SELECT completed_at, status, total FROM sales WHERE completed_at >= ? AND completed_at < ?"
            " AND status IN " + COUNTED, (start, end)).fetchall()
        for stamp, status, total in rows:
            hour = parse_utc(stamp).astimezone(zone).hour
            sales[hour] += total
            if status == "completed":
                count[hour] += 1
        return sales, count

    def hourly(self, day: date, weeks: int = DEFAULT_WEEKS) -> HourlySeries:
        zone = self.zone()
        sales, count = self._by_hour(day, zone)
        usual = self.usual_days(day, weeks, zone)
        u_sales, u_count = [0] * 24, [0] * 24
        for d in usual:
            s, c = self._by_hour(d, zone)
            u_sales = [a + b for a, b in zip(u_sales, s, strict=True)]
            u_count = [a + b for a, b in zip(u_count, c, strict=True)]
        n = len(usual)
        _, profit, uncosted = self._profit_by_hour(day, zone)
        hours = [HourPoint(hour=h, sales=sales[h], transactions=count[h],
                           usual_sales=round(u_sales[h] / n) if n else None,
                           usual_transactions=round(u_count[h] / n, 2) if n else None,
                           gross_profit=profit[h], uncosted_revenue=uncosted[h]) for h in range(24)]
        return HourlySeries(date=day.isoformat(), weekday=day.strftime("%A"), usual_weeks=n,
                            usual_dates=[d.isoformat() for d in usual], hours=hours)

    def top_products(self, day: date, limit: int = 10, by: str = "revenue") -> list[TopProduct]:
        """The day's best sellers by ``revenue`` or by gross ``profit`` (products with no cost last)."""
        start, end = day_bounds(day, self.zone())
        return self.products_between(start, end, limit=limit, by=by, sold_only=True)

    def products_between(self, start: str, end: str, limit: int | None = None, by: str = "revenue",
                         sold_only: bool = False) -> list[TopProduct]:
        """Every product sold (net of refunds) in ``[start, end)`` with revenue, cost and gross profit."""
        if by not in ("revenue", "profit"):
            raise ValueError(f"top products by revenue or profit, not {by!r}")
        order = ("revenue DESC, qty DESC, l.sku" if by == "revenue" else
                 "costed_revenue IS NULL, coalesce(costed_revenue, 0) - coalesce(cost, 0) DESC, revenue DESC, l.sku")
        rows = self.db.query(
            "SELECT l.sku, max(l.name) AS name, sum(l.qty) AS qty, sum(l.line_total) AS revenue,"
            " count(DISTINCT CASE WHEN s.status = 'completed' THEN s.tx_id END) AS tx,"
            " sum(l.revenue) AS net_revenue,"
            " sum(CASE WHEN l.unit_cost IS NOT NULL THEN l.revenue END) AS costed_revenue,"
            " sum(l.qty * l.unit_cost) AS cost, coalesce(sum(CASE WHEN l.unit_cost IS NULL THEN l.revenue END), 0)"
            " AS uncosted_revenue FROM sales s JOIN sale_lines l ON l.tx_id = s.tx_id"
            " WHERE s.completed_at >= ? AND s.completed_at < ? AND s.status IN " + COUNTED +
            f" GROUP BY l.sku {'HAVING sum(l.qty) > 0' if sold_only else ''} ORDER BY {order} LIMIT ?",
            (start, end, -1 if limit is None else limit))
        return [_top_product(r) for r in rows]

    def sale_lines_between(self, start: str, end: str) -> list[dict[str, Any]]:
        """Every line of the sales completed in ``[start, end)`` (voided ones too, marked), oldest first, with
        its revenue net of discount and tax, cost and gross profit (None with no cost)."""
        zone = self.zone()
        rows = self.db.query(
            "SELECT s.receipt_no, s.completed_at, s.status, s.cashier_id, s.payment_method, l.line_no, l.sku, l.name,"
            " l.qty, l.unit_price, l.line_total, l.revenue, l.unit_cost, p.category FROM sales s"
            " JOIN sale_lines l ON l.tx_id = s.tx_id LEFT JOIN products p ON p.sku = l.sku"
            " WHERE s.completed_at >= ? AND s.completed_at < ? ORDER BY s.completed_at, s.seq, l.line_no", (start, end))
        for r in rows:
            r["completed_local"] = self.local_text(r["completed_at"], zone)
            cost = line_cost(r["qty"], r["unit_cost"]) if r["status"] != "voided" else None
            r["cost"], r["gross_profit"] = cost, None if cost is None else r["revenue"] - cost
        return rows

    def payment_mix(self, day: date) -> list[PaymentSlice]:
        zone = self.zone()
        start, end = day_bounds(day, zone)
        rows = self.db.query(
            "SELECT p.method, sum(p.amount) AS amount,"
            " count(DISTINCT CASE WHEN s.status = 'completed' THEN s.tx_id END) AS tx"
            " FROM sales s JOIN payments p ON p.tx_id = s.tx_id"
            " WHERE s.completed_at >= ? AND s.completed_at < ? AND s.status IN " + COUNTED +
            " GROUP BY p.method ORDER BY amount DESC, p.method", (start, end))
        total = sum(max(0, int(r["amount"])) for r in rows)
        return [PaymentSlice(method=r["method"], amount=int(r["amount"]), transactions=int(r["tx"]),
                             share=round(max(0, int(r["amount"])) / total, 4) if total else 0.0) for r in rows]

    # -- alerts, stock, credit ---------------------------------------------------------------
    def alert(self, alert_id: int) -> AlertRow:
        found = self.alerts(limit=1, alert_id=alert_id)
        if not found:
            raise NotFoundError(_("no alert %(alert)s", alert=alert_id))
        return found[0]

    def alerts(self, limit: int = 20, open_only: bool = False, tx_id: str | None = None,
               alert_id: int | None = None) -> list[AlertRow]:
        """Recent alerts, newest first, with the receipt of the sale each is about."""
        zone = self.zone()
        clauses: list[str] = []
        params: list[Any] = []
        if alert_id is not None:
            clauses.append("a.id = ?")
            params.append(alert_id)
        if open_only:
            clauses.append("a.acknowledged_at IS NULL")
        if tx_id is not None:
            clauses.append("a.tx_id = ?")
            params.append(tx_id)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self.db.query(
            "SELECT a.*, s.receipt_no, s.total AS sale_total, s.cashier_id FROM alerts a"
            f" LEFT JOIN sales s ON s.tx_id = a.tx_id {where}"
            " ORDER BY a.created_at DESC, a.id DESC LIMIT ?", (*params, limit))
        return [AlertRow(id=r["id"], kind=r["kind"], score=round(float(r["score"]), 3),
                         reasons=list(json.loads(r["reasons"] or "[]")), created_at=r["created_at"],
                         created_local=self.local_text(r["created_at"], zone), tx_id=r["tx_id"],
                         receipt_no=r["receipt_no"], sale_total=r["sale_total"], cashier_id=r["cashier_id"],
                         acknowledged_at=r["acknowledged_at"], acknowledged_by=r["acknowledged_by"])
                for r in rows]

    def sales_rates(self, now: datetime, window_days: int = RATE_WINDOW_DAYS) -> dict[str, float]:
        """Net units sold per day per SKU over the ``window_days`` before ``now`` (or the store's life if shorter)."""
        since = now - timedelta(days=window_days)
        first = self.db.scalar("SELECT min(completed_at) FROM sales")
        if first is None:
            return {}
        span_days = (now - max(since, parse_utc(first))).total_seconds() / 86400
        days = min(float(window_days), max(1.0, span_days))
        rows = self.db.query(
            "SELECT l.sku, sum(l.qty) AS qty FROM sales s JOIN sale_lines l ON l.tx_id = s.tx_id"
            " WHERE s.completed_at >= ? AND s.completed_at < ? AND s.status IN " + COUNTED + " GROUP BY l.sku",
            (utc_text(since), utc_text(now)))
        return {r["sku"]: max(0.0, r["qty"] / days) for r in rows}

    def stock(self, now: datetime, low_only: bool = False,
              run_out_days: float = RUN_OUT_DAYS) -> list[StockRow]:
        """Active products, those at or below their reorder level first (most short first), then
        those that run out soonest at the recent sales rate, then the rest by name."""
        rates = self.sales_rates(now)
        out = []
        for r in self.db.query("SELECT sku, name, category, stock_qty, reorder_level FROM products WHERE active = 1"):
            rate = rates.get(r["sku"], 0.0)
            days_left = max(0.0, r["stock_qty"] / rate) if rate > 0 else None
            low = r["stock_qty"] <= r["reorder_level"]
            soon = days_left is not None and days_left <= run_out_days
            if low_only and not (low or soon):
                continue
            out.append(StockRow(sku=r["sku"], name=r["name"], category=r["category"], stock_qty=r["stock_qty"],
                                reorder_level=r["reorder_level"], low=low, daily_rate=round(rate, 2),
                                days_left=None if days_left is None else round(days_left, 1), runs_out_soon=soon))
        out.sort(key=lambda s: (not s.low, s.stock_qty - s.reorder_level if s.low else 0,
                                s.days_left if s.days_left is not None else float("inf"), s.name))
        return out

    def credit(self) -> list[CreditRow]:
        """Credit customers (a limit, or a balance), those who owe most first."""
        last = {r["customer_id"]: r["at"] for r in self.db.query(
            "SELECT p.customer_id, max(s.completed_at) AS at FROM payments p JOIN sales s ON s.tx_id = p.tx_id"
            " WHERE p.method = 'credit' AND p.customer_id IS NOT NULL AND s.status = 'completed'"
            " GROUP BY p.customer_id")}
        rows = self.db.query(
            "SELECT * FROM customers WHERE (active = 1 AND credit_limit > 0) OR balance != 0"
            " ORDER BY balance DESC, name")
        out = []
        for r in rows:
            limit, balance = int(r["credit_limit"]), int(r["balance"])
            out.append(CreditRow(id=r["id"], name=r["name"], phone=r["phone"], credit_limit=limit, balance=balance,
                                 available=max(0, limit - balance),
                                 used_pct=round(100 * balance / limit) if limit else None,
                                 over_limit=balance > limit, active=bool(r["active"]),
                                 last_credit_at=last.get(r["id"])))
        return out

    # -- the live pulse ----------------------------------------------------------------------
    def _usual_window(self, days: list[date], zone: ZoneInfo, start_hms: tuple[int, int, int],
                      end_hms: tuple[int, int, int]) -> dict[str, int]:
        total = {"net": 0, "gross": 0, "tx": 0, "items": 0}
        for d in days:
            w = self._window(utc_text(local_wall(d, *start_hms, zone)), utc_text(local_wall(d, *end_hms, zone)))
            for k in total:
                total[k] += w[k]
        return total

    def pulse(self, now: datetime, weeks: int = DEFAULT_WEEKS, run_out_days: float = RUN_OUT_DAYS) -> Pulse:
        """This hour and today so far (at ``now``) against the same stretch of the usual same weekday."""
        zone = self.zone()
        local = now.astimezone(zone)
        day = local.date()
        hms = (local.hour, local.minute, local.second)
        usual = self.usual_days(day, weeks, zone)
        n = len(usual)
        hour_start = local_wall(day, local.hour, 0, 0, zone)
        this_hour = self._window(utc_text(hour_start), utc_text(now + timedelta(seconds=1)))
        today = self._window(day_bounds(day, zone)[0], utc_text(now + timedelta(seconds=1)))
        u_hour = self._usual_window(usual, zone, (local.hour, 0, 0), hms)
        u_full = self._usual_window(usual, zone, (local.hour, 0, 0), (local.hour + 1, 0, 0))
        u_today = self._usual_window(usual, zone, (0, 0, 0), hms)

        def cmp(actual: float, usual_total: float | None, digits: int | None = None,
                comparable: bool = True) -> Comparison:
            usual_value = None if usual_total is None else (
                round(usual_total) if digits is None else round(usual_total, digits))
            pct = change_pct(actual, usual_total) if comparable else None
            return Comparison(actual=actual, usual=usual_value, change_pct=pct, trend=trend_of(pct))

        def mean(total: int) -> float | None:
            return total / n if n else None

        basket_now = round(today["gross"] / today["tx"]) if today["tx"] else 0
        basket_usual = u_today["gross"] / u_today["tx"] if u_today["tx"] else None
        items_now = round(today["items"] / today["tx"], 2) if today["tx"] else 0.0
        items_usual = u_today["items"] / u_today["tx"] if u_today["tx"] else None
        running_low = self.stock(now, low_only=True, run_out_days=run_out_days)
        return Pulse(
            at=local.isoformat(timespec="seconds"), date=day.isoformat(), hour=local.hour,
            window=f"{local.hour:02d}:00–{local.hour:02d}:{local.minute:02d}", usual_weeks=n,
            sales_this_hour=cmp(this_hour["net"], mean(u_hour["net"])),
            transactions_this_hour=cmp(this_hour["tx"], mean(u_hour["tx"]), 2),
            usual_full_hour_sales=round(u_full["net"] / n) if n else None,
            usual_full_hour_transactions=round(u_full["tx"] / n, 2) if n else None,
            sales_today=cmp(today["net"], mean(u_today["net"])),
            transactions_today=cmp(today["tx"], mean(u_today["tx"]), 2),
            # no sale yet today: there is no basket to compare, but the usual one is still shown
            basket_value=cmp(basket_now, basket_usual, comparable=bool(today["tx"])),
            basket_items=cmp(items_now, items_usual, 2, comparable=bool(today["tx"])),
            running_low=running_low)

    # -- sales -------------------------------------------------------------------------------
    def sales(self, day: date | None = None, cashier_id: str | None = None, status: str | None = None,
              limit: int = 100, offset: int = 0) -> dict[str, Any]:
        """Sales newest first with optional filters, plus the count and net total of the whole filter."""
        zone = self.zone()
        clauses, params = [], []
        if day is not None:
            start, end = day_bounds(day, zone)
            clauses += ["s.completed_at >= ?", "s.completed_at < ?"]
            params += [start, end]
        if cashier_id:
            clauses.append("s.cashier_id = ?")
            params.append(cashier_id)
        if status:
            clauses.append("s.status = ?")
            params.append(status)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        agg = self._aggregate(
            f"SELECT count(*) AS n, coalesce(sum(CASE WHEN s.status IN {COUNTED} THEN s.total END), 0) AS net"
            f" FROM sales s {where}", tuple(params))
        rows = self.db.query(
            "SELECT s.tx_id, s.seq, s.receipt_no, s.status, s.cashier_id, u.name AS cashier_name, s.customer_id,"
            " c.name AS customer_name, s.started_at, s.completed_at, s.subtotal, s.discount, s.tax, s.total,"
            " s.payment_method, s.anomaly_score, s.refund_of,"
            " (SELECT count(*) FROM sale_lines l WHERE l.tx_id = s.tx_id) AS line_count,"
            " (SELECT coalesce(sum(l.qty), 0) FROM sale_lines l WHERE l.tx_id = s.tx_id) AS items"
            " FROM sales s LEFT JOIN users u ON u.id = s.cashier_id LEFT JOIN customers c ON c.id = s.customer_id"
            f" {where} ORDER BY s.completed_at DESC, s.seq DESC LIMIT ? OFFSET ?", (*params, limit, offset))
        refunded = self._refunded_items([r["tx_id"] for r in rows if r["status"] == "completed"])
        for r in rows:
            r["refund_state"] = refund_state(r["status"], int(r["items"]), refunded.get(r["tx_id"], 0))
            r["completed_local"] = self.local_text(r["completed_at"], zone)
            if r["anomaly_score"] is not None:
                r["anomaly_score"] = round(float(r["anomaly_score"]), 3)
        return {"count": int(agg["n"]), "net_total": int(agg["net"]), "limit": limit, "offset": offset,
                "sales": rows}

    def _refunded_items(self, tx_ids: list[str]) -> dict[str, int]:
        """Units refunded since, per original sale of ``tx_ids`` (one query for a whole page)."""
        if not tx_ids:
            return {}
        marks = ", ".join("?" * len(tx_ids))
        out: dict[str, int] = {}
        for r in self.db.query(  # the refunds first (few), then their lines by the lines' tx index
                "SELECT r.refund_of, (SELECT -sum(l.qty) FROM sale_lines l WHERE l.tx_id = r.tx_id) AS n"
                f" FROM sales r WHERE r.status = 'refunded' AND r.refund_of IN ({marks})", tuple(tx_ids)):
            out[r["refund_of"]] = out.get(r["refund_of"], 0) + int(r["n"] or 0)
        return out

    def cashiers(self) -> list[dict[str, str]]:
        """Everyone who has rung up a sale, or can (for the sales filter)."""
        rows = self.db.query(
            "SELECT id, name FROM users UNION SELECT DISTINCT cashier_id, cashier_id FROM sales"
            " WHERE cashier_id NOT IN (SELECT id FROM users) ORDER BY 2")
        return [{"id": r["id"], "name": r["name"]} for r in rows]

    def sale_detail(self, tx_id: str) -> dict[str, Any]:
        """One sale with its lines, payments, readable events, anomaly, alerts and refunds."""
        settings = self.settings.get()
        zone = ZoneInfo(settings.timezone)
        row = self.db.query_one(
            "SELECT s.*, u.name AS cashier_name, c.name AS customer_name FROM sales s"
            " LEFT JOIN users u ON u.id = s.cashier_id LEFT JOIN customers c ON c.id = s.customer_id"
            " WHERE s.tx_id = ?", (tx_id,))
        if row is None:
            raise NotFoundError(_("no sale %(sale)s", sale=repr(tx_id)))
        payload = json.loads(row.pop("payload"))
        currency = payload.get("currency") or settings.currency
        lines = self.db.query("SELECT line_no, sku, name, qty, unit_price, line_total, source, confidence,"
                              " unit_cost, revenue FROM sale_lines WHERE tx_id = ? ORDER BY line_no", (tx_id,))
        for ln in lines:
            cost = line_cost(ln["qty"], ln["unit_cost"])
            ln["cost"], ln["gross_profit"] = cost, None if cost is None else ln["revenue"] - cost
        profit = profit_of(self._aggregate(f"SELECT {PROFIT_COLUMNS} FROM sale_lines l WHERE l.tx_id = ?", (tx_id,)))
        payments = self.db.query("SELECT method, amount, tendered, change, customer_id FROM payments"
                                 " WHERE tx_id = ? ORDER BY id", (tx_id,))
        names = {r["sku"]: r["name"] for r in self.db.query("SELECT sku, name FROM products")}
        names.update({ln["sku"]: ln["name"] for ln in lines})
        users = {r["id"]: r["name"] for r in self.db.query("SELECT id, name FROM users")}
        events = []
        for e in self.db.query("SELECT type, at, user_id, detail FROM events WHERE tx_id = ? ORDER BY at, id",
                               (tx_id,)):
            detail = json.loads(e["detail"] or "{}")
            event = from_parts(e["type"], e["at"], detail, e["user_id"])
            by = event.by
            events.append({"type": e["type"], "at": e["at"], "at_local": self.local_text(e["at"], zone),
                           "by": by, "by_name": users.get(by, by) if by else None, "detail": detail,
                           "text": describe_event(event, currency, names)})
        refunds = self.db.query("SELECT tx_id, receipt_no, completed_at, total, cashier_id FROM sales"
                                " WHERE refund_of = ? ORDER BY completed_at", (tx_id,))
        refunded_items = -sum(int(ln["qty"]) for r in refunds for ln in self.db.query(
            "SELECT qty FROM sale_lines WHERE tx_id = ?", (r["tx_id"],)))
        for r in refunds:
            r["completed_local"] = self.local_text(r["completed_at"], zone)
        refund_of = None
        if row["refund_of"]:
            refund_of = self.db.query_one("SELECT tx_id, receipt_no, completed_at, total FROM sales WHERE tx_id = ?",
                                          (row["refund_of"],))
        alerts = to_json(self.alerts(limit=100, tx_id=tx_id))
        return {**row, "currency": currency, "completed_local": self.local_text(row["completed_at"], zone),
                "started_local": self.local_text(row["started_at"], zone),
                "duration_s": int((parse_utc(row["completed_at"]) - parse_utc(row["started_at"])).total_seconds()),
                "lines": lines, "profit": asdict(profit), "payments": payments, "events": events,
                "anomaly": payload.get("anomaly"),
                "alerts": alerts, "refunds": refunds, "refund_of_sale": refund_of,
                "refund_state": refund_state(row["status"], sum(int(ln["qty"]) for ln in lines), refunded_items)}
