"""Acceptance: an owner's approved price reaches a running till through the real fleet path — the
hub's signed ``prices`` update (``analytics.pricing.push``) on a real Mosquitto, the device's sync
agent and fleet agent verifying and scheduling it — and the till's checkout charges the new price
only after the change's effective time; an approved multi-buy reaches the till in the same signed list
and a sale after its start gets its discount (on the stored sale and its payload); and a fleet rollback
of the price deployment puts the old price back and ends the offer.  The device's clock is a given
one (moved by the test); the broker, the signature, the store database and the checkout are real."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from analytics.db import make_engine, migrate
from analytics.db.tables import stores
from analytics.fleet.operations import FleetSettings, rollback
from analytics.fleet.signing import generate_keypair
from analytics.pricing import changes as ch
from analytics.pricing.push import push_prices
from analytics.pricing.tables import price_changes
from edge.appliance import build_appliance
from edge.checkout.service import PaymentPart
from edge.store import Store
from edge.sync.agent import SyncAgent
from firmware_config import load_config
from tests.support.hubdb import register_devices
from tests.support.mosquitto import MosquittoBroker
from tests.support.wait import wait_for

pytestmark = pytest.mark.slow


def _sell(appliance, sku: str, qty: int = 1):
    """Ring up ``qty`` of ``sku`` on the till (scanned once each) and take cash; returns the stored sale."""
    ana = appliance.store.users.get("ana")
    appliance.checkout.start(ana)
    for _ in range(qty):
        view = appliance.checkout.add(ana, sku)
    price = next(ln["unit_price"] for ln in view["lines"] if ln["sku"] == sku)
    total = appliance.checkout.session.to_payment().total  # the cashier's Pay button (edge/web/cashier_api.py)
    record = appliance.checkout.complete([PaymentPart("cash", total, total)])
    assert next(ln.unit_price for ln in record.lines if ln.sku == sku) == price
    return appliance.store.sales.get(record.tx_id)


def _price(appliance, sku: str) -> int:
    return int(_sell(appliance, sku).lines[0].unit_price)


def test_an_approved_price_is_charged_by_the_running_till_from_its_effective_time(
        tmp_path: Path, broker: MosquittoBroker, demo_bundle: Path) -> None:
    keys = generate_keypair(tmp_path / "keys")
    mqtt = {"host": broker.host, "port": broker.port, "keepalive_s": 5, "reconnect_min_s": 0.1,
            "reconnect_max_s": 1.0}
    hub_url = f"sqlite:///{tmp_path / 'hub.db'}"
    hub_cfg = load_config(None, env={}, overrides={"mqtt": mqtt, "hub": {
        "database_url": hub_url, "fleet_signing_key": str(keys.private_key),
        "fleet_artifact_dir": str(tmp_path / "artifacts")}})
    dev_cfg = load_config(None, env={}, overrides={
        "mqtt": mqtt, "detector": {"bundle": str(demo_bundle)}, "data_dir": str(tmp_path / "device"),
        "fleet": {"enabled": True, "public_keys": [str(keys.public_key)]}})
    hub = make_engine(hub_url)
    migrate(hub)
    register_devices(hub)
    now = datetime.now(UTC).replace(microsecond=0)  # the manifest's issue time: the device checks its expiry
    with hub.begin() as conn:  # the store as the hub knows it (registering its device made it)
        conn.execute(stores.update().where(stores.c.store_id == "s-001").values(currency="DOP"))

    appliance = build_appliance(dev_cfg, with_vision=False, seed_demo=True, history_days=0)
    appliance.store.shifts.open("ana", 10000)
    product, other = appliance.store.products.list()[:2]
    old, new = product.price, product.price + 500
    device_clock = {"now": now}
    agent = SyncAgent(Store(Path(dev_cfg.data_dir) / "store.db"), dev_cfg)
    assert agent.fleet is not None
    agent.fleet.clock = lambda: device_clock["now"]
    appliance.checkout.session.clock = lambda: device_clock["now"]  # the till's checkout keeps the same time
    agent.start()
    try:
        wait_for(agent.connected.is_set, 15, "the sync agent connects")
        effective = now + timedelta(hours=1)
        change_id = ch.decide(hub, ch.Decision(
            "s-001", product.sku, product.name, "price", (product.sku,), "approve", old, new, new, "DOP",
            effective, "ann", "a test approval", None), now)
        three_for = 3 * other.price - 1000  # "3 for ...": 10.00 off three
        offer_id = ch.decide(hub, ch.Decision(
            "s-001", other.sku, other.name, "multibuy", (other.sku,), "approve", 3 * other.price, three_for,
            three_for, "DOP", effective, "ann", "a test offer", {"quantity": 3}), now)
        result = push_prices(FleetSettings.from_config(hub_cfg), hub, "s-001", now)
        assert result.devices == ["s-001/till-1"] and sorted(result.sent) == sorted([change_id, offer_id])
        with hub.connect() as conn:
            row = conn.execute(select(price_changes).where(price_changes.c.change_id == change_id)).mappings().one()
        assert row["status"] == "sent" and row["deployment_id"] == result.deployment_id

        def outcome() -> dict | None:
            return next((r for r in agent.fleet.state.results if r["deployment_id"] == result.deployment_id), None)

        wait_for(lambda: outcome() is not None, 60, "the till's outcome for the signed price update")
        assert outcome()["outcome"] == "succeeded", outcome()
        assert "1 new price change(s) scheduled" in outcome()["reason"] and "1 offer(s)" in outcome()["reason"]
        # before their time the till still charges the old price, and no offer
        assert _price(appliance, product.sku) == old
        assert _sell(appliance, other.sku, 3).discount == 0

        device_clock["now"] = effective + timedelta(seconds=1)
        wait_for(lambda: appliance.store.products.get(product.sku).price == new, 15, "the new price applied")
        assert _price(appliance, product.sku) == new
        sale = _sell(appliance, other.sku, 3)
        assert (sale.subtotal, sale.discount, sale.total) == (3 * other.price, 1000, three_for)
        assert [(p.promotion_id, p.times, p.discount) for p in sale.promotions] == [(offer_id, 1, 1000)]
        assert sale.to_payload()["promotions"][0]["discount"] == 1000  # what the sync agent sends the hub
        assert agent.fleet.reported()["prices"]["version"] == result.version

        # the owner rolls the price update back: the old price returns and the offer ends
        back = rollback(FleetSettings.from_config(hub_cfg), result.deployment_id, now=now + timedelta(minutes=1))
        assert back.deployment.rollback_of == result.deployment_id
        with hub.connect() as conn:
            statuses = dict(conn.execute(select(price_changes.c.change_id, price_changes.c.status)).all())
        assert statuses == {change_id: "withdrawn", offer_id: "withdrawn"}
        wait_for(lambda: appliance.store.products.get(product.sku).price == old, 60, "the old price back")
        assert _price(appliance, product.sku) == old
        assert _sell(appliance, other.sku, 3).discount == 0
    finally:
        agent.stop()
        appliance.store.close()
        hub.dispose()
