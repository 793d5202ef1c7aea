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
