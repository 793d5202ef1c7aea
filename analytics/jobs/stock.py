"""Stock on hand as the store's devices report it in their telemetry:
``telemetry["stock"] = {"as_of": "...Z", "items": [{"sku": "...", "on_hand": 12}]}``.

The newest report of a SKU across the store's devices wins.  A device whose report does not have
that shape is skipped with a warning (its stock is unknown, which the reorder advice handles).
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Engine, select

from analytics.db import tables as t
from analytics.forecasting.run import StockLevel

log = logging.getLogger(__name__)


class _StockItem(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sku: str = Field(min_length=1, max_length=64)
    on_hand: int


class _StockReport(BaseModel):
    model_config = ConfigDict(extra="ignore")
    as_of: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
    items: list[_StockItem]


def parse_stock(telemetry: Any) -> _StockReport | None:
    if not isinstance(telemetry, dict) or "stock" not in telemetry:
        return None
    return _StockReport.model_validate(telemetry["stock"])


def store_stock(engine: Engine, store_id: str) -> dict[str, StockLevel]:
    d = t.devices.c
    with engine.connect() as conn:
        rows = conn.execute(select(d.device_id, d.telemetry).where(d.store_id == store_id)).all()
    out: dict[str, StockLevel] = {}
    for device_id, telemetry in rows:
        try:
            report = parse_stock(telemetry)
        except ValidationError as exc:
            log.warning("stock report of %s/%s ignored: %s", store_id, device_id, exc.errors()[0]["msg"])
            continue
        if report is None:
            continue
        for item in report.items:
            have = out.get(item.sku)
            if have is None or report.as_of > have.as_of:
                out[item.sku] = StockLevel(max(0, item.on_hand), report.as_of)
    return out
