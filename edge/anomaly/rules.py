"""Transparent rules: the score while the store's history is short, and the readable reasons always.

Each rule that fires gives a `Reason` with a weight in 0..1; the rules score is their noisy-OR,
``1 - prod(1 - weight)``: one strong sign or a few weaker ones together make a high score, and one
weak sign alone stays below the alert threshold.  The thresholds that depend on the store (what a
"high" total is, when the shop trades) come from a `Baseline` fitted on the store's own history;
with little history they fall back to defaults.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from contracts.events import PriceOverride, of_kind, payload_events
from contracts.money import exponent, format_money

from .features import SaleFeatures
from .reasons import Reason, clock, duration, hours_span, percent, plural, times

log = logging.getLogger(__name__)

RULES_MODEL = "rules-v1"

#: below this many sales the baseline uses defaults for totals; below `MIN_SALES_FOR_HOURS` for hours
MIN_SALES_FOR_TOTALS = 30
MIN_SALES_FOR_HOURS = 50
#: an hour of the day is "usual" when at least this share of the history's sales fell in it
USUAL_HOUR_SHARE = 0.003
#: default trading hours (store-local) before the history says otherwise: 06:00-22:00
DEFAULT_USUAL_HOURS: tuple[bool, ...] = tuple(6 <= h < 22 for h in range(24))
#: default "high total" before the history says otherwise, in major units of the currency
DEFAULT_HIGH_TOTAL_MAJOR = 10_000


@dataclass(frozen=True)
class Baseline:
    """What is usual for this store, from its own history (or defaults)."""

    sales: int = 0
    median_total: int | None = None
    high_total: int | None = None  # minor units; None: the default for the currency
    usual_hours: tuple[bool, ...] = field(default=DEFAULT_USUAL_HOURS)

    def high_total_for(self, currency: str) -> int:
        if self.high_total is not None:
            return self.high_total
        return DEFAULT_HIGH_TOTAL_MAJOR * 10 ** exponent(currency)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["usual_hours"] = list(self.usual_hours)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Baseline:
        hours = tuple(bool(h) for h in data.get("usual_hours", DEFAULT_USUAL_HOURS))
        if len(hours) != 24:
            raise ValueError("usual_hours must have 24 entries")
        return cls(sales=int(data.get("sales", 0)), median_total=data.get("median_total"),
                   high_total=data.get("high_total"), usual_hours=hours)


def fit_baseline(features: Sequence[SaleFeatures]) -> Baseline:
    """The store's usual totals and trading hours from its completed sales."""
    n = len(features)
    median_total = high_total = None
    if n >= MIN_SALES_FOR_TOTALS:
        totals = np.array([f.total for f in features], dtype=np.float64)
        median_total = int(np.median(totals))
        high_total = int(max(1.5 * np.percentile(totals, 99), 6 * median_total, 1))
    hours = DEFAULT_USUAL_HOURS
    if n >= MIN_SALES_FOR_HOURS:
        counts = np.bincount([int(f.local_hour) % 24 for f in features], minlength=24)
        hours = tuple(bool(c >= max(1.0, USUAL_HOUR_SHARE * n)) for c in counts)
    return Baseline(sales=n, median_total=median_total, high_total=high_total, usual_hours=hours)


def hours_outside(local_hour: float, usual: tuple[bool, ...]) -> float:
    """How far (hours) a time of day lies from the nearest usual hour; 0 inside the usual hours."""
    if not any(usual):
        return 0.0
    h = local_hour % 24.0
    if usual[int(h) % 24]:
        return 0.0
    best = 24.0
    for hour, ok in enumerate(usual):
        if not ok:
            continue
        # distance from h to the interval [hour, hour + 1) on a 24 h circle
        for start in (hour - 24, hour, hour + 24):
            if h < start:
                best = min(best, start - h)
            elif h >= start + 1:
                best = min(best, h - (start + 1))
    return best


def _override_detail(payload: dict | None, currency: str) -> str:
    """The biggest price cut among the payload's override events, e.g. ``" (Oil 1 L: RD$210.00 → RD$60.00)"``."""
    if not payload:
        return ""
    names = {line.get("sku"): line.get("name") for line in payload.get("lines") or ()}
    best: tuple[int, str] | None = None
    for event in of_kind(payload_events(payload), PriceOverride):
        old, new = event.old_price, event.new_price
        if old is None or new is None:
            continue
        name = event.name or names.get(event.sku) or event.sku or "an item"
        text = f" ({name}: {format_money(old, currency)} → {format_money(new, currency)})"
        if best is None or old - new > best[0]:
            best = (old - new, text)
    return best[1] if best else ""


