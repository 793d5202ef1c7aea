"""The hub stores only what devices it knows send (issue 26): a real till whose store and device are
not registered on the hub syncs its sales through a real broker, and every one of them becomes a
dead letter naming why; no store, device or sale of it appears at the hub.  A registered till's
sales, through the same worker, are stored."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from analytics.db import make_engine, migrate
from analytics.db import tables as t
from analytics.ingest import IngestWorker
from analytics.ingest.known import unknown_reason
from edge.checkout.session import CheckoutSession, PaymentPart
from edge.store import DeviceIdentity, Store
from edge.sync import SyncAgent
from tests.edge.checkout.helpers import basket, cashier
from tests.support.fixtures import make_config
from tests.support.hubdb import count, register_devices
from tests.support.mosquitto import MosquittoBroker
from tests.support.wait import wait_for


def _till(tmp_path: Path, broker: MosquittoBroker, store_id: str, device_id: str) -> tuple[Store, SyncAgent]:
    from edge.demo.seed import seed_store

    cfg = make_config(broker, tmp_path / device_id)
    cfg.store.store_id, cfg.store.device_id = store_id, device_id
    store = Store(tmp_path / device_id / "store.db", identity=DeviceIdentity(store_id, device_id))
    seed_store(store)
    return store, SyncAgent(store, cfg)


def _sell(store: Store, store_id: str, device_id: str, n: int) -> None:
    """``n`` cash sales rung up on this till (the sale names its store and device) and recorded."""
    settings = store.settings.get()
    skus = [p.sku for p in store.products.list()][:2]
    for _ in range(n):
        session = CheckoutSession(store_id, device_id, settings.currency, settings.tax_rate_bp,
                                  lookup=store.products.find)
        session.start(cashier(store), None)
        session.apply_basket(basket(*skus))
        totals = session.to_payment()
        store.sales.record(session.pay([PaymentPart("cash", totals.total, totals.total)]))


def test_sales_of_an_unregistered_device_are_dead_letters_with_the_reason(tmp_path: Path,
                                                                         broker: MosquittoBroker) -> None:
    cfg = make_config(broker, tmp_path)
    engine = make_engine(cfg.hub.database_url)
    migrate(engine)
    register_devices(engine, ("s-001", "till-1"))
    worker = IngestWorker(cfg.hub.database_url, cfg.mqtt, client_id="hub-known", settings=cfg.hub)
    worker.start()
    tills = [_till(tmp_path, broker, "s-001", "till-1"), _till(tmp_path, broker, "s-077", "till-9")]
    try:
        wait_for(worker.ready.is_set, 10, "the broker granted the worker's subscriptions")
        for (store, agent), (store_id, device_id) in zip(tills, [("s-001", "till-1"), ("s-077", "till-9")],
                                                         strict=True):
            _sell(store, store_id, device_id, 3)
            agent.start()
        wait_for(lambda: count(engine, t.transactions) == 3, 30, "the registered till's sales")
        wait_for(lambda: count(engine, t.dead_letters, t.dead_letters.c.topic.like("%/s-077/till-9/tx")) == 3, 30,
                 "the unknown till's sales as dead letters")
        with engine.connect() as conn:
            reasons = set(conn.execute(select(t.dead_letters.c.reason).where(
                t.dead_letters.c.topic.like("%/s-077/till-9/tx"))).scalars())
            stores = set(conn.execute(select(t.stores.c.store_id)).scalars())
            devices = {tuple(r) for r in conn.execute(select(t.devices.c.store_id, t.devices.c.device_id))}
            sale_stores = set(conn.execute(select(t.transactions.c.store_id)).scalars())
        assert reasons == {unknown_reason("s-077", "till-9")}
        assert "not registered on this hub" in unknown_reason("s-077", "till-9")
        assert "s-077" not in stores and ("s-077", "till-9") not in devices and sale_stores == {"s-001"}
        assert all(store.outbox.backlog() == 0 for store, _ in tills)  # acknowledged: not re-sent forever
    finally:
        for store, agent in tills:
            agent.stop()
            store.close()
        worker.stop()
