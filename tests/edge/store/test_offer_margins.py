"""Margins per product when a sale had an offer: the offer's saving belongs to the lines it covered, only a
supervisor's discount is spread over every line (contracts.margins), in the stored sale, the device's
reports and a refund.  Sales go through the real checkout session and the store's one writer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction

import pytest

from contracts.prices import Promotion, PromotionItem
from contracts.validation import validate
from edge.checkout.refund import build_refund
from edge.checkout.session import CheckoutSession, PaymentPart
from edge.store import Store
from edge.store.records import SaleRecord
from edge.store.reports import Reports
from tests.edge.checkout.helpers import basket, cashier

DAY = date(2026, 3, 10)
AT = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 11:00 store time
RICE, OIL = "RICE-LG-5LB", "OIL-SOL-1L"  # 175.00 and 210.00 on the shelf, 18 % tax inside
THREE_RICE = Promotion("m-rice", "multibuy", "3 x Rice 5 lb", (PromotionItem(RICE, 3),), 50000,
                       "2026-03-01T00:00:00Z", "ann", "2026-03-01T00:00:00Z")  # saves 25.00 on 3 x 175.00


@pytest.fixture
def shop(store: Store) -> Store:
    store.costs.set_cost(RICE, 12000, "owner")
    store.costs.set_cost(OIL, 15000, "owner")
    store.promotions.replace((THREE_RICE,), 1, "d1", AT)
    return store


def _sell(store: Store, *skus: str, hand_discount: int = 0) -> SaleRecord:
    s = store.settings.get()
    session = CheckoutSession("s-001", "till-1", s.currency, s.tax_rate_bp, lookup=store.products.find,
                              clock=lambda: AT, offers=store.promotions.in_force)
    session.start(cashier(store))
    session.apply_basket(basket(*skus))
    if hand_discount:
        session.review()
        session.set_discount(hand_discount, store.users.get("maria"), "regular customer")
    total = session.to_payment().total
    return store.sales.record(session.pay([PaymentPart("cash", total, total)]))


def _exact(after_offer: int, sale: SaleRecord, base: int) -> Fraction:
    """A line's revenue worked out by hand: what it came to after its offer, its share of the rest."""
    return Fraction(after_offer * (sale.total - sale.tax), base)


def test_the_offer_lowers_only_the_offered_products_margin(shop: Store) -> None:
    sale = _sell(shop, RICE, RICE, RICE, OIL, hand_discount=1000)
    assert (sale.subtotal, sale.discount, sale.total) == (3 * 17500 + 21000, 2500 + 1000, 70000)
    payload = sale.to_payload()
    validate("tillsight.tx/2", payload)
    rice_no = next(i + 1 for i, ln in enumerate(sale.lines) if ln.sku == RICE)
    assert payload["promotions"][0]["lines"] == [{"line": rice_no, "qty": 3, "discount": 2500}]

    # rice came to 500.00 after the offer, oil 210.00; the hand discount of 10.00 is shared over 710.00
    rice_net, oil_net = _exact(50000, sale, 71000), _exact(21000, sale, 71000)
    top = {t.sku: t for t in Reports(shop.db).top_products(DAY, by="profit")}
    assert abs(top[RICE].net_revenue - rice_net) <= Fraction(1, 2)
    assert abs(top[OIL].net_revenue - oil_net) <= Fraction(1, 2)
    assert top[RICE].net_revenue + top[OIL].net_revenue == sale.total - sale.tax
    assert top[RICE].gross_profit == top[RICE].net_revenue - 3 * 12000
    assert top[OIL].gross_profit == top[OIL].net_revenue - 15000
    # spread pro rata over the whole sale (the rule before), oil would have paid for part of rice's offer
    assert top[OIL].net_revenue - Fraction(21000 * (sale.total - sale.tax), sale.subtotal) > 200
    detail = Reports(shop.db).sale_detail(sale.tx_id)
    assert {ln["sku"]: ln["gross_profit"] for ln in detail["lines"]} == {
        RICE: top[RICE].gross_profit, OIL: top[OIL].gross_profit}


def test_a_sale_without_offers_is_shared_pro_rata_as_before(shop: Store) -> None:
    shop.promotions.replace((), 2, "d2", AT)
    sale = _sell(shop, RICE, OIL, hand_discount=1000)
    assert "promotions" not in sale.to_payload()
    top = {t.sku: t for t in Reports(shop.db).top_products(DAY)}
    assert abs(top[OIL].net_revenue - _exact(21000, sale, sale.subtotal)) <= Fraction(1, 2)


def test_a_refund_gives_back_the_lines_share_of_its_offer(shop: Store) -> None:
    sale = _sell(shop, RICE, RICE, RICE, OIL, hand_discount=1000)
    ana, maria = shop.users.get("ana"), shop.users.get("maria")

    oil = build_refund(sale, {OIL: 1}, {}, ana, maria, 1800, now="2026-03-10T16:00:00Z")
    # oil was in no offer: only its share of the hand discount (210/710 of 10.00) stays with the shop
    assert (oil.discount, oil.total, oil.promotions) == (-295, -21000 + 295, [])

    one = build_refund(sale, {RICE: 1}, {}, ana, maria, 1800, now="2026-03-10T16:01:00Z")
    # a third of rice's 25.00 saving goes back, and its share of the hand discount on what is left
    assert [(p.promotion_id, p.times, p.discount, p.lines) for p in one.promotions] == [
        ("m-rice", 0, -833, ((1, -1, -833),))]
    assert one.discount == -833 - (16667 * 1000 // 71000) and one.total == -17500 - one.discount
    one = shop.sales.record(one)  # the one writer checks it and validates its tx/2 payload
    validate("tillsight.tx/2", one.to_payload())
    rest = build_refund(sale, {RICE: 2}, shop.sales.refunded_qty(sale.tx_id), ana, maria, 1800,
                        now="2026-03-10T16:02:00Z")
    assert sum(p.discount for p in one.promotions + rest.promotions) == -2500  # the whole saving, no more
    shop.sales.record(rest)

    top = {t.sku: t for t in Reports(shop.db).products_between("2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z")}
    assert top[RICE].qty == 0
    # what the three refunded units took back is what they brought in, give or take the rounding
    assert abs(top[RICE].net_revenue) <= 2
    again = shop.sales.get(one.tx_id)
    assert again.promotions[0].lines == ((1, -1, -833),)
