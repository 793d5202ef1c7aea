"""Synthetic sales with a known price elasticity, as the analytics frames (``analytics.jobs.data``) and
as importer lines (``analytics.importer.reader.SaleLine``) for the hub's real writers."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from analytics.importer.reader import SaleLine

START = datetime(2026, 6, 1, 10, 0)  # noqa: DTZ001 - a Monday, store-local (naive, as the frames have it)


def weekly_units(prices: list[int], elasticity: float, base_units: float, rng: np.random.Generator | None) -> list[int]:
    """Units a week at each week's price: ``base * (p / p0) ** elasticity``, Poisson noise with ``rng``."""
    p0 = prices[0]
    mean = [base_units * (p / p0) ** elasticity for p in prices]
    return [int(rng.poisson(m)) if rng is not None else round(m) for m in mean]


def price_path(levels: list[int], weeks_each: int) -> list[int]:
    return [p for p in levels for _ in range(weeks_each)]


def lines_frame(products: dict[str, tuple[str, list[int], list[int]]], start: datetime = START) -> pd.DataFrame:
    """``{sku: (category, weekly prices, weekly units)}`` -> completed single-unit lines spread over each week."""
    rows = []
    for sku, (category, prices, units) in products.items():
        for week, (price, n) in enumerate(zip(prices, units, strict=True)):
            for i in range(n):
                at = start + timedelta(weeks=week, minutes=int(i * 7200 / max(n, 1)))
                rows.append({"tx_id": f"{sku}-{week}-{i}", "sku": sku, "name": sku.title(), "qty": 1,
                             "line_total": price, "category": category, "status": "completed",
                             "local": pd.Timestamp(at), "customer_id": None})
    return pd.DataFrame(rows)


def sale_lines(sku: str, name: str, prices: list[int], units: list[int], cost: int, start: datetime,
               first_row: int = 1, invoice_prefix: str = "") -> list[SaleLine]:
    """One single-unit invoice per unit sold, spread over each week (store-local naive times)."""
    out = []
    row = first_row
    for week, (price, n) in enumerate(zip(prices, units, strict=True)):
        for i in range(n):
            at = start + timedelta(weeks=week, minutes=int(i * 7200 / max(n, 1)))
            out.append(SaleLine(row=row, invoice=f"{invoice_prefix}{sku}-{week}-{i}", cancelled=False, sku=sku,
                                name=name, qty=1, unit_price=price, local_time=at, customer=None, country=None,
                                unit_cost=cost))
            row += 1
    return out
