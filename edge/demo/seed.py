"""Seed a store for the demo and for tests: settings, the demo catalogue with stock, staff with
documented demo credentials, credit customers, and (optionally) weeks of sales history.

Demo credentials (also in the README) — change them before a real shop uses the device:

| user id | name | role | login |
|---|---|---|---|
| ``ana`` | Ana | cashier | PIN 1357 |
| ``luis`` | Luis | cashier | PIN 2468 |
| ``maria`` | María | supervisor | PIN 8024 |
| ``owner`` | Rosa (owner) | owner | password ``tillsight-owner``, PIN 9753 |
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from contracts.timestamps import format_utc
from edge.auth.service import Authenticator
from edge.demo.costing import SUPPLIERS, CostPlan
from edge.store import Store
from edge.store.costs import record_cost_change
from vision.catalogue import Product as CatalogueProduct
from vision.catalogue import demo_catalogue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoUser:
    id: str
    name: str
    role: str
    pin: str | None
    password: str | None = None


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("ana", "Ana", "cashier", "1357"),
    DemoUser("luis", "Luis", "cashier", "2468"),
    DemoUser("maria", "María", "supervisor", "8024"),
    DemoUser("owner", "Rosa (owner)", "owner", "9753", "tillsight-owner"),
)
DEMO_CUSTOMERS: tuple[tuple[str, str, str, int], ...] = (
    ("cust-01", "Colmado Doña Carmen", "809-555-0101", 2_500_000),
    ("cust-02", "Pedro Martínez", "809-555-0102", 500_000),
    ("cust-03", "Cafetería El Sol", "829-555-0103", 1_500_000),
    ("cust-04", "Juana Reyes", "849-555-0104", 300_000),
    ("cust-05", "Taller Hermanos Díaz", "809-555-0105", 1_000_000),
    ("cust-06", "Luisa Fernández", "829-555-0106", 250_000),
    ("cust-07", "Banca La Suerte", "809-555-0107", 800_000),
    ("cust-08", "Miguel Santana", "849-555-0108", 400_000),
)


def seed_catalogue(store: Store, products: list[CatalogueProduct] | None = None, seed: int = 3,
                   plan: CostPlan | None = None, at: str | None = None) -> None:
    """The demo catalogue with stock, its suppliers (lead times per product) and each product's cost and
    price on the first day of ``plan`` (today's, without one), as of ``at`` (UTC ``...Z``; default now)."""
    rng = random.Random(seed)
    products = products or demo_catalogue()
    today = datetime.now(UTC).date() if plan is None else plan.first
    plan = plan or CostPlan(products, today, today)
    at = at or format_utc(datetime.now(UTC))
    with store.db.transaction() as conn:
        for p in products:
            store.products.upsert(p.sku, p.name, plan.price_on(p.sku, plan.first), p.barcode, p.category,
                                  reorder_level=rng.choice((6, 8, 10, 12)), conn=conn)
            conn.execute("UPDATE products SET stock_qty = ? WHERE sku = ?", (rng.randint(25, 140), p.sku))
            record_cost_change(conn, p.sku, None, plan.cost_on(p.sku, plan.first), "import", at, user_id="owner",
                               note="demo catalogue")
    for name, contact, phone, categories, lead_days in SUPPLIERS:
        supplier = store.suppliers.save(name, contact, phone, at=at)
        for p in products:
            if p.category in categories:
                store.suppliers.link(supplier.id, p.sku, lead_days)


def apply_plan(store: Store, plan: CostPlan, zone: ZoneInfo) -> None:
    """The history's cost rises (kept in each product's cost history) and price rises, at 08:00 store time of
    the day each took effect, so the catalogue ends where the history ends."""
    with store.db.transaction() as conn:
        for change in plan.cost_changes:
            at = format_utc(datetime.combine(change.day, time(8, 0), tzinfo=zone))
            record_cost_change(conn, change.sku, change.old, change.new, "import", at, user_id="owner",
                               note="supplier price rise")
        for change in plan.price_changes:
            conn.execute("UPDATE products SET price = ? WHERE sku = ?", (change.new, change.sku))


def seed_staff(store: Store, auth: Authenticator) -> None:
    for u in DEMO_USERS:
        auth.set_staff(u.id, u.name, u.role, pin=u.pin, password=u.password)


def seed_customers(store: Store, at: str | None = None) -> None:
    """The demo's credit customers, as made at ``at`` (UTC ``...Z``; default now)."""
    for cid, name, phone, limit in DEMO_CUSTOMERS:
        store.customers.save(name, phone, limit, customer_id=cid, at=at)


def seed_store(store: Store, store_name: str = "Colmado La Esquina", currency: str = "DOP",
               timezone_name: str = "America/Santo_Domingo", history_days: int = 0,
               store_id: str = "s-001", device_id: str = "till-1", now: datetime | None = None,
               language: str = "en") -> int:
    """Seed an empty store; returns the number of history sales written (0 when already seeded).
    With ``history_days`` the history ends at ``now`` (required then: the caller reads the clock)."""
    if history_days > 0 and now is None:
        raise ValueError("seeding history needs the time it ends at (now)")
    if store.settings.is_seeded():
        return 0
    store.settings.update(store_name=store_name, currency=currency, timezone=timezone_name,
                          address="Calle El Conde 101, Santo Domingo", language=language)
    auth = Authenticator(store.users)
    seed_staff(store, auth)
    if history_days <= 0:
        seed_catalogue(store)
        seed_customers(store, at=format_utc(now) if now is not None else None)
        return 0
    from edge.demo.history import generate_history
    from edge.demo.import_history import import_history

    assert now is not None  # checked above
    end = now
    start = format_utc(now - timedelta(days=history_days))
    history = generate_history(demo_catalogue(), ["ana", "luis", "maria"], store_id, device_id, timezone_name,
                               currency, end=end, days=history_days)
    seed_catalogue(store, plan=history.plan, at=start)  # the catalogue as it was when the history began
    # customers exist from the start of their history (their state events come before its sales)
    seed_customers(store, at=start)
    n = import_history(store, history.payloads, now=end)
    if history.plan is not None:
        apply_plan(store, history.plan, ZoneInfo(timezone_name))
    restock(store, at=end)
    return n


def restock(store: Store, at: datetime, seed: int = 11, leave_low: int = 5) -> None:
    """Deliveries after the history: bring every product to a healthy level with stock receipts from its
    supplier at its current cost, except a few left at or under their reorder level (so low-stock warnings
    show)."""
    from edge.store.costs import record_receipt
    from edge.store.stock import apply_movement

    rng = random.Random(seed)
    products = store.products.list()
    low = {p.sku for p in rng.sample(products, min(leave_low, len(products)))}
    supplier_of = {link.sku: link.supplier_id for link in store.suppliers.links()}
    at_text = format_utc(at)
    with store.db.transaction() as conn:
        for p in products:
            target = rng.randint(0, p.reorder_level) if p.sku in low else p.reorder_level + rng.randint(15, 90)
            if target > p.stock_qty:
                record_receipt(conn, p.sku, target - p.stock_qty, p.cost, supplier_of.get(p.sku), "owner",
                               "demo delivery", at_text)
            elif target < p.stock_qty:
                apply_movement(conn, p.sku, target - p.stock_qty, "count", at_text, user_id="owner",
                               note="demo count")
