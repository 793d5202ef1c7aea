"""The basket stabiliser: items settle after agreeing frames, and put-down / take-away make events."""

from __future__ import annotations

from vision.basket import BasketStabiliser
from vision.detector import Detection


def det(sku: str, box: tuple[float, float, float, float], conf: float = 0.9,
        alts: tuple[tuple[str, float], ...] = ()) -> Detection:
    return Detection(sku, 0, conf, box, alts)


RICE = (10, 10, 110, 80)
SODA = (200, 50, 260, 170)


def feed(stab: BasketStabiliser, frames: list[list[Detection]]):
    return [stab.update(d, at=float(i)) for i, d in enumerate(frames)]


def test_an_item_joins_the_basket_only_after_settle_frames_agree():
    stab = BasketStabiliser(settle_frames=3)
    snaps = feed(stab, [[det("RICE", RICE)]] * 3)
    assert [s.items for s in snaps[:2]] == [(), ()]
    assert not snaps[0].settled and not snaps[1].settled
    assert snaps[2].counts == {"RICE": 1} and snaps[2].settled
    assert [(e.kind, e.sku) for e in snaps[2].events] == [("add", "RICE")]


def test_a_one_frame_flicker_never_reaches_the_basket():
    stab = BasketStabiliser(settle_frames=3)
    snaps = feed(stab, [[det("RICE", RICE)], [], [], []])
    assert all(not s.events for s in snaps)
    assert snaps[-1].items == () and snaps[-1].settled


def test_taking_an_item_away_removes_it_after_settle_frames_missing():
    stab = BasketStabiliser(settle_frames=2)
    both = [det("RICE", RICE), det("SODA", SODA)]
    snaps = feed(stab, [both, both, [det("RICE", RICE)], [det("RICE", RICE)]])
    assert snaps[1].counts == {"RICE": 1, "SODA": 1}
    assert not snaps[2].settled and snaps[2].counts == {"RICE": 1, "SODA": 1}  # not yet sure it left
    assert [(e.kind, e.sku) for e in snaps[3].events] == [("remove", "SODA")]
    assert snaps[3].counts == {"RICE": 1} and snaps[3].settled


def test_two_of_the_same_product_count_twice():
    stab = BasketStabiliser(settle_frames=2)
    frame = [det("SODA", SODA), det("SODA", (300, 50, 360, 170))]
    snaps = feed(stab, [frame, frame])
    assert snaps[-1].counts == {"SODA": 2}
    assert sorted(e.track_id for e in snaps[-1].events) == [1, 2]


def test_one_misread_frame_does_not_change_the_line():
    stab = BasketStabiliser(settle_frames=2)
    snaps = feed(stab, [[det("RICE", RICE)]] * 3 + [[det("SUGAR", RICE, 0.5)]] + [[det("RICE", RICE)]] * 2)
    assert all(e.sku == "RICE" for s in snaps for e in s.events)
    assert snaps[-1].counts == {"RICE": 1}


def test_a_lasting_change_of_mind_is_a_remove_and_an_add_with_alternatives():
    stab = BasketStabiliser(settle_frames=2)
    snaps = feed(stab, [[det("RICE", RICE, 0.6, (("RICE-5", 0.3),))]] * 2
                 + [[det("RICE-5", RICE, 0.95, (("RICE", 0.2),))]] * 4)
    kinds = [(e.kind, e.sku) for s in snaps for e in s.events]
    assert kinds[0] == ("add", "RICE")
    assert ("remove", "RICE") in kinds and kinds[-1] == ("add", "RICE-5")
    assert snaps[-1].counts == {"RICE-5": 1}
    add_event = snaps[0].events or snaps[1].events
    assert add_event[0].alternatives and add_event[0].alternatives[0][0] == "RICE-5"


def test_low_confidence_detections_are_ignored():
    stab = BasketStabiliser(settle_frames=1, min_confidence=0.5)
    snap = stab.update([det("RICE", RICE, 0.2)], at=0.0)
    assert snap.items == ()


def test_a_moved_item_keeps_its_track():
    stab = BasketStabiliser(settle_frames=2)
    moved = (20, 15, 120, 85)
    snaps = feed(stab, [[det("RICE", RICE)], [det("RICE", RICE)], [det("RICE", moved)], [det("RICE", moved)]])
    assert [e.kind for s in snaps for e in s.events] == ["add"]
    assert snaps[-1].items[0].box == moved


def unknown(box: tuple[float, float, float, float], best: float = 0.6,
            closest: tuple[tuple[str, float], ...] = (("RICE", 0.6), ("SODA", 0.5))) -> Detection:
    return Detection(None, -1, best, box, closest, "vision", False)


def test_an_unknown_item_settles_as_an_item_without_a_sku_and_is_not_counted():
    stab = BasketStabiliser(settle_frames=3, min_confidence=0.35)
    snaps = feed(stab, [[det("SODA", SODA), unknown(RICE, best=0.1)]] * 3)
    last = snaps[-1]
    assert last.settled and last.counts == {"SODA": 1}
    [item] = last.unknown
    assert (item.sku, item.known, item.confidence) == (None, False, 0.1)  # kept despite its weak score
    assert item.alternatives == (("RICE", 0.6), ("SODA", 0.5))
    adds = {(e.sku, e.known) for e in last.events if e.kind == "add"}
    assert adds == {("SODA", True), (None, False)}


def test_an_unknown_item_identified_later_is_a_remove_and_an_add_on_the_same_track():
    stab = BasketStabiliser(settle_frames=2)
    feed(stab, [[unknown(RICE)]] * 2)
    [item] = stab.snapshot().items
    snaps = [stab.update([det("RICE", RICE)], at=10.0 + i) for i in range(3)]
    changes = [(e.kind, e.sku, e.known, e.track_id) for s in snaps for e in s.events]
    assert changes == [("remove", None, False, item.track_id), ("add", "RICE", True, item.track_id)]
    assert stab.snapshot().counts == {"RICE": 1} and stab.snapshot().unknown == ()


def test_an_unknown_item_taken_away_is_removed_as_unknown():
    stab = BasketStabiliser(settle_frames=2)
    snaps = feed(stab, [[unknown(RICE)]] * 2 + [[]] * 3)
    events = [(e.kind, e.sku, e.known) for s in snaps for e in s.events]
    assert events == [("add", None, False), ("remove", None, False)]
    assert stab.snapshot().items == ()
