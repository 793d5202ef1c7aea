"""A seeded, synthetic sales history for the demo store, as `tillsight.tx/2` payloads (each line with the
cost of the day it was sold, from :mod:`edge.demo.costing`: costs that suppliers raised, prices the shop
raised, a product with no cost).

What it imitates (store-local time):

- trading hours 07:00-21:00 Monday to Saturday, 08:00-13:00 on Sunday; a morning peak (08-10) and a
  bigger evening peak (17-20);
- a weekly rhythm: Saturday busiest, Friday busy, Tuesday quietest, Sunday short;
- paydays (the 15th and the last day of the month): about a third more sales, bigger baskets;
- skewed product popularity (Zipf-like): staples (rice, beans, oil, sugar) sell most;
- baskets of 1-12 lines, mostly small; quantities mostly 1;
- payment mix: cash ~60 % (tendered in notes, with change), card, mobile money, a few credit sales to
  known customers (``cust-01`` .. ``cust-08``);
- most lines recognised by the camera, a few scanned or typed in; now and then a single void, a
  camera/cashier disagreement, a small discount, a drawer opened to give change;
- prices include ITBIS (18 %): ``tax = round(total * 18 / 118)``.

Planted anomalies (`anomaly_count`, spread evenly over the period, kinds in turn) are listed in
`DemoHistory.planted` (tx_id -> what was planted), so tests and the demo can check the scorer finds them.
Everything comes from one `random.Random(seed)`: the same arguments give the same history.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import uuid
from calendar import monthrange
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from contracts.events import from_parts
from contracts.money import exponent, format_money
from contracts.timestamps import format_utc
from edge.demo.costing import CostPlan
from vision.catalogue import Product

TAX_RATE_PCT = 18  # ITBIS, Dominican Republic; prices include it
BASE_SALES_PER_DAY = 118
DAY_FACTOR = (0.95, 0.82, 0.9, 0.95, 1.12, 1.4, 0.55)  # Monday .. Sunday
PAYDAY_FACTOR = 1.35
HOURS_WEEKDAY = {7: 0.6, 8: 1.2, 9: 1.3, 10: 1.0, 11: 0.8, 12: 0.9, 13: 0.8, 14: 0.6, 15: 0.6, 16: 0.8,
                 17: 1.2, 18: 1.5, 19: 1.4, 20: 0.9}
HOURS_SUNDAY = {8: 1.0, 9: 1.4, 10: 1.3, 11: 1.0, 12: 0.8}
LINES_NORMAL = (30, 22, 15, 10, 7, 5, 4, 3, 2, 1.5, 1, 0.5)  # weights of 1..12 lines
LINES_PAYDAY = (12, 14, 13, 11, 10, 9, 8, 7, 6, 4, 3, 3)
PAYMENTS = (("cash", 0.60), ("card", 0.22), ("mobile_money", 0.12), ("credit", 0.06))
CUSTOMERS = tuple(f"cust-{i:02d}" for i in range(1, 9))
CUSTOMER_WEIGHTS = (8, 6, 5, 4, 3, 2, 2, 1)
NOTES_MAJOR = {"DOP": (50, 100, 200, 500, 1000, 2000)}
NOTES_DEFAULT = (1, 5, 10, 20, 50, 100)
# popularity order of categories (lower sells more); unknown categories come last
CATEGORY_RANK = {"grains": 0, "oil": 0, "canned": 1, "dairy": 1, "soda": 1, "beer": 1, "water": 1,
                 "malt": 2, "pasta": 2, "snacks": 2, "biscuits": 2, "juice": 2, "household": 3, "deli": 3}
MULTI_QTY_CATEGORIES = {"beer", "soda", "malt", "water", "canned", "pasta", "snacks", "biscuits"}
PLANT_KINDS = ("sweethearting", "night", "manual", "drawer", "long_voids", "rushed")


@dataclass
class DemoHistory:
    payloads: list[dict]
    planted: dict[str, str] = field(default_factory=dict)  # tx_id -> what was planted
    plan: CostPlan | None = None  # the costs and prices of each day (the store's catalogue follows it)


@dataclass
class _Line:
    product: Product
    qty: int
    unit_price: int
    source: str
    confidence: float | None


@dataclass
class _Draft:
    """A sale before its final times are known.  Event offsets: a fraction (0..1) of the sale's duration
    for events during the sale, negative seconds for events before it (drawer opened without a sale)."""

    start: datetime  # UTC
    cashier: str
    lines: list[_Line]
    duration_s: float
    events: list[tuple[float, str, dict]] = field(default_factory=list)
    discount: int = 0
    method: str = "cash"
    customer_id: str | None = None
    planted: str | None = None


class _Generator:
    def __init__(self, products: Sequence[Product], cashiers: Sequence[str], timezone: str, currency: str,
                 seed: int):
        if not products:
            raise ValueError("generate_history needs at least one product")
        if not cashiers:
            raise ValueError("generate_history needs at least one cashier")
        self.rng = random.Random(seed)
        self.products = list(products)
        self.cashiers = list(cashiers)
        self.zone = ZoneInfo(timezone)
        self.currency = currency
        self.unit = 10 ** exponent(currency)
        ranked = sorted(range(len(self.products)),
                        key=lambda i: (CATEGORY_RANK.get(self.products[i].category, 4), i))
        weights = [0.0] * len(self.products)
        for rank, index in enumerate(ranked):
            weights[index] = 1.0 / (rank + 1) ** 0.85
        self.cum_weights = list(itertools.accumulate(weights))
        self.by_price = sorted(self.products, key=lambda p: p.price)
        notes = NOTES_MAJOR.get(currency.upper(), NOTES_DEFAULT)
        self.notes = [n * self.unit for n in notes]
        self.plan: CostPlan | None = None  # prices and costs by day (set by generate_history)
        self.day: date | None = None  # the store-local day being generated

    def price(self, product: Product) -> int:
        """The shelf price rung up on the day being generated."""
        if self.plan is None or self.day is None:
            return product.price
        return self.plan.price_on(product.sku, self.day)

    # -- small draws ---------------------------------------------------------------------------

    def product(self) -> Product:
        x = self.rng.random() * self.cum_weights[-1]
        return self.products[min(bisect.bisect_right(self.cum_weights, x), len(self.products) - 1)]

    def pricey(self) -> Product:
        return self.rng.choice(self.by_price[len(self.by_price) * 2 // 3:])

    def cheap(self) -> Product:
        return self.rng.choice(self.by_price[: max(1, len(self.by_price) // 5)])

    def qty(self, product: Product, payday: bool) -> int:
        r = self.rng.random()
        qty = 1 if r < 0.75 else 2 if r < 0.9 else 3 if r < 0.95 else self.rng.randint(4, 6)
        if product.category in MULTI_QTY_CATEGORIES and self.rng.random() < 0.15:
            qty += self.rng.randint(1, 3)
        if payday and CATEGORY_RANK.get(product.category) == 0 and self.rng.random() < 0.35:
            qty += 1
        return qty

    def source(self) -> tuple[str, float | None]:
        r = self.rng.random()
        if r < 0.88:
            return "vision", round(self.rng.uniform(0.72, 0.99), 2)
        if r < 0.96:
            return "barcode", 1.0
        return "manual", None

    def basket(self, n_lines: int, payday: bool = False, pick=None) -> list[_Line]:
        pick = pick or self.product
        chosen: dict[str, _Line] = {}
        for _ in range(n_lines * 3):
            if len(chosen) >= n_lines:
                break
            p = pick()
            if p.sku in chosen:
                continue
            source, confidence = self.source()
            chosen[p.sku] = _Line(p, self.qty(p, payday), self.price(p), source, confidence)
        return list(chosen.values())

    def method(self) -> tuple[str, str | None]:
        x, acc = self.rng.random(), 0.0
        method = PAYMENTS[-1][0]
        for name, share in PAYMENTS:
            acc += share
            if x < acc:
                method = name
                break
        customer = self.rng.choices(CUSTOMERS, CUSTOMER_WEIGHTS)[0] if method == "credit" else None
        return method, customer

    def tendered(self, total: int) -> int:
        r = self.rng.random()
        if r < 0.2 or total <= 0:
            return total
        bigger = [n for n in self.notes if n >= total]
        if r < 0.7 and bigger:
            return bigger[0]
        smaller = [n for n in self.notes if n < total] or [self.notes[0]]
        note = self.rng.choice(smaller[-3:])
        return math.ceil(total / note) * note

    def duration(self, lines: list[_Line], method: str) -> float:
        per_source = {"vision": 5.0, "barcode": 8.0, "manual": 15.0}
        base = 12.0 + sum(per_source[line.source] + 1.0 * (line.qty - 1) for line in lines)
        base += {"cash": 15.0, "card": 25.0, "mobile_money": 30.0, "credit": 20.0}[method]
        return round(base * math.exp(self.rng.gauss(0.0, 0.3)))

    # -- normal sales --------------------------------------------------------------------------

    def normal(self, start: datetime, cashier: str, payday: bool) -> _Draft:
        rng = self.rng
        n_lines = rng.choices(range(1, 13), LINES_PAYDAY if payday else LINES_NORMAL)[0]
        lines = self.basket(n_lines, payday)
        method, customer = self.method()
        draft = _Draft(start=start, cashier=cashier, lines=lines, duration_s=self.duration(lines, method),
                       method=method, customer_id=customer)
        for line in lines:
            if line.source == "manual":
                draft.events.append((rng.uniform(0.2, 0.8), "manual_entry", {"sku": line.product.sku}))
        if rng.random() < 0.03:
            gone = self.product()
            draft.events.append((rng.uniform(0.2, 0.8), "void_line", {
                "sku": gone.sku, "name": gone.name, "qty": 1, "line_total": self.price(gone)}))
            draft.duration_s += 10
        if rng.random() < 0.04:
            line = rng.choice(lines)
            seen = self._lookalike(line.product)
            draft.events.append((rng.uniform(0.2, 0.8), "vision_mismatch",
                                 {"seen": seen.sku, "rung": line.product.sku}))
            draft.duration_s += 8
        if rng.random() < 0.004:  # a dented can sold a little cheaper
            line = rng.choice(lines)
            new = max(self.unit, line.unit_price * 9 // 10 // self.unit * self.unit)
            draft.events.append((rng.uniform(0.3, 0.9), "price_override", {
                "sku": line.product.sku, "old_price": line.unit_price, "new_price": new}))
            line.unit_price = new
        if rng.random() < 0.006:  # drawer opened to change a note for a neighbour
            draft.events.append((-rng.uniform(60, 600), "drawer_open", {"no_sale": True}))
        if rng.random() < (0.08 if customer else 0.02):
            pct = rng.choice((5, 10))
            subtotal = sum(line.qty * line.unit_price for line in lines)
            draft.discount = subtotal * pct // 100 // self.unit * self.unit
        return draft

    def _lookalike(self, product: Product) -> Product:
        family = [p for p in self.products if p.family and p.family == product.family and p.sku != product.sku]
        return self.rng.choice(family) if family else self.product()

    # -- planted anomalies ---------------------------------------------------------------------

    def plant(self, kind: str, draft: _Draft) -> str:
        """Turn `draft` into an anomaly of `kind`; returns the description."""
        rng = self.rng
        money = lambda minor: format_money(minor, self.currency)  # noqa: E731
        draft.events = []
        draft.discount = 0
        draft.planted = kind
        draft.customer_id = None
        draft.method = "cash"
        if kind == "sweethearting":
            draft.lines = self.basket(rng.randint(4, 7), pick=self.pricey)
            voids = rng.randint(4, 5)
            for _ in range(voids):
                gone = self.pricey()
                draft.events.append((rng.uniform(0.1, 0.9), "void_line", {
                    "sku": gone.sku, "name": gone.name, "qty": 1, "line_total": self.price(gone)}))
            line = max(draft.lines, key=lambda ln: ln.unit_price)
            new = max(self.unit, line.unit_price * 2 // 5 // self.unit * self.unit)
            draft.events.append((rng.uniform(0.5, 0.9), "price_override", {
                "sku": line.product.sku, "old_price": line.unit_price, "new_price": new}))
            line.unit_price = new
            pct = rng.randint(30, 40)
            draft.discount = sum(ln.qty * ln.unit_price for ln in draft.lines) * pct // 100
            draft.duration_s = self.duration(draft.lines, "cash") + 12 * voids
            return f"sweethearting: {voids} voids, a price override and a {pct}% discount"
        if kind == "night":
            draft.lines = self.basket(rng.randint(10, 14), pick=self.pricey)
            for line in draft.lines:
                line.qty = rng.randint(3, 6)
            draft.duration_s = self.duration(draft.lines, "cash")
            local = draft.start.astimezone(self.zone)
            items = sum(line.qty for line in draft.lines)
            total = sum(line.qty * line.unit_price for line in draft.lines)
            return f"after-hours sale at {local:%H:%M} store time: {items} items, {money(total)}"
        if kind == "manual":
            draft.lines = self.basket(rng.randint(6, 8))
            for line in draft.lines[1:]:
                line.source, line.confidence = "manual", None
                draft.events.append((rng.uniform(0.1, 0.9), "manual_entry", {"sku": line.product.sku}))
            mismatches = rng.randint(2, 3)
            for line in draft.lines[1:1 + mismatches]:
                draft.events.append((rng.uniform(0.1, 0.9), "vision_mismatch",
                                     {"seen": self.pricey().sku, "rung": line.product.sku}))
            draft.duration_s = self.duration(draft.lines, "cash")
            return (f"{len(draft.lines) - 1} of {len(draft.lines)} lines keyed in by hand, "
                    f"camera disagreed {mismatches} times")
        if kind == "drawer":
            opens = rng.randint(3, 4)
            for _ in range(opens):
                draft.events.append((-rng.uniform(60, 1200), "drawer_open", {"no_sale": True}))
            product = self.cheap()
            draft.lines = [_Line(product, 1, self.price(product), "vision", 0.95)]
            draft.duration_s = self.duration(draft.lines, "cash")
            return f"cash drawer opened {opens} times without a sale, then a {money(self.price(product))} sale"
        if kind == "long_voids":
            draft.lines = self.basket(rng.randint(3, 6))
            voids = 3
            for _ in range(voids):
                gone = self.product()
                draft.events.append((rng.uniform(0.1, 0.9), "void_line", {
                    "sku": gone.sku, "name": gone.name, "qty": 1, "line_total": self.price(gone)}))
            draft.duration_s = rng.randint(25, 45) * 60
            return f"sale held open {draft.duration_s // 60:.0f} min with {voids} voids"
        if kind == "rushed":
            draft.lines = self.basket(rng.randint(7, 9))
            for line in draft.lines:
                line.qty = max(line.qty, 2)
            items = sum(line.qty for line in draft.lines)
            draft.duration_s = rng.randint(7, 11)
            mismatches = 3
            for line in draft.lines[:mismatches]:
                draft.events.append((rng.uniform(0.1, 0.9), "vision_mismatch",
                                     {"seen": self.pricey().sku, "rung": line.product.sku}))
            return (f"rushed: {items} items checked out in {draft.duration_s:.0f} s, "
                    f"camera disagreed {mismatches} times")
        raise ValueError(f"unknown anomaly kind {kind!r}")


def _utc_text(moment: datetime) -> str:
    return format_utc(moment)


def _is_payday(day: date) -> bool:
    return day.day == 15 or day.day == monthrange(day.year, day.month)[1]


def _local(day: date, hour: float, zone: ZoneInfo) -> datetime:
    """Store-local wall time on `day` (hours may be fractional) as UTC."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    return (midnight + timedelta(hours=hour)).astimezone(UTC)


