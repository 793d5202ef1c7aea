"""The hub's catalogue of product names, fed only by the catalogue path.

A store's product names come from its devices' catalogue, which each device sends with its stock in
telemetry (``tillsight.telemetry/1``: ``stock.items[].name``), and are kept in ``store_products``.
A sale's line names are what the sale says, and stay in that sale's payload: a line of a SKU the
catalogue knows is stored in ``tx_lines`` under the catalogue's name, and when the catalogue names a
SKU anew, the store's earlier lines of it follow.  So a forged or mistyped name in a sale never
renames a product across the hub's analytics, nor reaches the till's dashboard through the insights.
A SKU the catalogue does not know keeps its line name (the history a hub imports has no catalogue).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from analytics.db import tables as t

log = logging.getLogger(__name__)

SkuKey = tuple[str, str]  # (store_id, sku)


def names(conn: Connection, keys: Iterable[SkuKey]) -> dict[SkuKey, str]:
    """The catalogue's names of the given (store, SKU) pairs that it knows (one query)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    p = t.store_products.c
    rows = conn.execute(select(p.store_id, p.sku, p.name).where(tuple_(p.store_id, p.sku).in_(wanted)))
    return {(r.store_id, r.sku): r.name for r in rows}


def remember(conn: Connection, store_id: str, device_id: str, items: Any, now: str) -> int:
    """Take the names of a telemetry document's stock items; rename the store's sale lines of every
    SKU whose name is new or changed.  Returns how many SKUs changed."""
    if not isinstance(items, list):
        return 0
    given = {str(i["sku"]): str(i["name"]) for i in items
             if isinstance(i, dict) and isinstance(i.get("sku"), str) and isinstance(i.get("name"), str)}
    if not given:
        return 0
    p = t.store_products.c
    known = {r.sku: r.name for r in conn.execute(select(p.sku, p.name).where(p.store_id == store_id))}
    changed = {sku: name for sku, name in given.items() if known.get(sku) != name}
    if not changed:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(t.store_products)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["store_id", "sku"],
        set_={key: getattr(stmt.excluded, key) for key in ("name", "device_id", "updated_at")}),
        [{"store_id": store_id, "sku": sku, "name": name, "device_id": device_id, "updated_at": now}
         for sku, name in changed.items()])
    ln = t.tx_lines.c
    for sku, name in changed.items():
        conn.execute(update(t.tx_lines).where(ln.store_id == store_id, ln.sku == sku, ln.name != name)
                     .values(name=name))
    log.info("catalogue of %s: %d product name(s) from %s", store_id, len(changed), device_id)
    return len(changed)
