"""Gross profit of a sale's lines, one definition for the device and the hub.

A line's revenue is its share of what the sale brought in net of discount and tax: prices on the shelf
include tax (``tax`` is the part of ``total`` that is tax) and a sale-wide discount lowers every line in
proportion, so ``revenue = line_total * (total - tax) / subtotal``, rounded to the minor unit.  Its cost is
``qty * unit_cost`` (``tillsight.tx/2``'s ``unit_cost``: the product's weighted average cost, excluding tax
the shop reclaims).  A line with no known cost has no profit: it is counted apart ("no cost") and left out
of margins, never taken as 100 % margin.  Refunds carry negative quantities and totals, so sums are net.
"""

from __future__ import annotations

from fractions import Fraction


def line_revenue(line_total: int, subtotal: int, total: int, tax: int) -> int:
    """The line's share of the sale's takings excluding tax (minor units, half away from zero)."""
    if subtotal == 0:
        return 0
    share = Fraction(line_total) * (total - tax) / subtotal
    whole = int(abs(share) + Fraction(1, 2))
    return whole if share >= 0 else -whole


def line_cost(qty: int, unit_cost: int | None) -> int | None:
    """What the line's goods cost the shop, or None when the cost is not known."""
    return None if unit_cost is None else qty * unit_cost


def margin_pct(profit: int, revenue: int) -> float | None:
    """Gross profit as a percentage of revenue, one decimal; None with no (costed) revenue."""
    if revenue == 0:
        return None
    return round(100.0 * profit / revenue, 1)
