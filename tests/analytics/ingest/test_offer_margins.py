"""The hub's margins of a sale with an offer: the same rule as the till (contracts.margins), the offer's
saving on the lines it covered and only the rest of the discount spread pro rata; a tx/2 offer that does not
name its lines (the first ones) is shared pro rata as before.  Sales come from a till's real writer."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from analytics.db import make_engine, migrate
from analytics.db import tables as t
from analytics.ingest.parse import Parsed, parse
from analytics.ingest.store import apply_batch
from analytics.web.queries import costs as cq
from analytics.web.tenancy import StoreScope
from contracts.margins import sale_line_revenues
from contracts.prices import Promotion, PromotionItem
from edge.checkout.session import CheckoutSession, PaymentPart
from edge.store import Store
from tests.edge.checkout.helpers import basket, cashier
from tests.support.device import seeded_store

PREFIX = "tillsight/v1"
AT = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
RICE, OIL = "RICE-LG-5LB", "OIL-SOL-1L"


@pytest.fixture
def till(tmp_path: Path) -> Store:
    store = seeded_store(tmp_path / "device" / "store.db")
    store.costs.set_cost(RICE, 12000, "owner")
    store.costs.set_cost(OIL, 15000, "owner")
    store.promotions.replace((Promotion("m-rice", "multibuy", "3 x Rice", (PromotionItem(RICE, 3),), 50000,
                                        "2026-11-01T00:00:00Z", "ann", "2026-11-01T00:00:00Z"),), 1, "d1", AT)
    yield store
    store.close()


@pytest.fixture
def hub(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    return engine


def _sale(store: Store) -> dict[str, Any]:
    """Three rice (on offer) and an oil with a 10.00 hand discount; the payload the till queued."""
    s = store.settings.get()
    session = CheckoutSession("s-001", "till-1", s.currency, s.tax_rate_bp, lookup=store.products.find,
                              clock=lambda: AT, offers=store.promotions.in_force)
    session.start(cashier(store))
    session.apply_basket(basket(RICE, RICE, RICE, OIL))
    session.review()
    session.set_discount(1000, store.users.get("maria"), "regular")
    total = session.to_payment().total
    rec = store.sales.record(session.pay([PaymentPart("cash", total, total)]))
    return next(r.payload for r in store.outbox.pending(limit=100)
                if r.kind == "tx" and r.payload["tx_id"] == rec.tx_id)


def _apply(engine: Engine, doc: dict[str, Any]) -> None:
    got = parse(f"{PREFIX}/{doc['store_id']}/{doc['device_id']}/tx", json.dumps(doc).encode(), PREFIX)
    assert isinstance(got, Parsed), got
    with engine.begin() as conn:
        assert {a.outcome for a in apply_batch(conn, [got], "2026-11-22T08:00:00Z")} == {"stored"}


def _net(engine: Engine, tx_id: str) -> dict[str, int]:
    ln = t.tx_lines.c
    with engine.connect() as conn:
        return {r.sku: r.net_revenue for r in conn.execute(select(ln.sku, ln.net_revenue).where(ln.tx_id == tx_id))}


def test_the_hub_puts_the_offers_saving_on_the_offered_product(till: Store, hub: Engine) -> None:
    doc = _sale(till)
    assert [x["discount"] for x in doc["promotions"][0]["lines"]] == [2500]
    _apply(hub, doc)
    net = _net(hub, doc["tx_id"])
    after_tax = doc["total"] - doc["tax"]
    # rice came to 500.00 after its offer and oil to 210.00: the 10.00 by hand is shared over 710.00
    assert abs(net[RICE] - 50000 * after_tax / 71000) <= 0.5 and abs(net[OIL] - 21000 * after_tax / 71000) <= 0.5
    assert net == dict(zip((ln["sku"] for ln in doc["lines"]), sale_line_revenues(doc), strict=True))  # as the till
    with till.db.transaction() as conn:
        device = {r[0]: r[1] for r in conn.execute("SELECT sku, revenue FROM sale_lines WHERE tx_id = ?",
                                                   (doc["tx_id"],))}
    assert device == net
    with hub.connect() as conn:
        margins = {m.sku: m for m in cq.product_margins(conn, StoreScope.everything(), "s-001", "UTC",
                                                        date(2026, 11, 21), days=7)}
    assert margins[RICE].gross_profit == net[RICE] - 3 * 12000
    assert margins[OIL].gross_profit == net[OIL] - 15000


def test_an_offer_that_does_not_name_its_lines_is_shared_pro_rata(till: Store, hub: Engine) -> None:
    doc = _sale(till)
    for promo in doc["promotions"]:
        del promo["lines"]  # as the first tx/2 offers were sent
    _apply(hub, doc)
    net = _net(hub, doc["tx_id"])
    after_tax = doc["total"] - doc["tax"]
    assert abs(net[OIL] - 21000 * after_tax / doc["subtotal"]) <= 0.5
