"""The fixed set of query tools the assistant may run: store-scoped, parameterised, validated.

Each :class:`Tool` has a name, a description, a JSON schema of its arguments (the OpenAI tool
spec the model sees) and a function over a :class:`ToolContext`.  The store is the context's,
from the signed-in session; no schema has a store argument and unknown arguments are refused, so
a model can never point a tool at another store.  No SQL is written by a model: the tools build
their queries with SQLAlchemy Core from validated arguments (SQLite and PostgreSQL alike).

A :class:`ToolResult` holds the figures (money in integer minor units), a one-line summary in
plain words (money formatted in the store's currency) and a small table.  Sales that move money
count (completed sales, refunds netted; voided sales are left out); dates are store-local.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from jsonschema import Draft202012Validator
from sqlalchemy import Engine, inspect, select

from analytics.assistant.answer import Column, Table
from analytics.assistant.dates import DateError, Period, default_period, local_today, resolve_dates, resolve_period
from analytics.assistant.language import language_code
from analytics.assistant.products import Catalogue, Product
from analytics.db import tables as t
from analytics.jobs import results
from analytics.jobs.categories import categorise_many
from analytics.jobs.settings import AnalyticsSettings, SettingsError, parse_settings
from analytics.llm.language import settings_with_language
from analytics.segmentation.words import segment_name
from contracts.money import format_money
from i18n import current_language, current_locale, format_decimal, format_percent, ngettext
from i18n import format_money as local_money
from i18n import gettext as _

log = logging.getLogger(__name__)

COUNTED = ("completed", "refunded")
MAX_ROWS = 50


class ToolError(ValueError):
    """A tool could not run with these arguments; the message says why in plain words."""


@dataclass(frozen=True)
class AskStore:
    store_id: str
    name: str
    timezone: str
    currency: str
    settings: AnalyticsSettings
    language: str = "en"  # the store's language (settings ``language``): en, es or fr

    @classmethod
    def load(cls, engine: Engine, store_id: str) -> AskStore:
        """The store's name, zone, currency and settings (a store the hub only knows from its sales
        is read in UTC with the currency of its sales)."""
        s = t.stores.c
        with engine.connect() as conn:
            row = conn.execute(select(t.stores).where(s.store_id == store_id)).mappings().first()
            currency = None
            if row is None:
                currency = conn.execute(select(t.transactions.c.currency).where(
                    t.transactions.c.store_id == store_id).limit(1)).scalar()
        if row is None:
            return cls(store_id, store_id, "UTC", currency or "USD", AnalyticsSettings())
        try:
            settings = parse_settings(row["settings"], store_id)
        except SettingsError as exc:
            log.warning("%s; the assistant uses the default settings", exc)
            settings = AnalyticsSettings()
        with engine.connect() as conn:  # the hub's language setting, else the one the store's devices report
            settings = settings_with_language(conn, store_id, settings)
        return cls(store_id, row["name"], row["timezone"], row["currency"], settings,
                   language_code(settings.language))

    def money(self, minor: int | float | None) -> str:
        """``minor`` in the store's currency, written the current language's way (English as before)."""
        if minor is None:
            return "—"
        if current_language() == "en":
            return format_money(int(round(minor)), self.currency)
        return local_money(int(round(minor)), self.currency, current_locale())


@dataclass
class ToolContext:
    """What a tool runs against: the database, THE store of the session, and the clock."""

    engine: Engine
    store: AskStore
    now: datetime
    credit: bool = False  # may read the credit figures (they name people: owners and operators only)
    language: str | None = None  # the asker's language (the page's); None: the store's

    @property
    def store_id(self) -> str:
        return self.store.store_id

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset({self.store.store_id})

    @property
    def today(self) -> date:
        return local_today(self.now, self.store.timezone)

    @cached_property
    def catalogue(self) -> Catalogue:
        return Catalogue.load(self.engine, self.store_id)

    @cached_property
    def categories(self) -> dict[str, str]:
        overrides = {sku: o.category for sku, o in self.store.settings.sku_overrides.items() if o.category}
        return categorise_many(((p.sku, p.name) for p in self.catalogue.products), overrides)

    @cached_property
    def credit_customers(self) -> dict[str, dict[str, Any]]:
        """``{customer_id: {name, phone}}`` of the store's credit customers (empty without the table)."""
        try:
            from analytics.db.credit_tables import credit_customers
        except ImportError:
            return {}
        if not inspect(self.engine).has_table("credit_customers"):
            return {}
        c = credit_customers.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(c.customer_id, c.name, c.phone).where(c.store_id == self.store_id)).all()
        return {r.customer_id: {"name": r.name, "phone": r.phone} for r in rows}


