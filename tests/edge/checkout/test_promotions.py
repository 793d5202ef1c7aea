"""Multi-buy and bundle offers at the till: the pricing rule (edge/checkout/promotions.py) and a sale
that gets one — its totals in minor units, the line it covers, the receipt's discount line and the
stored sale (tx/2 ``promotions``, read back from the store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts.prices import Promotion, PromotionItem
from contracts.timestamps import format_utc
from contracts.validation import validate
from edge.anomaly.features import sale_features
from edge.checkout.promotions import PricedUnit, apply_promotions
from edge.checkout.receipt import ReceiptHeader, receipt_text
from edge.checkout.session import CheckoutSession, PaymentPart
from edge.store import Store
from tests.edge.checkout.helpers import cashier

T0 = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def _offer(pid: str, price: int, *items: tuple[str, int], kind: str = "multibuy", name: str = "",
           starts: datetime = T0, ends: datetime | None = None) -> Promotion:
    return Promotion(pid, kind, name or pid, tuple(PromotionItem(s, q) for s, q in items), price, format_utc(starts),
                     "ann", format_utc(T0), None if ends is None else format_utc(ends))


def test_a_multi_buy_applies_as_many_whole_times_as_the_basket_holds() -> None:
    three_for_100 = _offer("m1", 10000, ("RICE", 3))
    lines = [PricedUnit(1, "RICE", 4, 3500), PricedUnit(2, "RICE", 3, 3500), PricedUnit(3, "BEANS", 1, 9000)]
    [got] = apply_promotions(lines, [three_for_100])
    assert (got.times, got.discount, got.line_ids) == (2, 2 * (3 * 3500 - 10000), (1, 2))
    assert apply_promotions([PricedUnit(1, "RICE", 2, 3500)], [three_for_100]) == []  # not enough units


def test_a_bundle_needs_each_item_and_one_unit_is_in_one_offer_only() -> None:
    bundle = _offer("b1", 11000, ("BREAD", 1), ("MILK", 1), kind="bundle")
    two_milk = _offer("m2", 7500, ("MILK", 2))  # saves 500 per use; the bundle saves 1000
    lines = [PricedUnit(1, "BREAD", 1, 8000), PricedUnit(2, "MILK", 3, 4000)]
    got = apply_promotions(lines, [two_milk, bundle])
    assert [(g.promotion_id, g.times, g.discount) for g in got] == [("b1", 1, 1000), ("m2", 1, 500)]
    assert apply_promotions([PricedUnit(2, "MILK", 3, 4000)], [bundle]) == []


def test_overridden_prices_and_offers_that_save_nothing_are_left_alone() -> None:
    offer = _offer("m1", 10000, ("RICE", 3))
    overridden = [PricedUnit(1, "RICE", 3, 3000, eligible=False)]
    assert apply_promotions(overridden, [offer]) == []
    cheap = [PricedUnit(1, "RICE", 3, 3000)]  # 3 x 30.00 is already below 100.00
    assert apply_promotions(cheap, [offer]) == []


def _session(store: Store, clock: dict[str, datetime]) -> CheckoutSession:
    s = store.settings.get()
    return CheckoutSession("s-001", "till-1", s.currency, s.tax_rate_bp, lookup=store.products.find,
                           clock=lambda: clock["now"], offers=store.promotions.in_force)


def test_a_sale_gets_the_offer_from_its_start_and_keeps_it_in_the_stored_sale(store: Store) -> None:
    product = store.products.list()[0]
    price = product.price
    offer_price = 3 * price - 1000
    start = T0 + timedelta(hours=1)
    store.promotions.replace((_offer("m1", offer_price, (product.sku, 3), name="3 for the price", starts=start),),
                             1, "d1", T0)
    clock = {"now": T0}
    session = _session(store, clock)
    session.start(cashier(store))
    session.add_product(product, 3, "barcode")
    assert session.totals().total == 3 * price  # not yet in force
    clock["now"] = start
    view = session.to_dict()
    assert view["totals"]["discount"] == 1000 and view["totals"]["promotions"] == 1000
    assert view["lines"][0]["offers"] == ["3 for the price"]
    assert view["promotions"][0]["discount"] == 1000
    # a supervisor's discount comes on top, at most what is left
    session.review()
    session.set_discount(200, approver=store.users.get("maria"))
    totals = session.to_payment()
    assert (totals.subtotal, totals.discount, totals.total) == (3 * price, 1200, 3 * price - 1200)
    record = session.pay([PaymentPart("cash", totals.total, totals.total)])
    stored = store.sales.record(record)
    payload = stored.to_payload()
    validate("tillsight.tx/2", payload)
    assert payload["promotions"] == [{"promotion_id": "m1", "kind": "multibuy", "name": "3 for the price",
                                      "times": 1, "price": offer_price, "discount": 1000,
                                      "lines": [{"line": 1, "qty": 3, "discount": 1000}]}]
    again = store.sales.get(record.tx_id)
    assert again.promotions[0].discount == 1000 and again.discount == 1200
    # the anomaly scorer sees only the supervisor's discount
    assert sale_features(payload, "America/Santo_Domingo").discount == 200
    header = ReceiptHeader(store_name="Colmado", address="", timezone="America/Santo_Domingo", footer="",
                           tax_rate_bp=1800, language="en")
    text = receipt_text(again, header)
    assert "3 for the price" in text and "Discount" in text


def test_an_offer_the_hub_no_longer_sends_ends(store: Store) -> None:
    product = store.products.list()[0]
    store.promotions.replace((_offer("m1", 100, (product.sku, 2)),), 1, "d1", T0)
    assert [p.promotion_id for p in store.promotions.in_force(T0)] == ["m1"]
    assert store.promotions.replace((), 2, "d2", T0) == 1
    assert store.promotions.in_force(T0) == []
