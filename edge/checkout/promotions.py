"""The checkout's offer pricing: which multi-buy and bundle offers a basket gets, and for how much.

Pure arithmetic on integer minor units, no I/O: :func:`apply_promotions` takes the basket's priced
lines and the offers in force (``edge/store/promotions.py``, sent by the hub in ``tillsight.prices/2``)
and returns each offer applied with how many times and its discount.

* A **multi-buy** ("3 for RD$100") takes ``qty`` units of one SKU; a **bundle** ("A and B together for
  X") one set of its items.  An offer applies as many whole times as the basket holds its items.
* Only units sold at their shelf price count: a line whose price a supervisor overrode keeps that
  price and gets no offer on top.
* One unit is in at most one offer.  The offers with the largest saving per use are applied first
  (then by id, so the same basket always prices the same).
* The discount of one use is the shelf price of the units it takes (the dearest units first, where
  one SKU sits on lines at two prices) minus the offer's price; an offer that would not save anything
  is not applied.

The discount is part of the sale's ``discount`` (so totals, tax and the hub's margins see it) and
each offer applied is kept in the sale (``SaleRecord.promotions``, ``SalePromotion``), shown on the basket line and the
receipt.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.prices import Promotion
from edge.store.records import SalePromotion


@dataclass(frozen=True)
class PricedUnit:
    """What a basket line offers to the offer pricing: ``qty`` units of ``sku`` at ``unit_price``."""

    line_id: int
    sku: str
    qty: int
    unit_price: int
    eligible: bool = True  # False: its price was overridden


def _saving_per_use(promo: Promotion, shelf: dict[str, int]) -> int:
    regular = sum(shelf.get(i.sku, 0) * i.qty for i in promo.items)
    return regular - promo.price


def apply_promotions(lines: list[PricedUnit], promotions: list[Promotion]) -> list[SalePromotion]:
    """The offers ``lines`` get, in the order they were applied."""
    pool: dict[str, list[tuple[int, int]]] = {}  # sku -> units left as (unit_price, line_id), dearest first
    for ln in lines:
        if ln.eligible and ln.qty > 0:
            pool.setdefault(ln.sku, []).extend([(ln.unit_price, ln.line_id)] * ln.qty)
    for units in pool.values():
        units.sort(key=lambda u: (-u[0], u[1]))
    shelf = {sku: units[0][0] for sku, units in pool.items() if units}
    usable = [p for p in promotions if p.items and all(i.sku in pool for i in p.items)]
    usable.sort(key=lambda p: (-_saving_per_use(p, shelf), p.promotion_id))
    out: list[SalePromotion] = []
    for promo in usable:
        need: dict[str, int] = {}
        for item in promo.items:
            need[item.sku] = need.get(item.sku, 0) + item.qty
        times = min(len(pool[sku]) // qty for sku, qty in need.items())
        discount = 0
        used: dict[int, int] = {}  # basket line id -> units taken
        applied = 0
        for _use in range(times):
            taken = {sku: pool[sku][:qty] for sku, qty in need.items()}
            regular = sum(price for units in taken.values() for price, _line in units)
            if regular <= promo.price:
                break  # no saving (the units left are cheaper): stop here
            for sku, qty in need.items():
                del pool[sku][:qty]
            discount += regular - promo.price
            for units in taken.values():
                for _price, line in units:
                    used[line] = used.get(line, 0) + 1
            applied += 1
        if applied:
            out.append(SalePromotion(promo.promotion_id, promo.kind, promo.name, applied, promo.price, discount,
                                     tuple(sorted(used)), tuple(sorted(used.items()))))
    return out
