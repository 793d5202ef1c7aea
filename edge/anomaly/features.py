"""What the anomaly scorer looks at in one sale: a small, fixed set of numbers per `tillsight.tx/1` payload.

`sale_features` turns a payload into `SaleFeatures`; `rolling_contexts` / `cashier_contexts` compute the
cashier's recent behaviour (void rate) from earlier payloads, the part of a sale's features that the sale
alone cannot tell.  Everything here is pure: no database, no clock.

Events are read as the typed records the checkout writes (`contracts.events`): voids are `LineVoid` and
`SaleVoid`, overrides are `PriceOverride` (a line's price: a discount is `discount_share`, a refund's approval
is the refund itself), and a `DrawerOpen` counts as "without a sale" only when its record says `no_sale`
(the opening for the sale's own cash payment does not).  An `UnknownItem` (a product the camera found but could
not identify) is a vision event too: one that was never rung up counts as a vision mismatch, and every unknown item
is counted in `unknown_items` for the readable rules (not a model column, so a saved forest stays valid).
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from contracts.events import (
    DrawerOpen,
    LineVoid,
    PriceOverride,
    SaleVoid,
    UnknownItem,
    VisionMismatch,
    of_kind,
    payload_events,
)
from contracts.timestamps import parse_utc

#: Columns of `SaleFeatures.as_vector()`, in order.  Money and time are log-scaled (``log1p``) because
#: both are heavily skewed; hour of day is cyclic, so the model sees its sine and cosine (23:50 is next to
#: 00:10), never the raw hour.
FEATURE_COLUMNS: tuple[str, ...] = (
    "log_total",             # log1p(total in minor units)
    "item_count",            # sum of qty over the lines
    "manual_lines",          # lines typed in by hand
    "voids",                 # void_line events (LineVoid, SaleVoid)
    "overrides",             # line price overrides (PriceOverride; not discounts, not refund approvals)
    "discount_share",        # discount / subtotal
    "log_duration_s",        # log1p(seconds from started_at to completed_at)
    "hour_sin",              # sin(2*pi*local_hour/24)
    "hour_cos",              # cos(2*pi*local_hour/24)
    "vision_mismatches",     # vision_mismatch events, and unknown items not rung up
    "cashier_void_rate",     # the cashier's recent void rate (context)
    "drawer_opens_no_sale",  # drawer openings without a sale (DrawerOpen.no_sale events / context)
)

DEFAULT_WINDOW = 50


@dataclass(frozen=True)
class CashierContext:
    """What the till knows about the cashier beyond this sale.

    recent_void_rate: voided lines / rung-up lines over the cashier's previous sales (see `rolling_contexts`).
    drawer_opens_no_sale: drawer openings without a sale since the cashier's previous sale that the payload
        does not carry as events (a till that attaches them as ``drawer_open`` events leaves this 0).
    """

    recent_void_rate: float = 0.0
    drawer_opens_no_sale: int = 0


@dataclass(frozen=True)
class SaleFeatures:
    total: int  # minor units
    item_count: int  # sum of qty
    manual_lines: int
    voids: int
    overrides: int
    discount_share: float  # 0..1
    duration_s: float
    local_hour: float  # store-local, 14.5 = 14:30
    vision_mismatches: int
    cashier_void_rate: float
    drawer_opens_no_sale: int
    line_count: int = 0  # lines kept in the sale (for the manual-lines share)
    discount: int = 0  # minor units (for readable reasons)
    unknown_items: int = 0  # products the camera found but could not identify (rules only, not a model column)
    unknown_removed: int = 0  # of those, lines the cashier took off unsold while the camera saw the item

    def as_vector(self) -> np.ndarray:
        """The model's view of the sale, columns as in `FEATURE_COLUMNS`."""
        angle = 2.0 * math.pi * (self.local_hour % 24.0) / 24.0
        return np.array([
            math.log1p(max(self.total, 0)),
            float(self.item_count),
            float(self.manual_lines),
            float(self.voids),
            float(self.overrides),
            float(self.discount_share),
            math.log1p(max(self.duration_s, 0.0)),
            math.sin(angle),
            math.cos(angle),
            float(self.vision_mismatches),
            float(self.cashier_void_rate),
            float(self.drawer_opens_no_sale),
        ], dtype=np.float64)

    @property
    def manual_share(self) -> float:
        return self.manual_lines / self.line_count if self.line_count else 0.0


def features_matrix(features: Sequence[SaleFeatures]) -> np.ndarray:
    """Rows of `as_vector()`; shape (n, len(FEATURE_COLUMNS))."""
    if not features:
        return np.empty((0, len(FEATURE_COLUMNS)), dtype=np.float64)
    return np.vstack([f.as_vector() for f in features])


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(text: str, timezone: str) -> datetime:
    """A payload timestamp in the store's IANA zone."""
    return parse_utc(text).astimezone(_zone(timezone))


