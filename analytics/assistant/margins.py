"""Ask's margin questions: "what's my margin on X", "which products make me the most money", "which
lose money".  Two tools over the same figures as the Products page (``analytics.web.queries.costs``):

- ``product_margin``: one product's gross profit and margin in a period (default the last 30 days),
  its price and unit cost now, and whether that cost is assumed;
- ``profit_by_product``: the products ranked by gross profit (``by="profit"``), or only those that
  lose money, the biggest loss first (``by="loss"``).

Gross profit is revenue net of discounts and tax less what the goods cost; a product without a known
cost is never counted as 100 % margin (it is named as having no cost), and a cost made up at import
from a default margin is called assumed in the answer and the table.  The package's ``__init__``
registers the tools in ``analytics.assistant.tools.TOOLS`` beside the others, so the rule-based path
and the model's tool calls (with the made-up-number check over their figures) run the same code.
"""

from __future__ import annotations

from typing import Any

from analytics.assistant.answer import Column, Table
from analytics.assistant.dates import Period
from analytics.assistant.tools import (
    _LIMIT,
    _PERIOD,
    _PRODUCT,
    Tool,
    ToolContext,
    ToolResult,
    _match,
    _money_col,
    _n,
    _pct,
    _period,
    _schema,
    _when,
)
from analytics.web.queries import costs as cq
from analytics.web.tenancy import StoreScope
from i18n import gettext as _


def _margins(ctx: ToolContext, args: dict[str, Any],
             skus: list[str] | None = None) -> tuple[Period, list[cq.ProductMargin]]:
    period = _period(ctx, args)
    with ctx.engine.connect() as conn:
        rows = cq.product_margins(conn, StoreScope.only([ctx.store_id]), ctx.store_id, ctx.store.timezone,
                                  period.end, period.days, skus=skus)
    return period, rows


def _basis(m: cq.ProductMargin) -> str:
    if m.gross_profit is None and m.unit_cost is None:
        return _("no cost")
    return _("assumed") if m.assumed else _("known")


def _table(ctx: ToolContext, title: str, rows: list[cq.ProductMargin]) -> Table:
    return Table(title, [
        Column("rank", "#", "int"), Column("product", _("Product")), Column("sku", _("SKU")),
        Column("units", _("Units"), "int"), _money_col("revenue", _("Revenue")),
        _money_col("gross_profit", _("Gross profit")), Column("margin", _("Margin"), "pct"),
        _money_col("price", _("Price now")), _money_col("unit_cost", _("Unit cost now")),
        Column("cost", _("Cost"))],
        [{"rank": i + 1, "product": ctx.catalogue.name_of(m.sku) or m.name, "sku": m.sku, "units": m.units,
          "revenue": m.revenue, "gross_profit": m.gross_profit, "margin": m.margin, "price": m.price,
          "unit_cost": m.unit_cost, "cost": _basis(m)} for i, m in enumerate(rows)], ctx.store.currency)


def _figures(m: cq.ProductMargin) -> dict[str, Any]:
    return {"product": m.name, "sku": m.sku, "units": m.units, "revenue": m.revenue,
            "revenue_net_of_tax_with_cost": m.costed_revenue, "cost_of_goods": m.cost if m.gross_profit is not None
            else None, "gross_profit": m.gross_profit, "margin": m.margin,
            "margin_pct": round(100 * m.margin, 1) if m.margin is not None else None, "price": m.price,
            "net_price": m.net_price, "unit_cost": m.unit_cost,
            "unit_margin_pct": round(100 * m.unit_margin, 1) if m.unit_margin is not None else None,
            "cost_assumed": m.assumed, "loses_money": m.loses_money, "units_with_cost": m.costed_units}


