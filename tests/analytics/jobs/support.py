"""Shared helpers of the analytics tests: a hub database on SQLite or PostgreSQL, synthetic stores
written through the import path, and small sales frames."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from analytics.db import make_engine, migrate
from analytics.importer.invoices import import_tx_id
from analytics.importer.writer import StoreSpec, ensure_store, write_sales
from analytics.jobs.data import StoreData, StoreInfo, frames
from analytics.jobs.settings import parse_settings
from tests.support.hubdb import hub_database_url


def engine_for(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, Engine]:
    url = hub_database_url(kind, tmp_path, request)
    eng = make_engine(url)
    migrate(eng)
    return url, eng


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """(url, engine) of a migrated hub database on each backend."""
    url, eng = engine_for(request.param, tmp_path, request)
    yield url, eng
    eng.dispose()


SKUS = [("RICE-5LB", "RICE 5LB", 32500), ("MILK-1L", "MILK 1 L", 6500), ("SODA", "SODA 500ML", 3500),
        ("CANDLE", "VANILLA CANDLE", 12000), ("NOTE", "NOTEBOOK A5", 9000), ("SOAP", "LAVENDER SOAP", 4500),
        ("MUG", "ENAMEL MUG", 15000), ("TOY", "TOY CAR", 20000)]


def synthetic_docs(store_id: str, days: int = 150, per_day: float = 12.0, customers: int = 60, seed: int = 0,
                   end: date = date(2026, 10, 31), tz_offset_h: int = 4, lapse_at: float = 0.5) -> list[dict[str, Any]]:
    """``tillsight.tx/1`` sales of a small shop: closed on Sundays, busier on Fridays, half the sales
    by known customers (half loyal, half who stop coming after ``lapse_at`` of the days), a few refunds."""
    rng = np.random.default_rng(seed)
    docs = []
    start = end - timedelta(days=days - 1)
    seq = 0
    loyal = [f"c{i:03d}" for i in range(customers // 2)]
    lapsing = [f"c{i:03d}" for i in range(customers // 2, customers)]
    for i in range(days):
        day = start + timedelta(days=i)
        if day.weekday() == 6:
            continue
        n = rng.poisson(per_day * (1.6 if day.weekday() == 4 else 1.0))
        for _ in range(n):
            seq += 1
            hour = int(rng.choice([8, 9, 12, 13, 17, 18, 19]))
            # the store-local wall time plus the store's offset: the UTC time of the sale
            at = datetime(day.year, day.month, day.day, hour, int(rng.integers(0, 60)), tzinfo=UTC) \
                + timedelta(hours=tz_offset_h)
            pool = loyal + (lapsing if i < int(days * lapse_at) else [])
            cust = str(rng.choice(pool)) if rng.random() < 0.5 else None
            k = int(rng.integers(1, 4))
            picks = rng.choice(len(SKUS), size=k, replace=False, p=np.array([8, 6, 5, 2, 2, 2, 1, 1]) / 27)
            lines = []
            for j in picks:
                sku, name, price = SKUS[j]
                qty = int(rng.integers(1, 3))
                lines.append({"sku": sku, "name": name, "qty": qty, "unit_price": price, "line_total": qty * price,
                              "source": "barcode"})
            refund = rng.random() < 0.02
            if refund:
                for ln in lines:
                    ln["qty"], ln["line_total"] = -ln["qty"], -ln["line_total"]
            total = sum(ln["line_total"] for ln in lines)
            stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
            docs.append({"schema": "tillsight.tx/1", "tx_id": import_tx_id(store_id, f"{seq}"), "seq": seq,
                         "store_id": store_id, "device_id": "till-1", "cashier_id": "c-1", "started_at": stamp,
                         "completed_at": stamp, "status": "refunded" if refund else "completed", "currency": "DOP",
                         "lines": lines, "subtotal": total, "discount": 0, "tax": 0, "total": total,
                         "payment": {"method": str(rng.choice(["cash", "card"])), "tendered": total, "change": 0},
                         "customer_id": cust, "events": [], "anomaly": None})
    return docs


def seed_store(engine: Engine, store_id: str, settings: dict[str, Any] | None = None, **kw: Any) -> int:
    with engine.begin() as conn:
        ensure_store(conn, StoreSpec(store_id, f"Shop {store_id}", "America/Santo_Domingo", "DOP", settings or {}),
                     "2026-11-01T00:00:00Z", False, False)
    docs = synthetic_docs(store_id, **kw)
    write_sales(engine, docs, "2026-11-01T00:00:00Z")
    return len(docs)


def frames_of(docs: list[dict[str, Any]], settings: dict[str, Any] | None = None,
              tz: str = "America/Santo_Domingo") -> StoreData:
    sales = pd.DataFrame({"tx_id": [d["tx_id"] for d in docs], "status": [d["status"] for d in docs],
                          "completed_at": [d["completed_at"] for d in docs], "total": [d["total"] for d in docs],
                          "customer_id": [d["customer_id"] for d in docs],
                          "payment": [d["payment"] if isinstance(d["payment"], (str, type(None)))
                                      else d["payment"]["method"] for d in docs]})
    lines = pd.DataFrame([(d["tx_id"], ln["sku"], ln["name"], ln["qty"], ln["line_total"]) for d in docs
                          for ln in d["lines"]], columns=["tx_id", "sku", "name", "qty", "line_total"])
    return frames(StoreInfo("s-test", "Test", tz, "DOP", parse_settings(settings or {})), sales, lines)
