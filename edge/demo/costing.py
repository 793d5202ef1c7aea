"""What the demo shop pays for its goods and how its prices moved, over the weeks of its history.

- Each product's cost is its shelf price before ITBIS less a margin typical of its category (staples thin,
  snacks and household goods fatter); ``SALAMI-500`` (weighed deli, costed by nobody) has no cost, so the
  dashboard shows what "no cost" looks like.
- Suppliers raised some costs during the history (:data:`COST_RISES`); one of them (sunflower oil) was not
  passed on, so that product now sells below cost, as in a real shop that missed an invoice.
- The shop raised a few prices (:data:`PRICE_RISES`): before the change the old price was rung up.
- Three suppliers deliver the categories, each with a lead time.

Everything is deterministic (no random draws), so the history generator keeps its own sequence of draws.
Changes happen at a fraction of the history's length; a history shorter than :data:`MIN_DAYS` has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from vision.catalogue import Product

TAX_RATE_PCT = 18
MIN_DAYS = 14
# gross margin over the price before tax, by category
CATEGORY_MARGIN = {"grains": 0.14, "oil": 0.12, "canned": 0.22, "dairy": 0.17, "soda": 0.25, "beer": 0.20,
                   "water": 0.35, "malt": 0.22, "pasta": 0.24, "snacks": 0.34, "biscuits": 0.30, "juice": 0.26,
                   "household": 0.30}
DEFAULT_MARGIN = 0.22
NO_COST = frozenset({"SALAMI-500"})
# (sku, when as a fraction of the history, cost rise): supplier increases
COST_RISES = (("OIL-SOL-1L", 0.55, 0.22), ("RICE-LG-5LB", 0.35, 0.07), ("MILK-1L", 0.6, 0.08),
              ("BEER-PRZ-650", 0.45, 0.05))
# (sku, when as a fraction of the history, price before the change): the shop's own price rises
PRICE_RISES = (("RICE-LG-5LB", 0.4, 16500), ("COFFEE-227", 0.5, 13000), ("SODA-KOLA-2L", 0.3, 11000))
# suppliers: (name, contact, phone, categories, lead time in days)
SUPPLIERS = (("Distribuidora Caribe", "Julio Peña", "809-555-0201", ("grains", "oil", "canned", "pasta", "dairy"), 2),
             ("Bebidas del Este", "Carla Ruiz", "809-555-0202", ("beer", "malt", "soda", "water", "juice"), 3),
             ("Importadora El Hogar", "Ramón Vidal", "829-555-0203", ("household", "snacks", "biscuits"), 7))


@dataclass(frozen=True)
class Change:
    sku: str
    day: date  # the first store-local day at the new value
    old: int
    new: int


def _round_to(value: float, step: int) -> int:
    return max(step, int(round(value / step)) * step)


def base_cost(product: Product) -> int | None:
    """The product's cost before any change (minor units), or None for a product with no cost."""
    if product.sku in NO_COST:
        return None
    before_tax = product.price * 100 / (100 + TAX_RATE_PCT)
    return _round_to(before_tax * (1 - CATEGORY_MARGIN.get(product.category, DEFAULT_MARGIN)), 5)


class CostPlan:
    """Costs and prices of ``products`` on each day of a history from ``first`` to ``last`` (store-local)."""

    def __init__(self, products: Sequence[Product], first: date, last: date) -> None:
        self.products = {p.sku: p for p in products}
        self.first, self.last = first, last
        span = (last - first).days + 1
        self.cost_changes: list[Change] = []
        self.price_changes: list[Change] = []
        if span < MIN_DAYS:
            return
        for sku, at, rise in COST_RISES:
            product = self.products.get(sku)
            cost = base_cost(product) if product else None
            if cost is not None:
                self.cost_changes.append(Change(sku, first + timedelta(days=round(at * span)), cost,
                                                _round_to(cost * (1 + rise), 5)))
        for sku, at, old_price in PRICE_RISES:
            if sku in self.products:
                self.price_changes.append(Change(sku, first + timedelta(days=round(at * span)), old_price,
                                                 self.products[sku].price))

    def cost_on(self, sku: str, day: date) -> int | None:
        product = self.products.get(sku)
        cost = base_cost(product) if product else None
        for change in self.cost_changes:
            if change.sku == sku and day >= change.day:
                cost = change.new
        return cost

    def price_on(self, sku: str, day: date) -> int:
        """The shelf price rung up on ``day`` (the catalogue's price once its last change has happened)."""
        for change in self.price_changes:
            if change.sku == sku and day < change.day:
                return change.old
        return self.products[sku].price

    def supplier_of(self, product: Product) -> int | None:
        """The index in :data:`SUPPLIERS` of who delivers ``product``."""
        for i, (_, _, _, categories, _) in enumerate(SUPPLIERS):
            if product.category in categories:
                return i
        return None