def product_margin(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    found = _match(ctx, "product_margin", args, args["product"])
    if isinstance(found, ToolResult):
        return found
    period, rows = _margins(ctx, args, [found.sku])
    name = found.name
    if not rows:
        return ToolResult("product_margin", args, True, _("%(product)s did not sell %(when)s, so it made no profit "
                                                          "then.", product=name, when=_when(period)),
                          {"product": name, "sku": found.sku, "units": 0}, period=period)
    m = rows[0]
    table = _table(ctx, _("Margin of %(product)s, %(period)s", product=name, period=period.label), [m])
    if m.gross_profit is None:
        return ToolResult("product_margin", args, True,
                          _("%(product)s has no known cost %(when)s, so its margin cannot be told (it sold "
                            "%(units)s for %(revenue)s).", product=name, when=_when(period),
                            units=_n(m.units, "unit"), revenue=ctx.store.money(m.revenue)),
                          _figures(m), table, period=period)
    text = _("Margin on %(product)s %(when)s: %(margin)s, a gross profit of %(profit)s on %(sales)s of sales net of "
             "tax (%(units)s).", product=name, when=_when(period),
             margin=_pct(m.margin) if m.margin is not None else "—", profit=ctx.store.money(m.gross_profit),
             sales=ctx.store.money(m.costed_revenue), units=_n(m.costed_units, "unit"))
    if m.costed_units < m.units:
        text += " " + _("Of the %(units)s sold, only those had a known cost; the rest count in no margin.",
                        units=_n(m.units, "unit"))
    if m.price is not None and m.unit_cost is not None:
        text += " " + _("It sells at %(price)s now and costs %(cost)s a unit.", price=ctx.store.money(m.price),
                        cost=ctx.store.money(m.unit_cost))
    if m.loses_money:
        text += " " + _("It loses money.")
    if m.assumed:
        text += " " + _("Its cost is assumed (made up at import from a default margin), so these figures are "
                        "estimates.")
    return ToolResult("product_margin", args, True, text, _figures(m), table, period=period)


def profit_by_product(ctx: ToolContext, args: dict[str, Any]) -> ToolResult:
    by = args.get("by", "profit")
    limit = int(args.get("limit", 10))
    period, rows = _margins(ctx, args)
    ranked = cq.sort_margins(rows, "loss" if by == "loss" else "profit")
    if by != "loss":
        ranked = [m for m in ranked if m.gross_profit is not None]
    shown = ranked[:limit]
    no_cost = sum(1 for m in rows if m.gross_profit is None)
    assumed = any(m.assumed for m in shown)
    figures: dict[str, Any] = {"products": len(shown), "products_without_cost": no_cost,
                               "costs_assumed": assumed, "currency": ctx.store.currency,
                               "rows": [_figures(m) for m in shown]}
    if by == "loss":
        title = _("Products that lose money, %(period)s", period=period.label)
        total = sum(m.gross_profit or 0 for m in ranked)
        figures.update(losing=len(ranked), total_loss=total)
        if not ranked:
            text = _("No product lost money %(when)s.", when=_when(period))
        else:
            first = ranked[0]
            text = _("%(count)s lost money %(when)s; the most: %(product)s (gross profit %(profit)s, margin "
                     "%(margin)s).", count=_n(len(ranked), "product"), when=_when(period), product=first.name,
                     profit=ctx.store.money(first.gross_profit or 0),
                     margin=_pct(first.margin) if first.margin is not None else "—")
    else:
        title = _("Products that make the most money, %(period)s", period=period.label)
        if not shown:
            text = _("No product sold with a known cost %(when)s, so there is no profit to rank.", when=_when(period))
        else:
            first = shown[0]
            total = sum(m.gross_profit or 0 for m in ranked)
            figures.update(total_gross_profit=total)
            text = _("%(product)s made the most money %(when)s: a gross profit of %(profit)s (margin %(margin)s); all "
                     "products with a known cost made %(total)s.", product=first.name, when=_when(period),
                     profit=ctx.store.money(first.gross_profit or 0),
                     margin=_pct(first.margin) if first.margin is not None else "—", total=ctx.store.money(total))
    if no_cost:
        text += " " + _("%(count)s had no known cost and are left out.", count=_n(no_cost, "product"))
    if assumed:
        text += " " + _("Some costs are assumed (made up at import from a default margin).")
    return ToolResult("profit_by_product", args, True, text, figures, _table(ctx, title, shown), period=period)


def margin_tools() -> tuple[Tool, ...]:
    """The margin tools, for ``analytics.assistant.tools.TOOLS``."""
    return MARGIN_TOOLS


MARGIN_TOOLS = (
    Tool("product_margin", "Gross profit and margin of one product in a period (default last 30 days), its price and "
         "unit cost now and whether the cost is assumed.", _schema({"product": _PRODUCT, **_PERIOD}, ("product",)),
         product_margin),
    Tool("profit_by_product", "Products ranked by gross profit in a period (default last 30 days): by 'profit' the "
         "ones that make the most money, by 'loss' only the ones that lose money (biggest loss first).",
         _schema({**_PERIOD, "by": {"type": "string", "enum": ["profit", "loss"]}, "limit": _LIMIT}),
         profit_by_product),
)