@dataclass
class ToolResult:
    tool: str
    arguments: dict[str, Any]
    ok: bool
    summary: str  # plain words, money formatted
    figures: dict[str, Any] = field(default_factory=dict)  # money in minor units
    table: Table | None = None
    error: str | None = None
    did_you_mean: list[str] = field(default_factory=list)
    period: Period | None = None
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> name/phone shown in the table
    invalid: bool = False  # refused: unknown tool, malformed or invalid arguments

    def for_model(self, alias: Callable[[str, str, str | None], str] | None = None) -> dict[str, Any]:
        """What the model sees (quoted by the caller): figures, the table as compact rows, the
        period; customers as aliases (``alias(customer_id, name, phone)``)."""
        if not self.ok:
            out: dict[str, Any] = {"tool": self.tool, "error": self.error or self.summary}
            if self.did_you_mean:
                out["did_you_mean"] = self.did_you_mean
            return out
        out = {"tool": self.tool, "summary": self.summary, "figures": self.figures}
        if self.period is not None:
            out["period"] = self.period.as_dict()
        if self.table is not None:
            keys = [c.key for c in self.table.columns]
            rows = []
            for row in self.table.rows[:MAX_ROWS]:
                values = [row.get(k) for k in keys]
                if "customer" in keys and alias is not None and row.get("customer_id") in self.customers:
                    who = self.customers[row["customer_id"]]
                    values[keys.index("customer")] = alias(row["customer_id"], who["name"], who.get("phone"))
                rows.append(values)
            out["table"] = {"title": self.table.title, "columns": keys, "money_columns_in_minor_units": [
                c.key for c in self.table.columns if c.kind == "money"], "currency": self.table.currency,
                "rows": rows}
            if alias is not None and "customer" in keys:
                if "customer_id" in keys:  # customer ids can be names or phones: the model sees aliases only
                    idx = keys.index("customer_id")
                    out["table"]["columns"] = [k for k in keys if k != "customer_id"]
                    out["table"]["rows"] = [[v for i, v in enumerate(r) if i != idx] for r in rows]
        return out


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    run: Callable[[ToolContext, dict[str, Any]], ToolResult]

    def spec(self) -> dict[str, Any]:
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters}}


# -- argument schemas ---------------------------------------------------------------------------

_PERIOD = {
    "period": {"type": "string", "minLength": 1, "maxLength": 80,
               "description": "the dates in words, resolved in the store's time zone: 'today', 'yesterday', "
                              "'last Friday', 'this week', 'last month', 'in March', 'between January and March', "
                              "'since 3 March', 'last 7 days', or one ISO date '2026-11-13'"},
    "start": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$",
              "description": "first store-local day YYYY-MM-DD (instead of period)"},
    "end": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$",
            "description": "last store-local day YYYY-MM-DD, inclusive (with start)"},
}
_PRODUCT = {"type": "string", "minLength": 1, "maxLength": 120,
            "description": "product name or SKU as the user said it; matched fuzzily ('presidente')"}
_LIMIT = {"type": "integer", "minimum": 1, "maximum": MAX_ROWS, "description": "how many rows (default 10)"}


def _schema(props: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(required), "additionalProperties": False}


def validate(tool: Tool, arguments: Any) -> dict[str, Any]:
    """The arguments, checked against the tool's schema; ToolError naming each problem."""
    if not isinstance(arguments, dict):
        raise ToolError(f"arguments of {tool.name} must be a JSON object")
    errors = sorted(Draft202012Validator(tool.parameters).iter_errors(arguments), key=lambda e: list(e.path))
    if errors:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.path) or 'arguments'}: {e.message}" for e in errors)
        raise ToolError(f"bad arguments for {tool.name}: {problems}")
    if "end" in arguments and "start" not in arguments:
        raise ToolError(f"bad arguments for {tool.name}: end needs start")
    return arguments


# -- helpers ------------------------------------------------------------------------------------

def _period(ctx: ToolContext, args: dict[str, Any], default: str = "last30") -> Period:
    tz = ctx.store.timezone
    try:
        if args.get("start"):
            return resolve_dates(args["start"], args.get("end"), tz, ctx.now)
        if args.get("period"):
            return resolve_period(args["period"], tz, ctx.now)
    except DateError as exc:
        raise ToolError(str(exc)) from None
    return default_period(default, tz, ctx.now)


def _when(period: Period) -> str:
    if period.phrase in ("", None) and period.days == 30:
        return _("in the last 30 days (%(period)s)", period=period.label)
    return _("on %(day)s", day=period.label) if period.days == 1 else _("in %(period)s", period=period.label)


