"""Totals of a sale in integer minor units.  Shelf prices include tax (ITBIS/VAT style)."""

from __future__ import annotations

from dataclasses import dataclass


def _div_round_half_up(num: int, den: int) -> int:
    q, r = divmod(abs(num), den)
    q += 1 if 2 * r >= den else 0
    return q if num >= 0 else -q


def included_tax(total: int, rate_bp: int) -> int:
    """Tax contained in a tax-inclusive ``total`` at ``rate_bp`` basis points (1800 = 18 %)."""
    if rate_bp <= 0:
        return 0
    return _div_round_half_up(total * rate_bp, 10_000 + rate_bp)


@dataclass(frozen=True)
class Totals:
    subtotal: int
    discount: int
    tax: int
    total: int
    items: int
    promotions: int = 0  # the part of ``discount`` that multi-buy and bundle offers gave


def compute_totals(line_totals: list[int], quantities: list[int], discount: int, rate_bp: int,
                   promotions: int = 0) -> Totals:
    """``discount`` is every discount of the sale, offers' (``promotions``) included."""
    subtotal = sum(line_totals)
    total = subtotal - discount
    return Totals(subtotal=subtotal, discount=discount, tax=included_tax(total, rate_bp), total=total,
                  items=sum(quantities), promotions=promotions)