def voids(payload: dict) -> int:
    """Void events of the sale: lines taken off after the customer saw them, and a whole-sale void."""
    events = payload_events(payload)
    return len(of_kind(events, LineVoid)) + len(of_kind(events, SaleVoid))


def no_sale_opens(payload: dict) -> int:
    """Drawer openings the payload carries that were not for the sale's own payment."""
    return sum(1 for e in of_kind(payload_events(payload), DrawerOpen) if e.no_sale)


def sale_features(payload: dict, timezone: str, context: CashierContext | None = None) -> SaleFeatures:
    """The features of one `tillsight.tx/1` payload; `timezone` is the store's IANA zone."""
    context = context or CashierContext()
    lines = payload.get("lines") or []
    subtotal = int(payload.get("subtotal") or 0)
    # a multi-buy or bundle offer's saving is the shop's own price, not a discount someone chose to give
    discount = int(payload.get("discount") or 0) - sum(int(p.get("discount") or 0)
                                                       for p in payload.get("promotions") or [])
    completed = parse_utc(payload["completed_at"])
    started = parse_utc(payload.get("started_at") or payload["completed_at"])
    local = completed.astimezone(_zone(timezone))
    events = payload_events(payload)
    unknown = of_kind(events, UnknownItem)
    return SaleFeatures(
        total=int(payload.get("total") or 0),
        item_count=sum(int(line.get("qty") or 0) for line in lines),
        manual_lines=sum(1 for line in lines if line.get("source") == "manual"),
        voids=voids(payload),
        overrides=len(of_kind(events, PriceOverride)),
        discount_share=(discount / subtotal) if subtotal > 0 else 0.0,
        duration_s=max(0.0, (completed - started).total_seconds()),
        local_hour=local.hour + local.minute / 60.0 + local.second / 3600.0,
        vision_mismatches=len(of_kind(events, VisionMismatch)) + sum(1 for e in unknown if not e.sold),
        cashier_void_rate=float(context.recent_void_rate),
        # the larger of the two, so a till that both attaches events and counts them is not double-counted
        drawer_opens_no_sale=max(no_sale_opens(payload), int(context.drawer_opens_no_sale)),
        line_count=len(lines),
        discount=discount,
        unknown_items=len(unknown),
        unknown_removed=sum(1 for e in unknown if e.how == "removed"),
    )


def _void_counts(payload: dict) -> tuple[int, int]:
    """(voided lines, rung-up lines) of one payload; a voided sale voids all its lines."""
    kept = len(payload.get("lines") or [])
    voided = voids(payload)
    if payload.get("status") == "voided":
        return kept + voided, kept + voided
    return voided, kept + voided


def _chronological(payloads: Iterable[dict]) -> list[dict]:
    return sorted(payloads, key=lambda p: (parse_utc(p["completed_at"]), int(p.get("seq") or 0)))


class _Window:
    """One cashier's last `window` sales: running sums of voided and rung-up lines."""

    def __init__(self, window: int):
        self.items: deque[tuple[int, int]] = deque(maxlen=window)
        self.voided = 0
        self.rung = 0

    def push(self, counts: tuple[int, int]) -> None:
        if len(self.items) == self.items.maxlen:
            old = self.items[0]
            self.voided -= old[0]
            self.rung -= old[1]
        self.items.append(counts)
        self.voided += counts[0]
        self.rung += counts[1]

    def context(self) -> CashierContext:
        return CashierContext(recent_void_rate=self.voided / self.rung if self.rung else 0.0)


def rolling_contexts(payloads: Sequence[dict], window: int = DEFAULT_WINDOW) -> dict[str, CashierContext]:
    """tx_id -> the context of that sale: its cashier's previous `window` sales (all statuses), in time order.

    Used to fit on history: each sale sees only what the till knew when it was made.
    """
    windows: dict[str, _Window] = defaultdict(lambda: _Window(window))
    out: dict[str, CashierContext] = {}
    for payload in _chronological(payloads):
        w = windows[str(payload.get("cashier_id"))]
        out[payload["tx_id"]] = w.context()
        w.push(_void_counts(payload))
    return out


def cashier_contexts(payloads: Sequence[dict], window: int = DEFAULT_WINDOW) -> dict[str, CashierContext]:
    """cashier_id -> the context for that cashier's next sale, from their last `window` sales in `payloads`.

    Used to score a new sale: pass the cashier's recent payloads (any order, any status).
    """
    windows: dict[str, _Window] = defaultdict(lambda: _Window(window))
    for payload in _chronological(payloads):
        windows[str(payload.get("cashier_id"))].push(_void_counts(payload))
    return {cashier: w.context() for cashier, w in windows.items()}
