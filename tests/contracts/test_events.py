"""Typed sale events: every event the checkout writes reads back as the same record from its payload, the detail
shapes stay those of ``tillsight.tx/1``, and details written before the records existed still read."""

from __future__ import annotations

import pytest

from contracts import ContractError, validate
from contracts.events import (
    EVENT_TYPES,
    DiscountChange,
    DrawerOpen,
    LineVoid,
    ManualEntry,
    PriceOverride,
    RefundApproval,
    SaleVoid,
    VisionMismatch,
    from_parts,
    from_payload,
    payload_events,
)
from edge.checkout.session import PaymentPart
from edge.store import Store
from tests.edge.checkout.helpers import basket, cashier, session_for


def _eventful_sale(store: Store) -> dict:
    """A cash sale with a typed-in item, a price override, a discount, a line void and an item left on the tray."""
    session = session_for(store)
    supervisor = store.users.get("maria")
    session.start(cashier(store))
    session.apply_basket(basket("RICE-LG-2LB", "OIL-SOL-1L", "SUGAR-2LB"))
    session.review()
    session.add_product(store.products.get("BATT-AA-4"), 2)
    session.override_price(session.lines[0].line_id, 7000, supervisor, "dented")
    session.to_payment()
    session.remove_line(next(ln for ln in session.lines if ln.sku == "SUGAR-2LB").line_id, supervisor, "changed mind")
    session.set_discount(500, supervisor, "loyal customer")
    total = session.to_payment().total
    return store.sales.record(session.pay([PaymentPart("cash", total, total + 2000)])).to_payload()


def test_the_checkouts_events_read_back_as_their_records(store: Store) -> None:
    payload = _eventful_sale(store)
    validate("tillsight.tx/2", payload)
    events = payload_events(payload)
    kinds = [type(e) for e in events]
    assert kinds == [ManualEntry, PriceOverride, LineVoid, DiscountChange, DrawerOpen, VisionMismatch]
    assert [e.type for e in events] == [e["type"] for e in payload["events"]]
    assert all(e.type in EVENT_TYPES for e in events)
    manual, override, void, discount, drawer, mismatch = events
    assert (manual.sku, manual.qty, manual.by) == ("BATT-AA-4", 2, "ana")
    assert (override.old_price, override.new_price, override.reason, override.by) == (
        store.products.get("RICE-LG-2LB").price, 7000, "dented", "maria")
    assert (void.sku, void.qty, void.reason) == ("SUGAR-2LB", 1, "changed mind")
    assert (discount.old_discount, discount.new_discount) == (0, 500)
    assert (drawer.no_sale, drawer.reason) == (False, "sale")
    assert (mismatch.sku, mismatch.seen, mismatch.sold) == ("SUGAR-2LB", 1, 0)
    assert [e.to_payload() for e in events] == payload["events"]  # the payload is the records' own writing


def test_every_record_survives_its_payload() -> None:
    at = "2026-11-21T14:03:40Z"
    records = [LineVoid(at=at, by="maria", sku="A", qty=2, reason="qty reduced", name="Apple", line_total=500),
               SaleVoid(at=at, by="maria", lines=3, reason="customer left"),
               PriceOverride(at=at, by="maria", sku="A", name="Apple", old_price=250, new_price=200, reason="dented"),
               DiscountChange(at=at, by="maria", old_discount=0, new_discount=100, reason="loyal"),
               RefundApproval(at=at, by="maria", of="TILL-1-000004", reason="broken"),
               ManualEntry(at=at, by="ana", sku="A", qty=1),
               DrawerOpen(at=at, by="ana", no_sale=True, reason="change for a note"),
               DrawerOpen(at=at, by="ana", no_sale=False, reason="sale"),
               VisionMismatch(at=at, sku="A", seen=2, sold=1),
               VisionMismatch(at=at, sku="A", rung="B")]
    for record in records:
        assert from_payload(record.to_payload()) == record


def test_details_written_before_the_records_still_read() -> None:
    at = "2026-03-10T13:00:00Z"
    old_discount = from_parts("price_override", at, {"kind": "discount", "from": 0, "to": 500})
    assert old_discount == DiscountChange(at=at, old_discount=0, new_discount=500)
    assert from_parts("drawer_open", at, {}) == DrawerOpen(at=at, no_sale=False)  # no flag: not a no-sale opening
    assert from_parts("drawer_open", at, {"no_sale": True}).no_sale is True
    assert from_parts("vision_mismatch", at, {"seen": "A", "rung": "B"}) == VisionMismatch(at=at, sku="A", rung="B")
    assert from_parts("void_line", at, {"sku": "A", "by": "maria"}).by == "maria"


def test_an_unknown_event_type_is_refused_by_name_and_skipped_in_a_payload() -> None:
    with pytest.raises(ContractError, match="'till_fire'"):
        from_parts("till_fire", "2026-03-10T13:00:00Z", {})
    payload = {"events": [{"type": "till_fire", "at": "2026-03-10T13:00:00Z", "detail": {}},
                          ManualEntry(at="2026-03-10T13:00:00Z", sku="A").to_payload()]}
    assert payload_events(payload) == [ManualEntry(at="2026-03-10T13:00:00Z", sku="A")]


def test_an_unknown_item_rung_up_at_the_till_validates_and_reads_back(store: Store) -> None:
    from contracts.events import UnknownItem
    from tests.edge.checkout.helpers import tray, unknown_item

    session = session_for(store)
    session.start(cashier(store))
    session.apply_basket(tray(unknown_item(1), unknown_item(2)))
    first, second = session.unresolved()
    session.resolve_line(first.line_id, store.products.get("OIL-SOL-1L"), "search")
    session.remove_line(second.line_id)
    total = session.to_payment().total
    payload = store.sales.record(session.pay([PaymentPart("card", total)])).to_payload()
    validate("tillsight.tx/2", payload)  # the sale schema every hub already has: no new event type
    unknown = [e for e in payload_events(payload) if isinstance(e, UnknownItem)]
    assert [(e.sku, e.how, e.sold) for e in unknown] == [("OIL-SOL-1L", "search", True), (None, "removed", False)]
    assert all(e.to_payload()["type"] == "vision_mismatch" for e in unknown)
    assert from_payload(unknown[1].to_payload()) == unknown[1]