def evaluate_rules(f: SaleFeatures, baseline: Baseline, currency: str,
                   payload: dict | None = None) -> list[Reason]:
    """The rules that fire for one sale, heaviest first.  `payload` (optional) adds item names to reasons."""
    out: list[Reason] = []
    money = lambda minor: format_money(int(minor), currency)  # noqa: E731

    if f.voids >= 2:
        out.append(Reason("voids", min(0.85, 0.2 + 0.15 * f.voids),
                          f"{plural(f.voids, 'line')} voided in this sale"))
    if f.overrides >= 1:
        text = ("price overridden by hand" if f.overrides == 1 else f"{f.overrides} prices overridden by hand")
        out.append(Reason("overrides", min(0.7, 0.45 + 0.1 * (f.overrides - 1)),
                          text + _override_detail(payload, currency)))
    if f.discount_share > 0.20:
        out.append(Reason("discount_share", min(0.8, 0.45 + (f.discount_share - 0.20)),
                          f"discount of {money(f.discount)} is {percent(f.discount_share)} of the sale"
                          if f.discount else f"discount is {percent(f.discount_share)} of the sale"))
    high = baseline.high_total_for(currency)
    if f.total > high:
        ratio = f.total / high
        usual = (f"{f.total / baseline.median_total:.0f}× the usual sale of {money(baseline.median_total)}"
                 if baseline.median_total else f"above {money(high)}")
        out.append(Reason("total", min(0.7, 0.45 + 0.125 * (ratio - 1)), f"total {money(f.total)} is {usual}"))
    if f.manual_lines >= 3 and f.manual_share >= 0.5:
        out.append(Reason("manual_lines", min(0.7, 0.35 + 0.05 * f.manual_lines),
                          f"{f.manual_lines} of {f.line_count} lines typed in by hand"))
    if f.vision_mismatches >= 2:
        out.append(Reason("vision_mismatches", min(0.7, 0.25 + 0.1 * f.vision_mismatches),
                          f"camera disagreed with what was rung up {times(f.vision_mismatches)}"))
    if f.unknown_removed >= 1:
        out.append(Reason("unknown_removed", min(0.7, 0.3 + 0.15 * (f.unknown_removed - 1)),
                          f"{plural(f.unknown_removed, 'unknown item')} the camera found taken off the sale unsold"))
    elif f.unknown_items >= 3:
        out.append(Reason("unknown_items", 0.15, f"{plural(f.unknown_items, 'item')} the camera did not know"))
    if f.item_count >= 8 and f.duration_s < f.item_count * 1.0:
        out.append(Reason("duration", 0.45, f"{f.item_count} items checked out in {duration(f.duration_s)}"))
    elif f.duration_s >= 15 * 60:
        out.append(Reason("duration", 0.45 if f.duration_s >= 30 * 60 else 0.35,
                          f"sale took {duration(f.duration_s)} from first item to payment"))
    away = hours_outside(f.local_hour, baseline.usual_hours)
    if away > 0:
        span = hours_span(baseline.usual_hours)
        where = f"outside usual hours ({span})" if span else "outside usual hours"
        weight = 0.25 if away < 1 else 0.5 if away < 3 else 0.55
        out.append(Reason("local_hour", weight, f"sale at {clock(f.local_hour)}, {where}"))
    if f.cashier_void_rate >= 0.10:
        out.append(Reason("cashier_void_rate", min(0.5, 0.2 + f.cashier_void_rate),
                          f"this cashier voided {percent(f.cashier_void_rate)} of lines in recent sales"))
    if f.drawer_opens_no_sale >= 1:
        n = f.drawer_opens_no_sale
        weight = 0.25 if n == 1 else 0.5 if n == 2 else min(0.85, 0.72 + 0.05 * (n - 3))
        out.append(Reason("drawer_opens_no_sale", weight, f"cash drawer opened {times(n)} without a sale"))
    out.sort(key=lambda r: -r.weight)
    return out


def rules_score(reasons: Sequence[Reason]) -> float:
    """Noisy-OR of the rule weights: 0 when nothing fired, towards 1 as signs add up."""
    keep = 1.0
    for reason in reasons:
        keep *= 1.0 - min(max(reason.weight, 0.0), 1.0)
    return 1.0 - keep
