"""Gross profit of a sale's lines, one definition for the device and the hub.

A line's revenue is its share of what the sale brought in net of discount and tax: prices on the shelf
include tax (``tax`` is the part of ``total`` that is tax) and a sale-wide discount lowers every line in
proportion, so ``revenue = line_total * (total - tax) / subtotal``, rounded to the minor unit.  Its cost is
``qty * unit_cost`` (``tillsight.tx/2``'s ``unit_cost``: the product's weighted average cost, excluding tax
the shop reclaims).  A line with no known cost has no profit: it is counted apart ("no cost") and left out
of margins, never taken as 100 % margin.  Refunds carry negative quantities and totals, so sums are net.

**Offers.**  A multi-buy or bundle offer's saving belongs to the lines it took units from, not to the whole
sale.  ``tillsight.tx/2``'s ``promotions`` say, per offer, which lines gave how many units and each line's
part of the saving (``lines: [{"line": n, "qty": k, "discount": d}]``, ``n`` counting the sale's lines from
1; :func:`split_offer` works those parts out at the till).  A line first loses its offers' parts; only the
rest of the discount (what a supervisor gave by hand) is spread pro rata over what the lines come to after
their offers: ``revenue = (line_total - offer_part) * (total - tax) / (subtotal - offer_parts)``.  A sale
without ``promotions`` (or an offer that does not name its lines, as the first tx/2 offers did not) is
priced exactly as before: its saving stays in the pro-rata rest.  A refund that gives back part of an offer
carries the same fields with negative amounts (``edge/checkout/refund.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any


def _round(x: Fraction) -> int:
    """Half away from zero."""
    whole = int(abs(x) + Fraction(1, 2))
    return whole if x >= 0 else -whole


def line_revenue(line_total: int, subtotal: int, total: int, tax: int, offer_part: int = 0,
                 offer_parts: int = 0) -> int:
    """The line's share of the sale's takings excluding tax (minor units, half away from zero).

    ``offer_part`` is the line's part of the offers' savings and ``offer_parts`` the sale's sum of them
    (0 and 0: the whole discount is spread pro rata, as for a sale without offers)."""
    base = subtotal - offer_parts
    if base == 0:
        return 0
    return _round(Fraction(line_total - offer_part) * (total - tax) / base)


def split_offer(discount: int, values: Sequence[int]) -> list[int]:
    """An offer's saving shared over the units it took, in proportion to their shelf value (``values``:
    per line, the units taken times the unit price); whole minor units that add up to ``discount`` exactly
    (largest remainder, the earlier line first on a tie).  Works the same with negative amounts."""
    whole = sum(values)
    if not values:
        return []
    if whole == 0:
        return [discount] + [0] * (len(values) - 1)
    sign = -1 if discount < 0 else 1
    exact = [Fraction(abs(discount)) * v / whole for v in values]
    parts = [int(x) for x in exact]
    left = abs(discount) - sum(parts)
    for i in sorted(range(len(values)), key=lambda i: (-(exact[i] - parts[i]), i))[:left]:
        parts[i] += 1
    return [sign * p for p in parts]


def offer_parts(doc: Mapping[str, Any]) -> list[int]:
    """Per line of the ``tillsight.tx/2`` sale ``doc``, its part of the offers' savings (0 where none).

    An offer is counted only when it names its lines and their parts add up to its discount; any other
    offer's saving stays in the discount spread pro rata."""
    lines = doc.get("lines") or []
    parts = [0] * len(lines)
    for promo in doc.get("promotions") or []:
        named = promo.get("lines")
        if not named:
            continue
        try:
            shares = [(int(x["line"]) - 1, int(x["discount"])) for x in named]
        except (KeyError, TypeError, ValueError):
            continue
        if sum(d for _i, d in shares) != int(promo.get("discount", 0)) or \
                any(not 0 <= i < len(lines) for i, _d in shares):
            continue
        for i, d in shares:
            parts[i] += d
    return parts


def sale_line_revenues(doc: Mapping[str, Any]) -> list[int]:
    """Each line's revenue net of its offers, the rest of the discount and tax, for the sale ``doc``
    (a ``tillsight.tx/2`` payload, or an older one: no offers, no parts)."""
    lines = doc.get("lines") or []
    parts = offer_parts(doc)
    offered = sum(parts)
    subtotal, total, tax = int(doc["subtotal"]), int(doc["total"]), int(doc["tax"])
    return [line_revenue(int(ln["line_total"]), subtotal, total, tax, part, offered)
            for ln, part in zip(lines, parts, strict=True)]


def line_cost(qty: int, unit_cost: int | None) -> int | None:
    """What the line's goods cost the shop, or None when the cost is not known."""
    return None if unit_cost is None else qty * unit_cost


def margin_pct(profit: int, revenue: int) -> float | None:
    """Gross profit as a percentage of revenue, one decimal; None with no (costed) revenue."""
    if revenue == 0:
        return None
    return round(100.0 * profit / revenue, 1)
