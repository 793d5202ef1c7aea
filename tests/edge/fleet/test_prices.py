"""The till's price schedule (edge/fleet/prices.py): each pushed change is applied once, at its time,
to the product the till sells; a list that repeats it (or a rollback to an older list) never puts an
old price back; a SKU the till does not sell is recorded and skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from contracts.prices import PriceChange, PriceList
from contracts.timestamps import format_utc
from edge.fleet.prices import PriceSchedule
from tests.support.device import seeded_store

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _change(cid: str, sku: str, price: int, old: int, at: datetime) -> PriceChange:
    return PriceChange(cid, sku, price, old, format_utc(at), "ann", format_utc(T0), "test")


def test_changes_apply_once_at_their_time(tmp_path: Path) -> None:
    store = seeded_store(tmp_path / "store.db")
    a, b = store.products.list()[:2]
    schedule = PriceSchedule(store.db)
    first = PriceList.from_payload(PriceList.build("s-001", "DOP", T0, [
        _change("c1", a.sku, a.price + 100, a.price, T0 + timedelta(hours=1)),
        _change("c2", "NOT-SOLD-HERE", 500, 400, T0 + timedelta(hours=1))]).to_payload())
    done = schedule.schedule(first, 1, "d1", T0)
    assert (done.added, done.known, done.unknown_skus) == (2, 0, ("NOT-SOLD-HERE",))
    assert schedule.apply_due(T0 + timedelta(minutes=59)) == []
    assert store.products.get(a.sku).price == a.price
    applied = schedule.apply_due(T0 + timedelta(hours=1))
    assert {(x.sku, x.outcome) for x in applied} == {(a.sku, "applied"), ("NOT-SOLD-HERE", "unknown_sku")}
    assert store.products.get(a.sku).price == a.price + 100

    # the owner sets the price by hand afterwards; the next list repeats c1 and adds c3 for b
    store.products.upsert(a.sku, a.name, a.price + 50, a.barcode, a.category, a.reorder_level)
    second = PriceList.build("s-001", "DOP", T0, [
        _change("c1", a.sku, a.price + 100, a.price, T0 + timedelta(hours=1)),
        _change("c3", b.sku, b.price - 10, b.price, T0 + timedelta(hours=2))])
    done = schedule.schedule(second, 2, "d2", T0 + timedelta(hours=1, minutes=30))
    assert (done.added, done.known) == (1, 1) and done.next_effective_at == format_utc(T0 + timedelta(hours=2))
    assert [x.change_id for x in schedule.apply_due(T0 + timedelta(hours=3))] == ["c3"]
    assert store.products.get(a.sku).price == a.price + 50  # c1 was not applied again
    assert store.products.get(b.sku).price == b.price - 10
    store.close()


def test_a_withdrawn_change_is_undone_or_never_applied_and_offers_are_replaced(tmp_path: Path) -> None:
    from contracts.prices import Promotion, PromotionItem

    store = seeded_store(tmp_path / "store.db")
    a, b, c = store.products.list()[:3]
    schedule = PriceSchedule(store.db)
    offer = Promotion("p1", "multibuy", "2 for less", (PromotionItem(b.sku, 2),), 2 * b.price - 100,
                      format_utc(T0), "ann", format_utc(T0))
    first = PriceList.build("s-001", "DOP", T0, [
        _change("c1", a.sku, a.price + 100, a.price, T0),
        _change("c2", b.sku, b.price + 100, b.price, T0 + timedelta(hours=5)),
        _change("c3", c.sku, c.price + 100, c.price, T0)], promotions=[offer])
    done = schedule.schedule(PriceList.from_payload(first.to_payload()), 1, "d1", T0)
    assert done.promotions == 1 and [p.promotion_id for p in store.promotions.in_force(T0)] == ["p1"]
    schedule.apply_due(T0)
    assert store.products.get(a.sku).price == a.price + 100
    store.products.upsert(c.sku, c.name, c.price + 7, c.barcode, c.category, c.reorder_level)  # set by hand since

    # a rollback withdraws c1, c2 and c3 and ends the offer
    back = PriceList.build("s-001", "DOP", T0, [], withdrawn=["c1", "c2", "c3"])
    done = schedule.schedule(PriceList.from_payload(back.to_payload()), 2, "d2", T0 + timedelta(hours=1))
    assert done.withdrawn == 3 and store.promotions.in_force(T0) == []
    assert store.products.get(a.sku).price == a.price  # undone
    assert store.products.get(c.sku).price == c.price + 7  # the newer, hand-set price stays
    assert schedule.apply_due(T0 + timedelta(hours=6)) == []  # c2 never comes
    assert store.products.get(b.sku).price == b.price
    # a list repeating the withdrawal changes nothing more
    assert schedule.schedule(PriceList.from_payload(back.to_payload()), 3, "d3", T0 + timedelta(hours=7)).withdrawn == 0
    store.close()


def test_a_version_1_list_still_reads_and_leaves_the_offers_alone(tmp_path: Path) -> None:
    import json

    from contracts.prices import Promotion, PromotionItem

    store = seeded_store(tmp_path / "store.db")
    a = store.products.list()[0]
    schedule = PriceSchedule(store.db)
    store.promotions.replace((Promotion("p1", "multibuy", "2 for less", (PromotionItem(a.sku, 2),), 1,
                                        format_utc(T0), "ann", format_utc(T0)),), 1, "d1", T0)
    v1 = {"schema": "tillsight.prices/1", "store_id": "s-001", "currency": "DOP", "issued_at": format_utc(T0),
          "changes": [_change("c1", a.sku, a.price + 100, a.price, T0).as_dict()]}
    old = PriceList.from_payload(json.dumps(v1))
    assert not old.has_promotions
    done = schedule.schedule(old, 2, "d2", T0)
    assert done.added == 1 and done.promotions is None and len(store.promotions.in_force(T0)) == 1
    store.close()
