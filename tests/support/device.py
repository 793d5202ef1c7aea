"""Device-side builders for sync tests: a seeded store and many sales written fast."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

from edge.demo.seed import seed_store
from edge.store import Store
from tests.edge.checkout.helpers import quick_sale


def seeded_store(path: Path) -> Store:
    store = Store(path)
    seed_store(store)
    return store


def record_sales(store: Store, n: int, batch: int = 2000) -> int:
    """Record ``n`` sales (each with its outbox row) in transactions of ``batch`` sales."""
    skus = [p.sku for p in store.products.list()][:3]
    template = quick_sale(store, *skus)
    done = 0
    while done < n:
        k = min(batch, n - done)
        store.sales.record_many([(replace(template, tx_id=str(uuid.uuid4())), False) for _ in range(k)])
        done += k
    return done