def _local(ctx: ToolContext, completed_at: str) -> datetime:
    utc = datetime.strptime(completed_at[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return utc.astimezone(ZoneInfo(ctx.store.timezone))


def _sales(ctx: ToolContext, period: Period) -> Sequence[Any]:
    tx = t.transactions.c
    with ctx.engine.connect() as conn:
        return conn.execute(select(tx.tx_id, tx.status, tx.completed_at, tx.total, tx.customer_id).where(
            tx.store_id == ctx.store_id, tx.status.in_(COUNTED), tx.completed_at >= period.start_utc,
            tx.completed_at < period.end_utc)).all()


def _lines(ctx: ToolContext, period: Period, skus: list[str] | None = None) -> Sequence[Any]:
    tx, ln = t.transactions.c, t.tx_lines.c
    q = (select(tx.tx_id, tx.status, tx.completed_at, ln.sku, ln.name, ln.qty, ln.line_total)
         .select_from(t.tx_lines.join(t.transactions, ln.tx_id == tx.tx_id))
         .where(tx.store_id == ctx.store_id, ln.store_id == ctx.store_id, tx.status.in_(COUNTED),
                tx.completed_at >= period.start_utc, tx.completed_at < period.end_utc))
    if skus is not None:
        if not skus:
            return []
        q = q.where(ln.sku.in_(skus))
    with ctx.engine.connect() as conn:
        return conn.execute(q).all()


def _match(ctx: ToolContext, tool: str, args: dict[str, Any], query: str) -> Product | ToolResult:
    m = ctx.catalogue.match(query)
    if m.product is not None:
        return m.product
    if m.status == "ambiguous":
        names = m.did_you_mean()
        choices = (_("%(first)s or %(last)s", first=", ".join(names[:-1]), last=names[-1]) if len(names) > 1
                   else names[-1])
        return ToolResult(tool, args, False, _("More than one product matches '%(query)s': did you mean %(choices)s?",
                                               query=query, choices=choices),
                          error=f"ambiguous product {query!r}", did_you_mean=names)
    return ToolResult(tool, args, False, _("No product this store sold matches '%(query)s'.", query=query),
                      error=f"no product matches {query!r}")


def _category_skus(ctx: ToolContext, category: str) -> list[str]:
    cats = ctx.categories
    wanted = category.strip().lower()
    skus = [sku for sku, cat in cats.items() if cat.lower() == wanted]
    if not skus:
        known = sorted(set(cats.values()))
        raise ToolError(_("no category '%(category)s' in this store; its categories: %(known)s", category=category,
                          known=", ".join(known) or _("none yet")))
    return skus


def _n(count: int, word: str) -> str:
    """``1 sale``, ``2 sales``, ``3 categories``, in the current language ("1 venta", "2 ventas")."""
    forms = {
        "unit": lambda: ngettext("%(num)d unit", "%(num)d units", count),
        "sale": lambda: ngettext("%(num)d sale", "%(num)d sales", count),
        "refund": lambda: ngettext("%(num)d refund", "%(num)d refunds", count),
        "category": lambda: ngettext("%(num)d category", "%(num)d categories", count),
        "customer": lambda: ngettext("%(num)d customer", "%(num)d customers", count),
        "product": lambda: ngettext("%(num)d product", "%(num)d products", count),
        "segment": lambda: ngettext("%(num)d segment", "%(num)d segments", count),
    }
    return forms[word]()


def _pct(fraction: float) -> str:
    """``0.25`` -> ``25%`` (English) / ``25 %`` (French)."""
    if current_language() == "en":
        return f"{fraction:.0%}"
    return format_percent(fraction, current_locale())


def _number(value: float) -> str:
    """``12.5`` -> ``12.5`` / ``12,5``."""
    if current_language() == "en":
        return f"{value:g}"
    return format_decimal(value, current_locale())


def _money_col(key: str, label: str) -> Column:
    return Column(key, label, "money")


# -- the tools ----------------------------------------------------------------------------------

def sales_by_period(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    period = _period(ctx, args, "today")
    product, category = args.get("product"), args.get("category")
    if product or category:
        if product:
            found = _match(ctx, "sales_by_period", args, product)
            if isinstance(found, ToolResult):
                return found
            skus, what = [found.sku], found.name
        else:
            skus, what = _category_skus(ctx, str(category)), _("category %(category)s", category=category)
        rows = _lines(ctx, period, skus)
        by_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        sales_ids = set()
        for r in rows:
            day = _local(ctx, r.completed_at).date().isoformat()
            by_day[day][0] += int(r.qty)
            by_day[day][1] += int(r.line_total)
            if r.status == "completed":
                sales_ids.add(r.tx_id)
        units = sum(v[0] for v in by_day.values())
        revenue = sum(v[1] for v in by_day.values())
        table = Table(f"{what}, {period.label}", [Column("day", _("Day"), "date"), Column("units", _("Units"), "int"),
                                                   _money_col("revenue", _("Revenue"))],
                      [{"day": d, "units": v[0], "revenue": v[1]} for d, v in sorted(by_day.items())],
                      ctx.store.currency)
        return ToolResult("sales_by_period", args, True,
                          _("%(what)s: %(units)s for %(revenue)s in %(sales)s %(when)s.", what=what,
                            units=_n(units, "unit"), revenue=ctx.store.money(revenue),
                            sales=_n(len(sales_ids), "sale"), when=_when(period)),
                          {"units": units, "revenue": revenue, "sales": len(sales_ids), "currency": ctx.store.currency},
                          table, period=period)
    rows = _sales(ctx, period)
    days: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # net, completed count, completed total
    for r in rows:
        day = _local(ctx, r.completed_at).date().isoformat()
        days[day][0] += int(r.total)
        if r.status == "completed":
            days[day][1] += 1
            days[day][2] += int(r.total)
    net = sum(v[0] for v in days.values())
    count = sum(v[1] for v in days.values())
    gross = sum(v[2] for v in days.values())
    refunds = sum(1 for r in rows if r.status == "refunded")
    avg = round(gross / count) if count else 0
    table = Table(_("Sales, %(period)s", period=period.label),
                  [Column("day", _("Day"), "date"), _money_col("net_sales", _("Net sales")),
                   Column("sales", _("Sales"), "int"), _money_col("average", _("Average basket"))],
                  [{"day": d, "net_sales": v[0], "sales": v[1], "average": round(v[2] / v[1]) if v[1] else 0}
                   for d, v in sorted(days.items())], ctx.store.currency)
    text = (_("Sales %(when)s: %(net)s net in %(sales)s, average basket %(average)s", when=_when(period),
              net=ctx.store.money(net), sales=_n(count, "sale"), average=ctx.store.money(avg))
            + (" " + _("(%(refunds)s netted).", refunds=_n(refunds, "refund")) if refunds else "."))
    return ToolResult("sales_by_period", args, True, text,
                      {"net_sales": net, "sales": count, "average_basket": avg, "refunds": refunds,
                       "currency": ctx.store.currency}, table, period=period)


def product_sales(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    period = _period(ctx, args, "today")
    found = _match(ctx, "product_sales", args, args["product"])
    if isinstance(found, ToolResult):
        return found
    rows = _lines(ctx, period, [found.sku])
    units = sum(int(r.qty) for r in rows)
    revenue = sum(int(r.line_total) for r in rows)
    sales = len({r.tx_id for r in rows if r.status == "completed"})
    table = Table(f"{found.name}, {period.label}", [
        Column("product", _("Product")), Column("sku", _("SKU")), Column("units", _("Units sold"), "int"),
        _money_col("revenue", _("Revenue")), Column("sales", _("Sales"), "int")],
        [{"product": found.name, "sku": found.sku, "units": units, "revenue": revenue, "sales": sales}],
        ctx.store.currency)
    return ToolResult("product_sales", args, True,
                      _("%(product)s: %(units)s sold %(when)s, %(revenue)s in %(sales)s.", product=found.name,
                        units=_n(units, "unit"), when=_when(period), revenue=ctx.store.money(revenue),
                        sales=_n(sales, "sale")),
                      {"product": found.name, "sku": found.sku, "units": units, "revenue": revenue, "sales": sales,
                       "currency": ctx.store.currency}, table, period=period)


def sales_by_category(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    period = _period(ctx, args)
    cats = ctx.categories
    agg: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in _lines(ctx, period):
        cat = cats.get(r.sku, _("uncategorised"))
        agg[cat][0] += int(r.qty)
        agg[cat][1] += int(r.line_total)
    total = sum(v[1] for v in agg.values())
    rows: list[dict[str, Any]] = [
        {"category": c, "units": v[0], "revenue": v[1], "share": round(v[1] / total, 4) if total else 0.0}
        for c, v in sorted(agg.items(), key=lambda kv: (-kv[1][1], kv[0]))]
    table = Table(_("Sales by category, %(period)s", period=period.label),
                  [Column("category", _("Category")), Column("units", _("Units"), "int"),
                   _money_col("revenue", _("Revenue")), Column("share", _("Share"), "pct")],
                  rows, ctx.store.currency)
    if not rows:
        return ToolResult("sales_by_category", args, True, _("No sales %(when)s.", when=_when(period)), {"revenue": 0},
                          table,
                          period=period)
    top = rows[0]
    return ToolResult("sales_by_category", args, True,
                      _("%(categories)s sold %(when)s; the biggest is %(category)s with %(revenue)s (%(share)s of "
                        "%(total)s).", categories=_n(len(rows), "category"), when=_when(period),
                        category=top["category"], revenue=ctx.store.money(top["revenue"]), share=_pct(top["share"]),
                        total=ctx.store.money(total)),
                      {"revenue": total, "categories": len(rows), "currency": ctx.store.currency}, table, period=period)


def sales_by_hour(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    period = _period(ctx, args)
    hours: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for r in _sales(ctx, period):
        hour = _local(ctx, r.completed_at).hour
        hours[hour][1] += int(r.total)
        if r.status == "completed":
            hours[hour][0] += 1
    rows: list[dict[str, Any]] = [{"hour": f"{h:02d}:00", "sales": v[0], "revenue": v[1]}
                                  for h, v in sorted(hours.items())]
    table = Table(_("Sales by hour (store time), %(period)s", period=period.label), [
        Column("hour", _("Hour (store time)")), Column("sales", _("Sales"), "int"),
        _money_col("revenue", _("Net sales"))],
        rows, ctx.store.currency)
    if not rows or not any(r["sales"] for r in rows):
        return ToolResult("sales_by_hour", args, True, _("No sales %(when)s.", when=_when(period)), {"sales": 0}, table,
                          period=period)
    busiest = max(rows, key=lambda r: (r["sales"], r["revenue"]))
    slot_end = f"{int(busiest['hour'][:2]) + 1:02d}:00"
    return ToolResult("sales_by_hour", args, True,
                      _("The busiest hour %(when)s was %(start)s–%(end)s (store time) with %(sales)s and "
                        "%(revenue)s.", when=_when(period), start=busiest["hour"],
                        end=slot_end, sales=_n(busiest["sales"], "sale"),
                        revenue=ctx.store.money(busiest["revenue"])),
                      {"busiest_hour": busiest["hour"], "busiest_hour_sales": busiest["sales"],
                       "busiest_hour_revenue": busiest["revenue"], "currency": ctx.store.currency},
                      table, period=period)


def top_products(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    period = _period(ctx, args)
    by = args.get("by", "units")
    limit = int(args.get("limit", 10))
    skus = _category_skus(ctx, args["category"]) if args.get("category") else None
    agg: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in _lines(ctx, period, skus):
        agg[r.sku][0] += int(r.qty)
        agg[r.sku][1] += int(r.line_total)
    key = 0 if by == "units" else 1
    ranked = sorted(agg.items(), key=lambda kv: (-kv[1][key], -kv[1][1 - key], kv[0]))[:limit]
    rows: list[dict[str, Any]] = [
        {"rank": i + 1, "product": ctx.catalogue.name_of(sku), "sku": sku, "units": v[0], "revenue": v[1]}
        for i, (sku, v) in enumerate(ranked)]
    by_words = _("units") if by == "units" else _("revenue")
    table = Table(_("Top products by %(by)s, %(period)s", by=by_words, period=period.label), [
        Column("rank", "#", "int"), Column("product", _("Product")), Column("sku", _("SKU")),
        Column("units", _("Units"), "int"), _money_col("revenue", _("Revenue"))], rows, ctx.store.currency)
    if not rows:
        return ToolResult("top_products", args, True, _("No products sold %(when)s.", when=_when(period)),
                          {"products": 0}, table, period=period)
    first = rows[0]
    return ToolResult("top_products", args, True,
                      _("Top product %(when)s by %(by)s: %(product)s (%(units)s, %(revenue)s); %(listed)s listed.",
                        when=_when(period), by=by_words, product=first["product"], units=_n(first["units"], "unit"),
                        revenue=ctx.store.money(first["revenue"]), listed=_n(len(rows), "product")),
                      {"products": len(rows), "top_product": first["product"], "top_units": first["units"],
                       "top_revenue": first["revenue"], "currency": ctx.store.currency}, table, period=period)


def top_customers(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    period = _period(ctx, args)
    limit = int(args.get("limit", 10))
    agg: dict[str, list[Any]] = defaultdict(lambda: [0, 0, ""])
    for r in _sales(ctx, period):
        if not r.customer_id:
            continue
        a = agg[r.customer_id]
        a[0] += int(r.total)
        a[1] += 1 if r.status == "completed" else 0
        a[2] = max(a[2], r.completed_at)
    ranked = sorted(agg.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))[:limit]
    names = ctx.credit_customers
    rows, shown = [], {}
    for i, (cid, (spend, visits, last)) in enumerate(ranked):
        who = names.get(cid)
        rows.append({"rank": i + 1, "customer": who["name"] if who else cid, "customer_id": cid, "spend": spend,
                     "sales": visits, "last_visit": _local(ctx, last).date().isoformat()})
        if who:
            shown[cid] = who
    table = Table(_("Best customers by spend, %(period)s", period=period.label), [
        Column("rank", "#", "int"), Column("customer", _("Customer")), Column("customer_id", _("Customer id")),
        _money_col("spend", _("Spend")), Column("sales", _("Sales"), "int"),
        Column("last_visit", _("Last visit"), "date")], rows, ctx.store.currency)
    if not rows:
        return ToolResult("top_customers", args, True, _("No sales to known customers %(when)s.", when=_when(period)),
                          {"customers": 0}, table, period=period)
    first = rows[0]
    return ToolResult("top_customers", args, True,
                      _("Best customer %(when)s: %(customer)s, %(spend)s in %(sales)s; %(listed)s listed.",
                        when=_when(period), customer=first["customer"], spend=ctx.store.money(first["spend"]),
                        sales=_n(first["sales"], "sale"), listed=_n(len(rows), "customer")),
                      {"customers": len(rows), "top_spend": first["spend"], "currency": ctx.store.currency}, table,
                      period=period, customers=shown)


def credit_owed(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    """Who owes the store money on credit, largest balance first: the figures of the Credit tab."""
    from analytics.credit.data import CreditDataError
    from analytics.credit.report import credit_report

    if not ctx.credit:
        return ToolResult("credit_owed", args, True, _("Credit balances name the store's customers: only the "
                                                       "owner (or an operator) sees them, on the Credit tab."),
                          {"allowed": False})
    try:
        report = credit_report(ctx.engine, ctx.store_id, as_of=ctx.now)
    except CreditDataError:
        report = None
    owing = [c for c in report.customers if c.balance > 0] if report is not None else []  # largest first
    limit = int(args.get("limit", 10))
    rows = [{"rank": i + 1, "customer": c.name, "customer_id": c.customer_id, "owes": c.balance,
             "credit_limit": c.credit_limit or None,
             "of_limit": round(c.utilisation, 4) if c.utilisation is not None else None,
             "oldest_unpaid_days": c.oldest_unpaid_days} for i, c in enumerate(owing[:limit])]
    table = Table(_("Customers who owe the store money (largest first)"), [
        Column("rank", "#", "int"), Column("customer", _("Customer")), Column("customer_id", _("Customer id")),
        _money_col("owes", _("Owes")), _money_col("credit_limit", _("Credit limit")),
        Column("of_limit", _("Of limit"), "pct"), Column("oldest_unpaid_days", _("Oldest unpaid (days)"), "int")],
        rows, ctx.store.currency)
    if report is None or not rows:
        return ToolResult("credit_owed", args, True, _("No customer owes the store money."),
                          {"customers_owing": 0, "total_owed": 0, "currency": ctx.store.currency}, table)
    top, kpis = owing[0], report.kpis
    of_limit = (" " + _("(%(share)s of a %(limit)s limit)", share=_pct(top.utilisation),
                        limit=ctx.store.money(top.credit_limit))
                if top.credit_limit and top.utilisation is not None else "")
    summary = (_("%(name)s owes the most: %(balance)s%(of_limit)s.", name=top.name,
                 balance=ctx.store.money(top.balance), of_limit=of_limit) + " "
               + ngettext("%(num)d customer owes %(total)s in all, %(overdue)s of it overdue.",
                          "%(num)d customers owe %(total)s in all, %(overdue)s of it overdue.",
                          kpis.customers_with_balance, total=ctx.store.money(kpis.total_owed),
                          overdue=ctx.store.money(kpis.overdue)))
    shown = {c.customer_id: {"name": c.name, "phone": c.phone} for c in owing[:limit]}
    return ToolResult("credit_owed", args, True, summary,
                      {"customers_owing": kpis.customers_with_balance, "total_owed": kpis.total_owed,
                       "overdue": kpis.overdue, "top_owes": top.balance, "currency": ctx.store.currency},
                      table, customers=shown)


def stock(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    from analytics.jobs.stock import store_stock

    levels = store_stock(ctx.engine, ctx.store_id)
    product = args.get("product")
    if product:
        found = _match(ctx, "stock", args, product)
        if isinstance(found, ToolResult):
            return found
        levels = {k: v for k, v in levels.items() if k == found.sku}
        if not levels:
            return ToolResult("stock", args, True, _("No device of this store reports stock of %(product)s.",
                                                     product=found.name),
                              {"on_hand": None, "product": found.name})
    if not levels:
        return ToolResult("stock", args, True, _("No device of this store reports stock on hand yet."), {"skus": 0})
    limit = int(args.get("limit", MAX_ROWS))
    ordered = sorted(levels.items(), key=lambda kv: (kv[1].on_hand, kv[0]))[:limit]  # the lowest first
    rows = [{"product": ctx.catalogue.name_of(sku), "sku": sku, "on_hand": lvl.on_hand, "as_of": lvl.as_of}
            for sku, lvl in ordered]
    table = Table(_("Stock on hand (lowest first)"),
                  [Column("product", _("Product")), Column("sku", _("SKU")), Column("on_hand", _("On hand"), "int"),
                   Column("as_of", _("As of"), "time")],
                  rows)
    if product:
        r = rows[0]
        return ToolResult("stock", args, True, _("%(product)s: %(on_hand)s on hand (reported %(as_of)s).",
                                                 product=r["product"], on_hand=r["on_hand"], as_of=r["as_of"]),
                          {"product": r["product"], "on_hand": r["on_hand"], "as_of": r["as_of"]}, table)
    low = rows[0]
    return ToolResult("stock", args, True, _("Stock of %(products)s reported; the lowest is %(product)s with "
                                             "%(on_hand)s on hand.", products=_n(len(levels), "product"),
                                             product=low["product"], on_hand=low["on_hand"]),
                      {"skus": len(levels), "lowest": low["product"], "lowest_on_hand": low["on_hand"]}, table)


def reorder_advice(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    limit = int(args.get("limit", 20))
    run = results.latest_run(ctx.engine, ctx.store_id, ctx.allowed)
    if run is None:
        return ToolResult("reorder_advice", args, True, _("No reorder advice yet: the nightly analytics "
                                                          "(tillsight hub jobs) has not run for this store."),
                          {"products": 0})
    advice = results.reorder_list(ctx.engine, ctx.store_id, ctx.allowed, only_order_now=True, include_slow=False,
                                  limit=limit)
    unknown = False
    if not advice:  # stock not reported: the advice without the "order now" signal
        advice = [r for r in results.reorder_list(ctx.engine, ctx.store_id, ctx.allowed, include_slow=False,
                                                  limit=200) if r["order_now"] is None and r["order_qty"] > 0][:limit]
        unknown = bool(advice)
    rows = [{"product": r["name"], "sku": r["sku"], "on_hand": r["on_hand"], "order_qty": r["order_qty"],
             "stockout_date": r["stockout_date"], "days_of_cover": None if r["days_of_cover"] is None
             else round(float(r["days_of_cover"]), 1), "mean_daily": round(float(r["mean_daily"]), 2)}
            for r in advice]
    table = Table(_("Reorder advice (analytics of %(as_of)s)", as_of=run["as_of"]), [
        Column("product", _("Product")), Column("sku", _("SKU")), Column("on_hand", _("On hand"), "int"),
        Column("order_qty", _("Order"), "int"), Column("stockout_date", _("Runs out"), "date"),
        Column("days_of_cover", _("Days of cover"), "num"), Column("mean_daily", _("Sold per day"), "num")], rows)
    if not rows:
        return ToolResult("reorder_advice", args, True, _("Nothing needs ordering now."), {"products": 0}, table)
    names = ", ".join(f"{r['product']} ({r['order_qty']})" for r in rows[:5])
    lead = (_("Stock on hand is not reported, so these are the quantities to order up to cover demand:") + " "
            if unknown else _("%(products)s to order now:", products=_n(len(rows), "product")) + " ")
    return ToolResult("reorder_advice", args, True, lead + names + ("…" if len(rows) > 5 else "."),
                      {"products": len(rows), "stock_known": not unknown, "as_of": run["as_of"]}, table)


def forecast(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    days = int(args.get("days", 7))
    today = ctx.today.isoformat()
    if args.get("product"):
        found = _match(ctx, "forecast", args, args["product"])
        if isinstance(found, ToolResult):
            return found
        fc = results.sku_forecast(ctx.engine, ctx.store_id, ctx.allowed, found.sku)
        if fc is None:
            return ToolResult("forecast", args, True, _("No forecast for %(product)s yet (the nightly analytics "
                                                        "has not forecast it).", product=found.name),
                              {"product": found.name})
        rows = [{"day": d["day"], "units": round(float(d["mean"]), 1), "low": round(float(d["lo80"]), 1),
                 "high": round(float(d["hi80"]), 1)} for d in fc["days"] if d["day"] >= today][:days]
        total = round(sum(r["units"] for r in rows), 1)
        table = Table(_("Forecast: %(product)s", product=found.name),
                      [Column("day", _("Day"), "date"), Column("units", _("Units"), "num"),
                       Column("low", _("Low (80%)"), "num"), Column("high", _("High (80%)"), "num")],
                      rows)
        return ToolResult("forecast", args, True,
                          ngettext("%(product)s: about %(units)s units expected over the next day.",
                                   "%(product)s: about %(units)s units expected over the next %(num)d days.",
                                   len(rows), product=found.name, units=_number(total)),
                          {"product": found.name, "units": total, "days": len(rows)}, table)
    revenue = [d for d in results.store_forecast(ctx.engine, ctx.store_id, ctx.allowed, "revenue") if d["day"] >= today]
    counts = {d["day"]: d for d in results.store_forecast(ctx.engine, ctx.store_id, ctx.allowed, "sales")}
    revenue = revenue[:days]
    if not revenue:
        return ToolResult("forecast", args, True, _("No forecast yet: the nightly analytics (tillsight hub jobs) has "
                                                    "not run for this store."), {"days": 0})
    rows = [{"day": d["day"], "revenue": int(d["mean"]), "low": int(d["lo80"]), "high": int(d["hi80"]),
             "sales": int(counts[d["day"]]["mean"]) if d["day"] in counts else None} for d in revenue]
    total = sum(r["revenue"] for r in rows)
    table = Table(_("Sales forecast"), [Column("day", _("Day"), "date"), _money_col("revenue", _("Expected sales")),
                                        _money_col("low", _("Low (80%)")), _money_col("high", _("High (80%)")),
                                        Column("sales", _("Sales count"), "int")], rows, ctx.store.currency)
    return ToolResult("forecast", args, True,
                      ngettext("About %(revenue)s expected over the next day.",
                               "About %(revenue)s expected over the next %(num)d days.", len(rows),
                               revenue=ctx.store.money(total)),
                      {"revenue": total, "days": len(rows), "currency": ctx.store.currency}, table)


def segments(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    kind = args.get("kind", "rfm")
    segs = results.segments(ctx.engine, ctx.store_id, ctx.allowed, kind)
    if not segs:
        return ToolResult("segments", args, True, _("No customer segments yet: the nightly analytics has not run "
                                                    "for this store, or it has no known customers."), {"segments": 0})
    rows = [{"segment": segment_name(kind, s["segment"], s.get("profile")), "segment_key": s["segment"],
             "members": s["members"], "share": round(float(s["share"]), 4),
             "revenue": int(s["revenue"]), "revenue_share": round(float(s["revenue_share"]), 4)} for s in segs]
    title = {"rfm": _("Customer segments (recency, frequency, spend)"), "cluster": _("Customer clusters"),
             "basket": _("Basket segments (all sales)")}.get(kind, _("Customer segments"))
    table = Table(title, [
        Column("segment", _("Segment")), Column("members", _("Members"), "int"), Column("share", _("Share"), "pct"),
        _money_col("revenue", _("Revenue")), Column("revenue_share", _("Revenue share"), "pct")], rows,
        ctx.store.currency)
    big = max(rows, key=lambda r: r["revenue"])
    return ToolResult("segments", args, True, _("%(segments)s; %(segment)s brings the most revenue (%(share)s).",
                                                segments=_n(len(rows), "segment"), segment=big["segment"],
                                                share=_pct(big["revenue_share"])),
                      {"segments": len(rows), "top_segment": big["segment_key"]}, table)


TOOLS: dict[str, Tool] = {tool.name: tool for tool in (
    Tool("sales_by_period", "Net sales, number of sales and average basket of the store in a period (default today), "
         "per day; optionally only one product or one category (then units and revenue).",
         _schema({**_PERIOD, "product": _PRODUCT, "category": {"type": "string", "minLength": 1, "maxLength": 40}}),
         sales_by_period),
    Tool("product_sales", "Units sold and revenue of one product in a period (default today).",
         _schema({"product": _PRODUCT, **_PERIOD}, ("product",)), product_sales),
    Tool("sales_by_category", "Units and revenue per product category in a period (default last 30 days).",
         _schema(dict(_PERIOD)), sales_by_category),
    Tool("sales_by_hour", "Sales count and revenue per hour of the day (store-local) in a period (default last 30 "
         "days): the busiest hour.", _schema(dict(_PERIOD)), sales_by_hour),
    Tool("top_products", "Best-selling products in a period (default last 30 days) by units or revenue.",
         _schema({**_PERIOD, "by": {"type": "string", "enum": ["units", "revenue"]}, "limit": _LIMIT,
                  "category": {"type": "string", "minLength": 1, "maxLength": 40}}), top_products),
    Tool("top_customers", "Best customers by spend in a period (default last 30 days).",
         _schema({**_PERIOD, "limit": _LIMIT}), top_customers),
    Tool("credit_owed", "Customers who owe the store money on credit (fiado), largest balance first, with their "
         "credit limit and the age of their oldest unpaid purchase; the total owed and overdue.",
         _schema({"limit": _LIMIT}), credit_owed),
    Tool("stock", "Stock on hand as the store's devices last reported it, lowest first; or of one product.",
         _schema({"product": _PRODUCT, "limit": _LIMIT}), stock),
    Tool("reorder_advice", "Products to reorder now, with quantities, from the nightly forecasts.",
         _schema({"limit": _LIMIT}), reorder_advice),
    Tool("forecast", "Expected sales of the store (or units of one product) for the next days.",
         _schema({"product": _PRODUCT, "days": {"type": "integer", "minimum": 1, "maximum": 28}}), forecast),
    Tool("segments", "Customer segments (rfm: named RFM segments; cluster; basket) with members and revenue.",
         _schema({"kind": {"type": "string", "enum": ["rfm", "cluster", "basket"]}}), segments),
)}


def tool_specs() -> list[dict[str, Any]]:
    return [tool.spec() for tool in TOOLS.values()]


def run_tool(ctx: ToolContext, name: str, arguments: Any) -> ToolResult:
    """Run one tool by name for the context's store.  Unknown names, malformed or invalid
    arguments and tool errors come back as a failed :class:`ToolResult` (never an exception)."""
    tool = TOOLS.get(name)
    args = arguments if isinstance(arguments, dict) else {}
    if tool is None:
        return ToolResult(name, args, False, f"There is no tool {name!r}.",
                          error=f"unknown tool {name!r}; the tools are: {', '.join(TOOLS)}", invalid=True)
    if arguments is None:
        return ToolResult(name, {}, False, "The tool arguments were not valid JSON.",
                          error="arguments were not a valid JSON object", invalid=True)
    try:
        valid = validate(tool, arguments)
        return tool.run(ctx, valid)
    except ToolError as exc:
        return ToolResult(name, args, False, str(exc), error=str(exc), invalid=True)