def _payload(draft: _Draft, seq: int, tx_id: str, store_id: str, device_id: str, currency: str,
             tendered_fn, cost_on: Callable[[str, date], int | None], zone: ZoneInfo) -> dict:
    day = draft.start.astimezone(zone).date()
    lines = [{"sku": ln.product.sku, "name": ln.product.name, "qty": ln.qty, "unit_price": ln.unit_price,
              "line_total": ln.qty * ln.unit_price, "source": ln.source, "confidence": ln.confidence,
              "unit_cost": cost_on(ln.product.sku, day)}
             for ln in draft.lines]
    subtotal = sum(ln.qty * ln.unit_price for ln in draft.lines)
    discount = min(draft.discount, subtotal)
    total = subtotal - discount
    tax = round(total * TAX_RATE_PCT / (100 + TAX_RATE_PCT))
    completed = draft.start + timedelta(seconds=draft.duration_s)
    if draft.method == "cash":
        tendered = tendered_fn(total)
        payment = {"method": "cash", "tendered": tendered, "change": tendered - total}
    else:
        payment = {"method": draft.method, "tendered": total, "change": 0}
    events = [(draft.start + timedelta(seconds=offset * draft.duration_s if 0 <= offset <= 1 else offset),
               kind, detail) for offset, kind, detail in draft.events]
    if draft.method == "cash":
        events.append((completed, "drawer_open", {"no_sale": False}))
    events.sort(key=lambda e: e[0])
    return {
        "schema": "tillsight.tx/2", "tx_id": tx_id, "seq": seq, "store_id": store_id, "device_id": device_id,
        "cashier_id": draft.cashier, "started_at": _utc_text(draft.start), "completed_at": _utc_text(completed),
        "status": "completed", "currency": currency, "lines": lines,
        "subtotal": subtotal, "discount": discount, "tax": tax, "total": total, "payment": payment,
        "customer_id": draft.customer_id if draft.method == "credit" else None,
        # through the typed records the checkout writes (contracts.events), so readers see one shape
        "events": [from_parts(kind, _utc_text(at), detail).to_payload() for at, kind, detail in events],
        "anomaly": None,
    }


