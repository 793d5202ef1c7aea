"""Unknown items at checkout: a product the camera found but could not identify is a line that asks for a
barcode or a search, never a wrong SKU and never a silent omission; corrections become gallery candidates."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from contracts.events import UnknownItem, VisionMismatch
from edge.auth.service import Authenticator
from edge.checkout.corrections import CorrectionKeeper
from edge.checkout.errors import CheckoutError
from edge.checkout.service import CheckoutService
from edge.checkout.session import Correction, PaymentPart
from edge.store import Store
from tests.edge.checkout.helpers import basket, cashier, session_for, tray, unknown_item
from vision.gallery.candidates import CandidateStore

OIL = "OIL-SOL-1L"
SUGAR = "SUGAR-2LB"


@pytest.fixture
def session(store: Store):
    s = session_for(store)
    s.start(cashier(store))
    return s


def _known(*skus: str):
    return basket(*skus).items


def _pay(session) -> object:
    total = session.to_payment().total
    return session.pay([PaymentPart("cash", total, total)])


def test_an_unknown_item_is_a_line_of_its_own_with_no_price_and_blocks_payment(session, store):
    session.apply_basket(tray(*_known(OIL), unknown_item(7)))
    view = session.to_dict()
    unknown = [ln for ln in view["lines"] if ln["unknown"]]
    assert len(unknown) == 1 and unknown[0]["sku"] is None and unknown[0]["name"] == "Unknown item"
    assert unknown[0]["line_total"] == 0 and view["unknown_lines"] == 1
    oil_price = store.products.get(OIL).price
    assert view["totals"]["total"] == oil_price and view["totals"]["items"] == 1  # not counted as sold
    with pytest.raises(CheckoutError, match=r"unknown item.*barcode.*search"):
        session.to_payment()
    assert session.state == "scanning"


def test_a_barcode_turns_the_unknown_line_into_a_priced_line_that_the_tray_does_not_double(session, store):
    session.apply_basket(tray(*_known(OIL), unknown_item(7)))
    line_id = session.unresolved()[0].line_id
    sugar = store.products.get(SUGAR)
    session.resolve_line(line_id, sugar, "barcode")
    line = next(ln for ln in session.lines if ln.line_id == line_id)
    assert (line.sku, line.unit_price, line.source, line.unknown) == (SUGAR, sugar.price, "barcode", False)
    # the tray settles again with the same unidentified track: no new unknown line, no second sugar
    session.apply_basket(tray(*_known(OIL), unknown_item(7)))
    assert sorted((ln.sku, ln.qty) for ln in session.lines) == [(OIL, 1), (SUGAR, 1)]
    sale = _pay(session)
    assert sale.total == store.products.get(OIL).price + sugar.price
    assert [ln.source for ln in sale.lines] == ["vision", "barcode"]
    assert [e for e in sale.events if isinstance(e, UnknownItem)] == [
        UnknownItem(at=sale.completed_at, sku=SUGAR, how="barcode")]


def test_a_search_resolves_it_too_and_is_recorded_as_such(session, store):
    session.apply_basket(tray(unknown_item(3)))
    session.resolve_line(session.unresolved()[0].line_id, store.products.get(OIL), "search")
    sale = _pay(session)
    assert [(ln.sku, ln.source) for ln in sale.lines] == [(OIL, "manual")]
    [event] = [e for e in sale.events if isinstance(e, UnknownItem)]
    assert (event.sku, event.how, event.sold) == (OIL, "search", True)
    assert event.to_payload()["type"] == "vision_mismatch"  # a type every hub already accepts


def test_each_unknown_item_is_its_own_line_and_one_that_leaves_the_tray_is_recorded(session, store):
    session.apply_basket(tray(unknown_item(1), unknown_item(2, box=(300.0, 90.0, 380.0, 190.0))))
    assert len(session.unresolved()) == 2
    session.apply_basket(tray(unknown_item(2, box=(300.0, 90.0, 380.0, 190.0))))  # the first was taken away
    [left] = session.unresolved()
    assert left.track_ids == (2,)
    session.resolve_line(left.line_id, store.products.get(OIL), "barcode")
    sale = _pay(session)
    hows = sorted((e.how, e.sku) for e in sale.events if isinstance(e, UnknownItem))
    assert hows == [("barcode", OIL), ("left_tray", None)]


def test_removing_an_unknown_line_is_allowed_recorded_and_not_undone_by_a_rescan(session, store):
    session.apply_basket(tray(*_known(OIL), unknown_item(9)))
    session.remove_line(session.unresolved()[0].line_id)
    assert session.state == "review"
    session.rescan()
    session.apply_basket(tray(*_known(OIL), unknown_item(9)))  # still on the tray: the customer keeps it
    assert session.unresolved() == []
    sale = _pay(session)
    assert [(e.sku, e.how) for e in sale.events if isinstance(e, UnknownItem)] == [(None, "removed")]


def test_an_unknown_line_has_no_quantity_or_price_to_change(session, store):
    session.apply_basket(tray(unknown_item(4)))
    line_id = session.unresolved()[0].line_id
    with pytest.raises(CheckoutError, match="scan its barcode"):
        session.set_qty(line_id, 2)
    with pytest.raises(CheckoutError, match="no price"):
        session.override_price(line_id, 100, store.users.get("maria"))


def test_alternatives_at_zero_percent_are_not_offered_and_picking_one_resolves_an_unknown(session, store):
    session.apply_basket(tray(unknown_item(5, alternatives=((SUGAR, 0.41), ("RICE-LG-5LB", 0.004)))))
    [line] = session.unresolved()
    assert [a["sku"] for a in line.alternatives] == [SUGAR]
    with pytest.raises(CheckoutError):
        session.pick_alternative(line.line_id, "RICE-LG-5LB")
    session.pick_alternative(line.line_id, SUGAR)
    assert (line.sku, line.unknown, line.unit_price) == (SUGAR, False, store.products.get(SUGAR).price)
    session.apply_basket(tray(unknown_item(5, alternatives=((SUGAR, 0.41),))))  # the same tray settles again
    assert [(ln.sku, ln.qty, ln.unknown) for ln in session.lines] == [(SUGAR, 1, False)]
    session.apply_basket(tray(*basket(SUGAR).items, unknown_item(5)))  # a second sugar the camera knows
    assert sorted((ln.sku, ln.qty) for ln in session.lines) == [(SUGAR, 1), (SUGAR, 1)]
    session.apply_basket(basket(OIL, alternatives={OIL: [("OIL-SOL-500ML", 0.0), (SUGAR, 0.2)]}))
    oil = next(ln for ln in session.lines if ln.sku == OIL)
    assert [a["sku"] for a in oil.alternatives] == [SUGAR]


def test_an_unknown_item_identified_later_becomes_a_normal_camera_line(session, store):
    session.apply_basket(tray(unknown_item(6)))
    known_now = basket(OIL).items[0]
    session.apply_basket(tray(type(known_now)(6, OIL, 0.9, known_now.box, (), "vision")))  # the gallery grew
    assert [(ln.sku, ln.source, ln.unknown) for ln in session.lines] == [(OIL, "vision", False)]
    sale = _pay(session)
    assert not [e for e in sale.events if isinstance(e, UnknownItem | VisionMismatch)]


def test_corrections_are_reported_with_the_box_and_a_failing_keeper_never_blocks_the_sale(session, store):
    seen: list[Correction] = []
    session.on_correction = seen.append
    session.apply_basket(tray(unknown_item(7, box=(10.0, 20.0, 90.0, 120.0)),
                              *basket(OIL, alternatives={OIL: [(SUGAR, 0.3)]}).items))
    session.resolve_line(session.unresolved()[0].line_id, store.products.get("RICE-LG-5LB"), "barcode")
    oil = next(ln for ln in session.lines if ln.sku == OIL)
    session.pick_alternative(oil.line_id, SUGAR)
    assert [(c.sku, c.how, c.camera_said, c.box) for c in seen] == [
        ("RICE-LG-5LB", "barcode", None, (10.0, 20.0, 90.0, 120.0)),
        (SUGAR, "alternative", OIL, oil.box)]

    def broken(_: Correction) -> None:
        raise OSError("disk full")

    session.on_correction = broken
    session.add_product(store.products.get(OIL), 1, "barcode")
    session.apply_basket(tray(unknown_item(8)))  # review: frozen, so ring the rest up
    assert _pay(session).status == "completed"


def test_the_service_keeps_a_corrections_crop_as_a_gallery_candidate(store: Store, tmp_path: Path):
    candidates = CandidateStore(tmp_path / "candidates")
    keeper = CorrectionKeeper(candidates)
    service = CheckoutService(store, Authenticator(store.users), "s-001", "till-1", corrections=keeper)
    service.start(_open_shift(store))
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[100:200, 100:180] = (40, 160, 220)  # the unknown product where its box says
    service.on_basket(tray(unknown_item(7, box=(100.0, 100.0, 180.0, 200.0))), frame)
    line_id = service.session.unresolved()[0].line_id
    barcode = store.products.get(SUGAR).barcode
    view = service.resolve(line_id, barcode, "barcode")
    assert view["unknown_lines"] == 0 and view["lines"][0]["sku"] == SUGAR  # answered before the crop is written
    assert keeper.wait_idle(10)
    [cand] = candidates.pending()
    assert (cand.sku, cand.how, cand.camera_said, cand.tx_id) == (SUGAR, "barcode", None, service.session.tx_id)
    crop = candidates.photo_path(cand.id)
    image = cv2.imread(str(crop))
    assert image.shape[0] > 90 and image.shape[1] > 70 and image[50, 40].tolist() != [0, 0, 0]
    keeper.stop()


def _open_shift(store: Store):
    user = cashier(store)
    if store.shifts.open_for(user.id) is None:
        store.shifts.open(user.id, 50000)
    return user


def test_a_wrong_camera_line_is_corrected_by_barcode_and_kept_as_a_correction(session, store):
    seen: list[Correction] = []
    session.on_correction = seen.append
    session.apply_basket(basket(OIL, OIL))
    oil = session.lines[0]
    session.resolve_line(oil.line_id, store.products.get(SUGAR), "barcode")
    assert [(ln.sku, ln.qty, ln.source) for ln in session.lines] == [(SUGAR, 2, "barcode")]
    assert session.state == "review"
    assert [(c.sku, c.how, c.camera_said) for c in seen] == [(SUGAR, "barcode", OIL)]
    sale = _pay(session)
    assert not [e for e in sale.events if isinstance(e, UnknownItem)]
    # the camera saw two oils that were not sold: still a vision mismatch, as before
    assert [(e.sku, e.seen, e.sold) for e in sale.events if isinstance(e, VisionMismatch)] == [(OIL, 2, 0)]
