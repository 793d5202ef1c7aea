"""Multi-buy and bundle suggestions from what customers buy together, over the last 8 weeks.

* **Multi-buy** ("2 for ..."): a product that at least :data:`MULTI_SHARE` of its lines buy two or
  more of; the offer's price per unit is cut by at most the rails' step and keeps the minimum margin.
* **Bundle**: two products bought in the same basket at least :data:`MIN_PAIR_BASKETS` times, with a
  lift (how much more often together than by chance) of at least :data:`MIN_LIFT`; the bundle price
  takes about half the rails' step off the pair (then down to the shop's price ending) and keeps the
  minimum margin on the pair's cost.

An offer is suggested only when its expected profit change is above zero.

The expected effect treats the offer as a price cut on the units it covers (the multiples, or the
pairs), scaled by the elasticity (the mean of the two for a bundle).  An approved offer goes to the
tills in the signed price list (``push.py``) and their checkout prices it (``edge/checkout/promotions.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import combinations

import pandas as pd

from analytics.pricing.effects import HORIZON_DAYS, Effect, expected_effect
from analytics.pricing.elasticity import Elasticity
from analytics.pricing.position import Position
from analytics.pricing.rails import GuardRails, ending_ok

WINDOW_DAYS = 56
MULTI_SHARE = 0.3
MIN_MULTI_LINES = 10
MIN_PAIR_BASKETS = 5
MIN_LIFT = 2.0
MAX_BUNDLES = 5
MAX_BASKET_ITEMS = 30  # bigger baskets (wholesale orders) say little about what goes together


@dataclass(frozen=True)
class Offer:
    kind: str  # multibuy | bundle
    skus: tuple[str, ...]
    quantity: int  # units of the first SKU the multi-buy price covers (1 for a bundle: one of each)
    offer_price: int  # minor units for the whole offer
    regular_price: int  # the same items at their current prices
    evidence: dict[str, float]
    effect: Effect


def _round_down_to_ending(price: int, rails: GuardRails, currency: str) -> int:
    p = price
    while p > 0 and not ending_ok(p, rails.endings, currency):
        p -= 1
    return p


def _margin_ok(price: int, cost: int | None, rails: GuardRails) -> bool:
    """At or above cost and the minimum margin."""
    return cost is not None and price > cost and (price - cost) / price >= rails.min_margin


def multibuys(lines: pd.DataFrame, as_of: date, pos: dict[str, Position], el: dict[str, Elasticity],
              rails: GuardRails, currency: str) -> list[Offer]:
    recent = lines[(lines["status"] == "completed") & (lines["qty"] > 0)
                   & (lines["local"] >= pd.Timestamp(as_of - timedelta(days=WINDOW_DAYS)))
                   & (lines["local"] < pd.Timestamp(as_of))]
    out: list[Offer] = []
    for sku, part in recent.groupby("sku"):
        p, e = pos.get(str(sku)), el.get(str(sku))
        if p is None or e is None or not e.told or len(part) < MIN_MULTI_LINES or p.cost is None:
            continue
        share = float((part["qty"] >= 2).mean())
        if share < MULTI_SHARE:
            continue
        two = 2 * p.price
        options = [o for o in range(math.ceil(two * (1 - rails.max_step)), two)
                   if ending_ok(o, rails.endings, currency) and _margin_ok(o // 2, p.cost, rails)]
        if not options:
            continue
        offer = options[0]  # the deepest cut the rails allow
        units_multi = float(part.loc[part["qty"] >= 2, "qty"].sum()) / WINDOW_DAYS
        assert e.estimate is not None and e.se is not None
        effect = expected_effect(units_multi, p.price, offer // 2, p.cost, e.estimate, e.se, HORIZON_DAYS)
        if effect.profit is None or effect.profit.expected <= 0:
            continue  # an offer that is expected to cost profit is no suggestion
        out.append(Offer("multibuy", (str(sku),), 2, offer, two,
                         {"share_multiples": round(share, 3), "lines": float(len(part))}, effect))
    return out


def bundles(lines: pd.DataFrame, as_of: date, pos: dict[str, Position], el: dict[str, Elasticity],
            rails: GuardRails, currency: str) -> list[Offer]:
    recent = lines[(lines["status"] == "completed") & (lines["qty"] > 0)
                   & (lines["local"] >= pd.Timestamp(as_of - timedelta(days=WINDOW_DAYS)))
                   & (lines["local"] < pd.Timestamp(as_of))]
    baskets = recent.groupby("tx_id")["sku"].agg(lambda s: sorted(set(map(str, s))))
    baskets = baskets[baskets.map(len).between(2, MAX_BASKET_ITEMS)]
    n = int(recent["tx_id"].nunique())
    if n == 0 or baskets.empty:
        return []
    single = recent.groupby("sku")["tx_id"].nunique()
    pairs: dict[tuple[str, str], int] = {}
    for items in baskets:
        for a, b in combinations(items, 2):
            pairs[(a, b)] = pairs.get((a, b), 0) + 1
    scored = []
    for (a, b), together in pairs.items():
        if together < MIN_PAIR_BASKETS:
            continue
        lift = together * n / (float(single[a]) * float(single[b]))
        if lift >= MIN_LIFT:
            scored.append((together, lift, a, b))
    out: list[Offer] = []
    for together, lift, a, b in sorted(scored, reverse=True):
        pa, pb, ea, eb = pos.get(a), pos.get(b), el.get(a), el.get(b)
        if None in (pa, pb, ea, eb) or not (ea.told and eb.told):  # type: ignore[union-attr]
            continue
        assert pa and pb and ea and eb and ea.estimate is not None and eb.estimate is not None
        if pa.cost is None or pb.cost is None:
            continue
        regular = pa.price + pb.price
        offer = _round_down_to_ending(math.floor(regular * (1 - rails.max_step / 2)), rails, currency)
        cost = pa.cost + pb.cost
        if offer <= 0 or offer >= regular or not _margin_ok(offer, cost, rails):
            continue
        se = math.sqrt(((ea.se or 0) ** 2 + (eb.se or 0) ** 2) / 4)
        effect = expected_effect(together / WINDOW_DAYS, regular, offer, cost, (ea.estimate + eb.estimate) / 2, se)
        if effect.profit is None or effect.profit.expected <= 0:
            continue
        out.append(Offer("bundle", (a, b), 1, offer, regular, {"baskets": float(together), "lift": round(lift, 2)},
                         effect))
        if len(out) >= MAX_BUNDLES:
            break
    return out