def generate_history(products: Sequence[Product], cashiers: Sequence[str], store_id: str, device_id: str,
                     timezone: str, currency: str, end: datetime, days: int = 42, seed: int = 7,
                     anomaly_count: int = 12) -> DemoHistory:
    """The sales of the `days` store-local calendar days ending with `end`'s local date, up to `end`
    (aware datetime; the last day is partial unless `end` is its closing time or later).
    Payloads are in time order, `seq` from 1; `planted` maps tx_id -> the anomaly planted there."""
    if end.tzinfo is None:
        raise ValueError("end must be a time-zone-aware datetime")
    if days < 1:
        raise ValueError("days must be at least 1")
    gen = _Generator(products, cashiers, timezone, currency, seed)
    rng, zone = gen.rng, gen.zone
    end_utc = end.astimezone(UTC)
    last = end.astimezone(zone).date()
    dates = [last - timedelta(days=days - 1 - i) for i in range(days)]
    plan = gen.plan = CostPlan(products, dates[0], last)

    drafts_by_day: list[list[_Draft]] = []
    for index, day in enumerate(dates):
        sunday = day.weekday() == 6
        hours = HOURS_SUNDAY if sunday else HOURS_WEEKDAY
        payday = _is_payday(day)
        expected = BASE_SALES_PER_DAY * DAY_FACTOR[day.weekday()] * (PAYDAY_FACTOR if payday else 1.0)
        count = max(1, round(rng.gauss(expected, math.sqrt(expected))))
        hour_list, hour_weights = list(hours), list(hours.values())
        morning = gen.cashiers[index % len(gen.cashiers)]
        evening = gen.cashiers[(index + 1) % len(gen.cashiers)]
        day_drafts = []
        gen.day = day
        for _ in range(count):
            hour = rng.choices(hour_list, hour_weights)[0] + rng.random()
            cashier = morning if hour < 14 else evening
            day_drafts.append(gen.normal(_local(day, hour, zone), cashier, payday))
        day_drafts.sort(key=lambda d: d.start)
        drafts_by_day.append(day_drafts)

    # planted anomalies: evenly spread over the days that are complete by `end`
    planted_notes: dict[int, str] = {}
    complete = [i for i, day in enumerate(dates) if _local(day, 24, zone) <= end_utc] or list(range(len(dates)))
    for k in range(max(0, anomaly_count)):
        day_index = complete[min(len(complete) - 1, int((k + 0.5) * len(complete) / anomaly_count))]
        kind = PLANT_KINDS[k % len(PLANT_KINDS)]
        day_drafts = drafts_by_day[day_index]
        if kind == "night":
            start = _local(dates[day_index], rng.uniform(2.0, 3.9), zone)
            draft = _Draft(start=start, cashier=rng.choice(gen.cashiers), lines=[], duration_s=60)
            day_drafts.append(draft)
            day_drafts.sort(key=lambda d: d.start)
        else:
            candidates = [d for d in day_drafts if d.planted is None and d.start < end_utc]
            if not candidates:
                continue
            draft = rng.choice(candidates)
        gen.day = dates[day_index]
        planted_notes[id(draft)] = gen.plant(kind, draft)

    # one till: a sale starts after the previous one ended
    drafts = [d for day_drafts in drafts_by_day for d in day_drafts]
    drafts.sort(key=lambda d: d.start)
    previous_end: datetime | None = None
    for draft in drafts:
        if previous_end is not None and draft.start < previous_end + timedelta(seconds=3):
            draft.start = previous_end + timedelta(seconds=rng.randint(3, 20))
        previous_end = draft.start + timedelta(seconds=draft.duration_s)

    payloads: list[dict] = []
    planted: dict[str, str] = {}
    for draft in drafts:
        if draft.start + timedelta(seconds=draft.duration_s) >= end_utc:
            continue
        tx_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        payloads.append(_payload(draft, len(payloads) + 1, tx_id, store_id, device_id, currency, gen.tendered,
                                 plan.cost_on, zone))
        if draft.planted is not None:
            planted[tx_id] = planted_notes[id(draft)]
    return DemoHistory(payloads=payloads, planted=planted, plan=plan)
