"""Costs of what a store sold: each sale line's unit cost and each product's current cost.

A sale line carries its product's unit cost (integer minor units) in ``tillsight.tx/2`` (the till's
weighted average cost at the moment of sale; null when the till has none), or from ``hub import``
(a cost column of the file, or a cost worked out from a default margin, which is *assumed*).
``tillsight.tx/1`` lines have no cost.  :func:`line_cost` reads a line's cost and whether it is
assumed; :func:`line_columns` adds the line's revenue net of discount and tax (``contracts.margins``,
the device's definition, against which profit is measured); :func:`remember` keeps ``product_costs``,
the cost of each product's newest completed sale line that had one, per store (a sale that arrives
late never overwrites a newer cost).  All run inside the caller's transaction, on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from analytics.db import tables as t
from contracts.margins import line_revenue, sale_line_revenues

TILL = "till"  # tillsight.tx/2 from a device
IMPORTED = "import"  # a cost column of an imported file
DEFAULT_MARGIN = "default_margin"  # made up by the importer from a default margin: assumed
SOURCES = (TILL, IMPORTED, DEFAULT_MARGIN)


def cost_source(doc: Mapping[str, Any]) -> str:
    """Where the costs of sale ``doc`` come from (one of :data:`SOURCES`)."""
    origin = doc.get("origin")
    if isinstance(origin, Mapping) and origin.get("kind") == "import":
        return DEFAULT_MARGIN if origin.get("cost") == DEFAULT_MARGIN else IMPORTED
    return TILL


def line_cost(doc: Mapping[str, Any], line: Mapping[str, Any]) -> tuple[int | None, bool | None]:
    """(unit cost in minor units, assumed?) of one line of sale ``doc``; (None, None) when unknown."""
    cost = line.get("unit_cost")
    if cost is None or isinstance(cost, bool) or not isinstance(cost, int):
        return None, None
    return int(cost), cost_source(doc) == DEFAULT_MARGIN


def line_columns(doc: Mapping[str, Any], line: Mapping[str, Any], line_no: int | None = None) -> dict[str, Any]:
    """The cost columns of one stored line of sale ``doc``: ``unit_cost``, ``cost_assumed`` and
    ``net_revenue`` (the line's takings net of its offers, the rest of the discount and tax,
    ``contracts.margins``).  ``line_no`` (from 1) places the line in a sale whose offers name their lines."""
    cost, assumed = line_cost(doc, line)
    total, subtotal, tax = int(doc["total"]), int(doc["subtotal"]), int(doc["tax"])
    if line_no is not None and doc.get("promotions"):
        net = sale_line_revenues(doc)[line_no - 1]
    elif total - tax == subtotal:  # no discount and no tax (an import): the line's own total, exactly
        net = int(line["line_total"])
    else:
        net = line_revenue(int(line["line_total"]), subtotal, total, tax)
    return {"unit_cost": cost, "cost_assumed": assumed, "net_revenue": net}


def remember(conn: Connection, docs: Iterable[Mapping[str, Any]], now: str) -> int:
    """Record the newest cost of each (store, SKU) sold with a cost in the completed sales ``docs``;
    returns how many (store, SKU) pairs were offered.  A stored cost from a later sale is kept."""
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in docs:
        if doc.get("status") != "completed":
            continue  # a refund or a void says nothing new about what the shop pays now
        source = cost_source(doc)
        for line in doc.get("lines") or ():
            cost, assumed = line_cost(doc, line)
            if cost is None or int(line.get("qty") or 0) <= 0:
                continue
            key = (str(doc["store_id"]), str(line["sku"]))
            seen = newest.get(key)
            if seen is None or doc["completed_at"] >= seen["as_of"]:
                newest[key] = {"store_id": key[0], "sku": key[1], "unit_cost": cost, "assumed": bool(assumed),
                               "source": source, "as_of": doc["completed_at"], "updated_at": now}
    if not newest:
        return 0
    dialect = conn.dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(t.product_costs)
    elif dialect == "sqlite":
        stmt = sqlite.insert(t.product_costs)
    else:
        raise RuntimeError(f"unsupported hub database dialect {dialect!r}")
    pc = t.product_costs.c
    stmt = stmt.on_conflict_do_update(
        index_elements=[pc.store_id, pc.sku],
        set_={name: stmt.excluded[name] for name in ("unit_cost", "assumed", "source", "as_of", "updated_at")},
        where=stmt.excluded.as_of >= pc.as_of)
    conn.execute(stmt, [newest[k] for k in sorted(newest)])
    return len(newest)
