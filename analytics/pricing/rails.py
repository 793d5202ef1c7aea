"""The owner's guard rails for suggested prices, per store: a minimum margin, a maximum change per
step, never below cost (always on), and the price endings the shop uses.

Endings are read on the price in minor units of the store's currency:

* ``.00`` — whole units (``12.00``);
* ``.50`` — half units (``12.50``);
* ``5s``  — the last minor digit is 5 (``12.95``, ``1.25``; in a currency without minor units, ``95``).

A price is allowed when it matches any of the chosen endings (no endings: any price).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from analytics.pricing.reasons import Phrase, english, percent, phrase, text
from contracts.money import exponent
from i18n import N_

ENDINGS = (".00", ".50", "5s")
DEFAULT_MIN_MARGIN = 0.15
DEFAULT_MAX_STEP = 0.10


class RailsError(ValueError):
    """Guard rails that make no sense; the message names the field."""


@dataclass(frozen=True)
class GuardRails:
    min_margin: float = DEFAULT_MIN_MARGIN  # (price - cost) / price, 0..0.95
    max_step: float = DEFAULT_MAX_STEP  # |new - old| / old, 0.01..0.5
    endings: tuple[str, ...] = field(default=ENDINGS)

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_margin <= 0.95:
            raise RailsError("min_margin: must be between 0 and 0.95 (a share of the price)")
        if not 0.01 <= self.max_step <= 0.5:
            raise RailsError("max_step: must be between 0.01 and 0.5 (a share of the current price)")
        unknown = [e for e in self.endings if e not in ENDINGS]
        if unknown:
            raise RailsError(f"endings: unknown {', '.join(unknown)} (use {', '.join(ENDINGS)})")

    def as_dict(self) -> dict[str, object]:
        return {"min_margin": self.min_margin, "max_step": self.max_step, "endings": list(self.endings)}


def ending_ok(price: int, endings: tuple[str, ...], currency: str) -> bool:
    if not endings:
        return True
    unit = 10 ** exponent(currency)
    for e in endings:
        if e == ".00" and price % unit == 0:
            return True
        if e == ".50" and unit > 1 and price % unit == unit // 2:
            return True
        if e == "5s" and price % 10 == 5:
            return True
    return False


def _granule(endings: tuple[str, ...], currency: str) -> int:
    """The step between allowed prices to scan (5 minor units is fine enough for every ending)."""
    return 5 if endings else 1


@dataclass(frozen=True)
class Window:
    """The prices the rails allow for one product: ``low``..``high`` (minor units) and why they stop."""

    low: int
    high: int
    low_reason: str
    high_reason: str
    low_kind: str = "step"  # what stops it going lower: step | cost | margin (the reason's words are chosen by it)


def window(current: int, cost: int | None, rails: GuardRails) -> Window:
    """The range a new price may take: at most ``max_step`` either way, never below cost, never a
    margin below ``min_margin`` (when the cost is known)."""
    low = math.ceil(current * (1 - rails.max_step))
    high = math.floor(current * (1 + rails.max_step))
    low_reason = f"at most {rails.max_step:.0%} lower per step"
    high_reason = f"at most {rails.max_step:.0%} higher per step"
    low_kind = "step"
    if cost is not None:
        floor_margin = math.ceil(cost / (1 - rails.min_margin)) if rails.min_margin < 1 else cost
        floor = max(cost, floor_margin)
        if floor > low:
            low = floor
            low_kind = "cost" if floor == cost else "margin"
            low_reason = "never below cost" if floor == cost else f"keeps at least a {rails.min_margin:.0%} margin"
    return Window(low, high, low_reason, high_reason, low_kind)


def allowed_prices(current: int, cost: int | None, rails: GuardRails, currency: str) -> list[int]:
    """Every price the rails allow, with an allowed ending, other than the current one (ascending)."""
    w = window(current, cost, rails)
    if w.low > w.high:
        return []
    step = _granule(rails.endings, currency)
    start = w.low + (-w.low) % step
    return [p for p in range(start, w.high + 1, step)
            if p != current and p > 0 and ending_ok(p, rails.endings, currency)]


def broken_rail(price: int, current: int, cost: int | None, rails: GuardRails, currency: str) -> Phrase | None:
    """Which rail ``price`` breaks, as a phrase worded where it is shown (``reasons.render``), or None when it
    keeps them all.  Used on an owner's edited price: never below cost is absolute; the other rails are
    reported so the page can say so, in the owner's language."""
    if price <= 0:
        return phrase(N_("a price must be above zero"))
    if cost is not None and price < cost:
        return phrase(N_("below cost"))
    w = window(current, cost, rails)
    step = percent(rails.max_step)
    if price < w.low:
        if w.low_kind == "cost":
            return phrase(N_("never below cost"))
        if w.low_kind == "margin":
            return phrase(N_("keeps at least a %(margin)s margin"), margin=percent(rails.min_margin))
        return phrase(N_("at most %(step)s lower per step"), step=step)
    if price > w.high:
        return phrase(N_("at most %(step)s higher per step"), step=step)
    if not ending_ok(price, rails.endings, currency):
        return phrase(N_("not one of the shop's price endings (%(endings)s)"), endings=text(", ".join(rails.endings)))
    return None


def check_price(price: int, current: int, cost: int | None, rails: GuardRails, currency: str) -> str | None:
    """Why ``price`` breaks a rail, in English (None when it keeps them all): :func:`broken_rail` worded."""
    broken = broken_rail(price, current, cost, rails, currency)
    return None if broken is None else english(broken)
