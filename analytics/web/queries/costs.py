"""Costs, gross profit and margins from the sales themselves, per store and SKU.

- :func:`current_costs`: each product's current unit cost in a store (the cost of its newest
  completed sale line that had one, kept by ``analytics.ingest.costs``) and whether it is assumed
  (the importer made it up from a default margin) or where it came from.
- :func:`daily_history`: per SKU and store-local day, units sold, revenue, and the cost and the
  revenue of the lines whose cost is known (so a margin is never computed over lines without one).
- :func:`product_margins`: the same summed over a period per SKU, with the current price and cost,
  gross profit, margin and whether the product loses money.

Rules (those of the other analytics queries): completed and refunded sales move money (refunds
carry negative quantities and totals, and give their cost back); voided ones count nowhere; units
sold are those of completed sales.  A line without a cost (``tillsight.tx/1``, a till that had no
cost for the product) counts in revenue but in neither cost nor profit: never as a 100 % margin.
Revenue is the lines' totals as the other pages show them (prices on the shelf include tax);
profit is measured against the costed lines' revenue net of discount and tax (``contracts.margins``,
the device's definition): gross profit = net revenue - qty x unit cost, margin = profit / net revenue.
Money is integer minor units; days are store-local.  Every function takes the user's
:class:`StoreScope` (a store outside it reads nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from analytics.db import tables as t
from analytics.web.queries.stores import COUNTED, local_midnight, utc_text, zone
from analytics.web.tenancy import StoreScope


@dataclass(frozen=True)
class ProductCost:
    sku: str
    unit_cost: int  # minor units
    assumed: bool  # made up from a default margin at import, not a cost anyone paid
    source: str  # "till" (the device's weighted average cost), "import" (a file's column), "default_margin"
    as_of: str  # UTC time of the sale it was last seen on


@dataclass(frozen=True)
class SkuDay:
    sku: str
    day: str  # store-local YYYY-MM-DD
    units: int  # units sold in completed sales
    revenue: int  # line totals net of refunds, all lines
    costed_revenue: int  # the lines with a known cost: net of refunds, discount and tax
    cost: int  # sum of qty x unit cost over those lines (refunds give theirs back)
    assumed: bool  # some of the day's cost is assumed
    min_price: int | None  # lowest and highest unit price of the day's completed lines
    max_price: int | None

    @property
    def gross_profit(self) -> int:
        return self.costed_revenue - self.cost


@dataclass(frozen=True)
class ProductMargin:
    sku: str
    name: str
    units: int
    revenue: int  # line totals net of refunds
    costed_revenue: int  # the lines with a known cost: net of refunds, discount and tax
    cost: int
    gross_profit: int | None  # None: no line of the period had a cost
    margin: float | None  # gross profit / costed revenue (0.25 = 25 %); None without costed revenue
    cost_coverage: float  # share of the revenue (line totals) whose cost is known (0..1)
    price: int | None  # unit price of the newest completed line of the period (as charged, tax included)
    net_price: int | None  # the same net of discount and tax, what a unit brings in
    unit_cost: int | None  # current cost (product_costs)
    unit_margin: float | None  # (net price - unit cost) / net price at the newest price and current cost
    assumed: bool  # the cost shown (or some of the period's) is assumed
    cost_source: str | None
    costed_units: int = 0  # of ``units``, those sold with a known cost

    @property
    def loses_money(self) -> bool:
        """Sold at a loss over the period, or a unit now brings in less than it costs.  A product whose
        refunds outweigh its sales in the period (net revenue below zero) is not counted as sold at a loss."""
        return (self.gross_profit is not None and self.gross_profit < 0 and self.costed_revenue > 0) or (
            self.net_price is not None and self.unit_cost is not None and self.net_price < self.unit_cost)

    def as_row(self) -> dict[str, Any]:
        return {"sku": self.sku, "name": self.name, "units": self.units, "revenue": self.revenue,
                "cost": self.cost if self.gross_profit is not None else None, "gross_profit": self.gross_profit,
                "margin": self.margin, "cost_coverage": self.cost_coverage, "price": self.price,
                "net_price": self.net_price,
                "unit_cost": self.unit_cost, "unit_margin": self.unit_margin, "assumed": self.assumed,
                "cost_source": self.cost_source, "loses_money": self.loses_money}


def current_costs(conn: Connection, scope: StoreScope, store_id: str,
                  skus: Iterable[str] | None = None) -> dict[str, ProductCost]:
    """SKU -> its current unit cost in ``store_id`` (SKUs never sold with a cost are absent)."""
    pc = t.product_costs.c
    q = select(pc.sku, pc.unit_cost, pc.assumed, pc.source, pc.as_of).where(
        pc.store_id == store_id, scope.where(pc.store_id))
    if skus is not None:
        wanted = sorted(set(skus))
        if not wanted:
            return {}
        q = q.where(pc.sku.in_(wanted))
    return {r.sku: ProductCost(r.sku, int(r.unit_cost), bool(r.assumed), r.source, r.as_of) for r in conn.execute(q)}


def _bounds(tz_name: str, start: date, end: date) -> tuple[str, str]:
    tz = zone(tz_name)
    return utc_text(local_midnight(start, tz)), utc_text(local_midnight(end, tz))


def _line_sums(conn: Connection, scope: StoreScope, store_id: str, lo: str, hi: str,
               skus: Iterable[str] | None) -> Any:
    """Per line of the window (joined to its sale), what the sums need."""
    tx, ln = t.transactions.c, t.tx_lines.c
    q = (select(ln.sku, ln.name, tx.completed_at, tx.status, ln.qty, ln.unit_price, ln.line_total, ln.unit_cost,
                ln.cost_assumed, func.coalesce(ln.net_revenue, ln.line_total).label("net_revenue"))
         .select_from(t.transactions.join(t.tx_lines, tx.tx_id == ln.tx_id))
         .where(tx.store_id == store_id, scope.where(tx.store_id), tx.status.in_(COUNTED),
                tx.completed_at >= lo, tx.completed_at < hi)
         .order_by(tx.completed_at, ln.tx_id, ln.line_no))
    if skus is not None:
        q = q.where(ln.sku.in_(sorted(set(skus))))
    return conn.execute(q)


def daily_history(conn: Connection, scope: StoreScope, store_id: str, tz_name: str, start: date, end: date,
                  skus: Iterable[str] | None = None) -> list[SkuDay]:
    """Per SKU and store-local day in [``start``, ``end``): what sold, at what revenue and cost;
    sorted by SKU then day.  Sparse: a day without a line of the SKU is absent (zero units)."""
    tz = zone(tz_name)
    lo, hi = _bounds(tz_name, start, end)
    acc: dict[tuple[str, str], list[Any]] = {}
    days: dict[str, str | None] = {}  # completed_at -> local day: a sale's lines share its time

    def local_day(completed_at: str) -> str | None:
        if completed_at not in days:
            try:
                moment = datetime.strptime(completed_at[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
                days[completed_at] = moment.astimezone(tz).date().isoformat()
            except (TypeError, ValueError):
                days[completed_at] = None
        return days[completed_at]

    # [units, revenue, costed_revenue, cost, assumed, min_price, max_price] per (sku, day); rows unpacked as
    # tuples (a few hundred thousand lines for a year of a busy store)
    for sku, _name, completed_at, status, qty, unit_price, line_total, unit_cost, assumed, net in _line_sums(
            conn, scope, store_id, lo, hi, skus):
        day = local_day(completed_at)
        if day is None:
            continue
        a = acc.get((sku, day))
        if a is None:
            a = acc[(sku, day)] = [0, 0, 0, 0, False, None, None]
        a[1] += line_total
        if status == "completed" and qty > 0:
            a[0] += qty
            a[5] = unit_price if a[5] is None else min(a[5], unit_price)
            a[6] = unit_price if a[6] is None else max(a[6], unit_price)
        if unit_cost is not None:
            a[2] += net
            a[3] += qty * unit_cost
            a[4] = a[4] or bool(assumed)
    return [SkuDay(sku, day, int(v[0]), int(v[1]), int(v[2]), int(v[3]), bool(v[4]), v[5], v[6])
            for (sku, day), v in sorted(acc.items())]


def product_margins(conn: Connection, scope: StoreScope, store_id: str, tz_name: str, as_of: date,
                    days: int = 28, skus: Iterable[str] | None = None) -> list[ProductMargin]:
    """Per SKU sold in the ``days`` store-local days before ``as_of``: revenue, cost, gross profit
    and margin, the newest price and the current cost; the most gross profit first (a SKU without
    a known cost after all that have one)."""
    tx, ln = t.transactions.c, t.tx_lines.c
    lo, hi = _bounds(tz_name, as_of - timedelta(days=days), as_of)
    costed = ln.unit_cost.is_not(None)
    sold = and_(tx.status == "completed", ln.qty > 0)
    q = (select(ln.sku,
                func.sum(case((sold, ln.qty), else_=0)).label("units"),
                func.sum(case((and_(sold, costed), ln.qty), else_=0)).label("costed_units"),
                func.sum(ln.line_total).label("revenue"),
                func.sum(case((costed, func.coalesce(ln.net_revenue, ln.line_total)), else_=0))
                .label("costed_revenue"),
                func.sum(case((costed, ln.qty * ln.unit_cost), else_=0)).label("cost"),
                func.count(ln.unit_cost).label("costed_lines"),
                func.sum(case((costed, ln.line_total), else_=0)).label("costed_total"),
                func.max(case((ln.cost_assumed.is_(True), 1), else_=0)).label("assumed"))
         .select_from(t.transactions.join(t.tx_lines, tx.tx_id == ln.tx_id))
         .where(tx.store_id == store_id, scope.where(tx.store_id), tx.status.in_(COUNTED),
                tx.completed_at >= lo, tx.completed_at < hi)
         .group_by(ln.sku))
    if skus is not None:
        q = q.where(ln.sku.in_(sorted(set(skus))))
    sums = {r.sku: r for r in conn.execute(q)}
    if not sums:
        return []
    # the newest completed line of each SKU in the window: its name and price
    newest = (select(ln.sku, ln.name, ln.unit_price, ln.qty, func.coalesce(ln.net_revenue, ln.line_total).label("net"),
                     func.row_number().over(partition_by=ln.sku,
                                            order_by=(tx.completed_at.desc(), ln.tx_id.desc(), ln.line_no.desc()))
                     .label("rn"))
              .select_from(t.transactions.join(t.tx_lines, tx.tx_id == ln.tx_id))
              .where(tx.store_id == store_id, scope.where(tx.store_id), sold, tx.completed_at >= lo,
                     tx.completed_at < hi))
    if skus is not None:
        newest = newest.where(ln.sku.in_(sorted(set(skus))))
    sub = newest.subquery()
    latest = {r.sku: (r.name, int(r.unit_price), round(int(r.net) / int(r.qty)))
              for r in conn.execute(select(sub.c.sku, sub.c.name, sub.c.unit_price, sub.c.qty, sub.c.net)
                                    .where(sub.c.rn == 1))}
    names = dict(conn.execute(select(t.store_products.c.sku, t.store_products.c.name).where(
        t.store_products.c.store_id == store_id, t.store_products.c.sku.in_(sorted(sums)))).all())
    current = current_costs(conn, scope, store_id, sums)
    out = []
    for sku, r in sums.items():
        revenue, costed_revenue, cost = int(r.revenue or 0), int(r.costed_revenue or 0), int(r.cost or 0)
        has_cost = int(r.costed_lines or 0) > 0
        name, price, net_price = latest.get(sku, (None, None, None))
        now_cost = current.get(sku)
        unit_cost = now_cost.unit_cost if now_cost else None
        out.append(ProductMargin(
            sku=sku, name=names.get(sku) or name or sku, units=int(r.units or 0), revenue=revenue,
            costed_revenue=costed_revenue, cost=cost,
            gross_profit=costed_revenue - cost if has_cost else None,
            margin=(costed_revenue - cost) / costed_revenue if has_cost and costed_revenue > 0 else None,
            cost_coverage=min(1.0, int(r.costed_total or 0) / revenue) if revenue > 0 and has_cost else 0.0,
            price=price, net_price=net_price, unit_cost=unit_cost,
            unit_margin=(net_price - unit_cost) / net_price if net_price and unit_cost is not None else None,
            assumed=bool(r.assumed) or bool(now_cost and now_cost.assumed),
            cost_source=now_cost.source if now_cost else None, costed_units=int(r.costed_units or 0)))
    out.sort(key=lambda m: (m.gross_profit is None, -(m.gross_profit or 0), -m.revenue, m.sku))
    return out


def period_end(conn: Connection, scope: StoreScope, store_id: str, tz_name: str, now: datetime) -> date | None:
    """The (exclusive) last day of a margins period ending now: the day after the store's today, but
    never later than the day after its last sale (a file of past sales is shown as of its end); None
    for a store without sales."""
    tx = t.transactions.c
    last = conn.execute(select(func.max(tx.completed_at)).where(
        tx.store_id == store_id, scope.where(tx.store_id), tx.status.in_(COUNTED))).scalar()
    if not last:
        return None
    tz = zone(tz_name)
    try:
        last_day = datetime.strptime(str(last)[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).astimezone(tz).date()
    except ValueError:
        return None
    return min(now.astimezone(tz).date(), last_day) + timedelta(days=1)


SORTS = ("profit", "margin", "revenue", "loss")


def sort_margins(rows: Iterable[ProductMargin], by: str = "profit") -> list[ProductMargin]:
    """``profit``: the most gross profit first; ``margin``: the highest margin first; ``revenue``: the
    most revenue first; ``loss``: only the products that lose money, the biggest loss first (then those
    priced below cost).  Products without a known cost come last (and never in ``loss``)."""
    items = list(rows)
    if by == "loss":
        return sorted((m for m in items if m.loses_money),
                      key=lambda m: (m.gross_profit if m.gross_profit is not None else 0, m.unit_margin or 0, m.sku))
    if by == "margin":
        return sorted(items, key=lambda m: (m.margin is None, -(m.margin or 0.0), -m.revenue, m.sku))
    if by == "revenue":
        return sorted(items, key=lambda m: (-m.revenue, m.sku))
    if by != "profit":
        raise ValueError(f"sort by {by!r}: one of {', '.join(SORTS)}")
    return sorted(items, key=lambda m: (m.gross_profit is None, -(m.gross_profit or 0), -m.revenue, m.sku))


@dataclass(frozen=True)
class MarginTotals:
    revenue: int
    costed_revenue: int
    cost: int
    gross_profit: int | None  # None: nothing sold with a known cost
    margin: float | None
    cost_coverage: float  # share of the revenue with a known cost
    losing: int  # products that lose money
    assumed: bool  # some costs are assumed


def totals(rows: Iterable[ProductMargin]) -> MarginTotals:
    items = list(rows)
    revenue = sum(m.revenue for m in items)
    costed = [m for m in items if m.gross_profit is not None]
    costed_revenue, cost = sum(m.costed_revenue for m in costed), sum(m.cost for m in costed)
    covered = sum(m.cost_coverage * m.revenue for m in costed)
    return MarginTotals(
        revenue=revenue, costed_revenue=costed_revenue, cost=cost,
        gross_profit=costed_revenue - cost if costed else None,
        margin=(costed_revenue - cost) / costed_revenue if costed and costed_revenue > 0 else None,
        cost_coverage=min(1.0, covered / revenue) if revenue > 0 else 0.0,
        losing=sum(1 for m in items if m.loses_money), assumed=any(m.assumed for m in costed))
