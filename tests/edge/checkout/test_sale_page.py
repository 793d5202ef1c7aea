"""The owner's sale page (``Reports.sale_detail``) reads back what the checkout really wrote: each test
rings a sale up through the checkout session, records it in the store, and reads the page."""

from __future__ import annotations

from contracts.events import DiscountChange, DrawerOpen
from edge.checkout.session import PaymentPart
from edge.store import Store
from edge.store.reports import Reports
from tests.edge.checkout.helpers import basket, cashier, session_for


def _event_texts(store: Store, tx_id: str) -> list[str]:
    return [e["text"] for e in Reports(store.db).sale_detail(tx_id)["events"]]


def test_a_discount_given_at_the_till_reads_with_both_amounts_on_the_sale_page(store: Store) -> None:
    session = session_for(store)
    session.start(cashier(store))
    session.apply_basket(basket("RICE-LG-2LB", "OIL-SOL-1L"))
    session.review()
    session.set_discount(1500, store.users.get("maria"), "loyal customer")
    total = session.to_payment().total
    recorded = store.sales.record(session.pay([PaymentPart("card", total)]))

    [discount] = [e for e in recorded.events if isinstance(e, DiscountChange)]
    assert (discount.old_discount, discount.new_discount, discount.by) == (0, 1500, "maria")
    texts = _event_texts(store, recorded.tx_id)
    assert "Discount changed from RD$0.00 to RD$15.00 (loyal customer)" in texts
    assert not any("?" in text for text in texts)


def test_a_cash_sale_opens_the_drawer_for_its_payment_not_without_a_sale(store: Store) -> None:
    session = session_for(store)
    session.start(cashier(store))
    session.apply_basket(basket("SUGAR-2LB"))
    total = session.to_payment().total
    recorded = store.sales.record(session.pay([PaymentPart("cash", total, total + 1000)]))

    [drawer] = [e for e in recorded.events if isinstance(e, DrawerOpen)]
    assert drawer.no_sale is False and drawer.reason == "sale"
    assert "Cash drawer opened for the payment" in _event_texts(store, recorded.tx_id)
