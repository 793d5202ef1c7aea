"""The owner's pricing decisions and what each change did against what was predicted.

:func:`decide` records an approval (at the suggested or an edited price, effective at a chosen time),
a rejection, or a multi-buy/bundle offer approved (the tills price it from its effective time), with who
decided; :func:`mark_sent` ties approved changes and offers to the signed fleet update that carries them
(``push.py``); :func:`end_offer` ends an offer; :func:`withdraw` marks the changes a fleet rollback took
back.  :func:`outcomes` compares, for
each change in effect, the days since it took effect (up to the prediction's horizon) with as many
days before it: units, revenue and gross profit, actual against predicted for the same span.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from analytics.pricing import reasons as rs
from analytics.pricing.tables import price_changes
from analytics.web.queries.costs import daily_history
from analytics.web.tenancy import StoreScope
from contracts.timestamps import format_utc, parse_utc
from i18n import N_
from i18n import gettext as _

# recorded: an offer approved before the tills priced offers (kept as it was); withdrawn: taken back by a
# fleet rollback; ended: an offer the owner ended
STATUSES = ("approved", "sent", "rejected", "recorded", "withdrawn", "ended")
OFFER_KINDS = ("multibuy", "bundle")


class DecisionError(ValueError):
    """A decision that cannot be recorded; the message says why (shown to the owner)."""


@dataclass(frozen=True)
class Decision:
    store_id: str
    sku: str
    name: str
    kind: str  # price | multibuy | bundle
    skus: tuple[str, ...]
    action: str  # approve | reject
    old_price: int
    new_price: int
    suggested_price: int | None
    currency: str
    effective_at: datetime
    decided_by: str
    reason: str
    predicted: dict[str, Any] | None


def decide(engine: Engine, d: Decision, now: datetime) -> str:
    """Record one decision; returns its change id."""
    if d.action not in ("approve", "reject"):
        raise DecisionError(_("the action must be approve or reject"))
    if d.action == "approve" and d.kind == "price" and d.new_price == d.old_price:
        raise DecisionError(_("the new price is the current price: nothing to change"))
    if d.action == "approve" and d.effective_at < now - timedelta(minutes=5):
        raise DecisionError(_("the effective time is in the past: choose now or later"))
    status = "rejected" if d.action == "reject" else "approved"
    effective = max(d.effective_at, now) if d.action == "approve" else d.effective_at
    change_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(price_changes.insert().values(
            change_id=change_id, store_id=d.store_id, sku=d.sku, kind=d.kind, skus=list(d.skus), name=d.name[:200],
            old_price=d.old_price, new_price=d.new_price, suggested_price=d.suggested_price, currency=d.currency,
            status=status, effective_at=format_utc(effective),
            decided_by=d.decided_by, decided_at=format_utc(now), reason=d.reason[:2000], predicted=d.predicted))
    return change_id


def list_changes(engine: Engine, store_id: str, statuses: tuple[str, ...] = STATUSES,
                 limit: int = 200) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(price_changes).where(price_changes.c.store_id == store_id,
                                                        price_changes.c.status.in_(statuses))
                            .order_by(price_changes.c.decided_at.desc()).limit(limit)).mappings().all()
    return [dict(r) for r in rows]


def to_push(engine: Engine, store_id: str, now: datetime, keep_days: int = 35,
            statuses: tuple[str, ...] = ("approved", "sent")) -> list[dict[str, Any]]:
    """The store's approved or sent price changes still due, or effective within ``keep_days``: what a
    price list carries (a newer list never drops a change a till has not applied yet); with
    ``statuses=("withdrawn",)`` the ones it names as withdrawn."""
    since = format_utc(now - timedelta(days=keep_days))
    with engine.connect() as conn:
        rows = conn.execute(select(price_changes).where(
            price_changes.c.store_id == store_id, price_changes.c.kind == "price",
            price_changes.c.status.in_(statuses), price_changes.c.effective_at >= since)
            .order_by(price_changes.c.effective_at, price_changes.c.change_id)).mappings().all()
    return [dict(r) for r in rows]


def offers_to_push(engine: Engine, store_id: str) -> list[dict[str, Any]]:
    """The store's approved or sent multi-buy and bundle offers: the whole set a price list carries."""
    with engine.connect() as conn:
        rows = conn.execute(select(price_changes).where(
            price_changes.c.store_id == store_id, price_changes.c.kind.in_(OFFER_KINDS),
            price_changes.c.status.in_(("approved", "sent")))
            .order_by(price_changes.c.effective_at, price_changes.c.change_id)).mappings().all()
    return [dict(r) for r in rows]


def withdraw(engine: Engine, store_id: str, change_ids: list[str]) -> int:
    """Mark changes and offers a fleet rollback takes back; returns how many."""
    if not change_ids:
        return 0
    with engine.begin() as conn:
        done = conn.execute(price_changes.update().where(
            price_changes.c.store_id == store_id, price_changes.c.change_id.in_(change_ids),
            price_changes.c.status.in_(("approved", "sent"))).values(status="withdrawn"))
    return int(done.rowcount or 0)


def end_offer(engine: Engine, store_id: str, change_id: str) -> None:
    """End an approved or sent offer: the next price list no longer carries it, so the tills drop it."""
    with engine.begin() as conn:
        done = conn.execute(price_changes.update().where(
            price_changes.c.store_id == store_id, price_changes.c.change_id == change_id,
            price_changes.c.kind.in_(OFFER_KINDS), price_changes.c.status.in_(("approved", "sent")))
            .values(status="ended"))
    if not done.rowcount:
        raise DecisionError(_("that offer is not running"))


def mark_sent(engine: Engine, change_ids: list[str], deployment_id: str, now: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(price_changes.update().where(price_changes.c.change_id.in_(change_ids),
                                                  price_changes.c.status == "approved")
                     .values(status="sent", deployment_id=deployment_id, sent_at=format_utc(now)))
        conn.execute(price_changes.update().where(price_changes.c.change_id.in_(change_ids),
                                                  price_changes.c.status == "sent")
                     .values(deployment_id=deployment_id))


def recent_decisions(engine: Engine, store_id: str, since: datetime) -> dict[str, dict[str, Any]]:
    """Per SKU, the newest decision since ``since``, or any approved change not yet in effect."""
    stamp = format_utc(since)
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        rows = conn.execute(select(price_changes).where(price_changes.c.store_id == store_id)
                            .order_by(price_changes.c.decided_at)).mappings().all()
    for r in rows:
        if r["decided_at"] >= stamp or (r["status"] in ("approved", "sent") and r["effective_at"] >= stamp):
            for sku in r["skus"] or [r["sku"]]:
                out[str(sku)] = dict(r)
    return out


def describe_phrase(row: dict[str, Any]) -> rs.Phrase:
    """A decision as the page says it (reasons.py phrase, worded in the reader's language)."""
    who, when = rs.text(str(row["decided_by"])), rs.when(str(row["decided_at"]))  # shown in store time
    if row["status"] == "rejected":
        return rs.phrase(N_("Rejected by %(who)s at %(when)s; not suggested again for a while."), who=who, when=when)
    if row["status"] == "recorded":
        return rs.phrase(N_("Offer recorded by %(who)s at %(when)s (set up by hand)."), who=who, when=when)
    if row["status"] in ("withdrawn", "ended"):
        return rs.phrase(N_("Taken back: %(old)s → %(new)s, decided by %(who)s at %(when)s."),
                         old={"money": int(row["old_price"])}, new={"money": int(row["new_price"])}, who=who, when=when)
    args = {"old": {"money": int(row["old_price"])}, "new": {"money": int(row["new_price"])},
            "effective": rs.when(str(row["effective_at"])), "who": who}
    if row["status"] == "sent":
        return rs.phrase(N_("Price %(old)s → %(new)s sent to the tills, effective %(effective)s, approved by %(who)s."),
                         **args)
    return rs.phrase(N_("Price %(old)s → %(new)s approved, waiting to be sent to the tills, effective %(effective)s, "
                        "approved by %(who)s."), **args)


def describe(row: dict[str, Any], currency: str, timezone: str | None = None) -> str:
    """:func:`describe_phrase` in English (times in the store's ``timezone``; None: UTC)."""
    from i18n import use_language

    with use_language("en"):
        return rs.render(describe_phrase(row), currency, timezone)


# -- what a change did ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    change_id: str
    days: int  # days measured after the change (and as many before)
    units_before: int
    units_after: int
    actual_units: int  # after - before
    predicted_units: float | None  # the prediction scaled to the same days
    actual_revenue: int
    predicted_revenue: float | None
    actual_profit: int | None
    predicted_profit: float | None
    predicted_units_low: float | None
    predicted_units_high: float | None

    @property
    def within_range(self) -> bool | None:
        if self.predicted_units_low is None or self.predicted_units_high is None:
            return None
        return self.predicted_units_low <= self.actual_units <= self.predicted_units_high

    def as_dict(self) -> dict[str, Any]:
        return {"change_id": self.change_id, "days": self.days, "units_before": self.units_before,
                "units_after": self.units_after, "actual_units": self.actual_units,
                "predicted_units": None if self.predicted_units is None else round(self.predicted_units, 1),
                "predicted_units_low": None if self.predicted_units_low is None else round(self.predicted_units_low, 1),
                "predicted_units_high": (None if self.predicted_units_high is None
                                         else round(self.predicted_units_high, 1)),
                "actual_revenue": self.actual_revenue,
                "predicted_revenue": None if self.predicted_revenue is None else round(self.predicted_revenue),
                "actual_profit": self.actual_profit,
                "predicted_profit": None if self.predicted_profit is None else round(self.predicted_profit),
                "within_range": self.within_range}


def outcome(engine: Engine, row: dict[str, Any], tz_name: str, now: datetime) -> Outcome | None:
    """What one sent change did: whole store-local days after it took effect (at most the horizon)
    against as many days before; None until a whole day has passed."""
    if row["status"] != "sent" or row["kind"] != "price":
        return None
    zone = ZoneInfo(tz_name)
    effective = parse_utc(row["effective_at"]).astimezone(zone)
    first_after = effective.date() + timedelta(days=1)  # the first whole day at the new price
    today = now.astimezone(zone).date()
    predicted = row.get("predicted") or {}
    effect = predicted.get("effect") or {}
    horizon = int(effect.get("horizon_days") or 28)
    days = min(horizon, (today - first_after).days)
    if days < 1:
        return None
    before_start = effective.date() - timedelta(days=days)
    with engine.connect() as conn:
        hist = daily_history(conn, StoreScope.everything(), row["store_id"], tz_name, before_start,
                             first_after + timedelta(days=days), skus=[row["sku"]])

    def total(lo: date, hi: date, attr: str) -> int:
        return sum(int(getattr(h, attr)) for h in hist if lo.isoformat() <= h.day < hi.isoformat())

    after = (first_after, first_after + timedelta(days=days))
    before = (before_start, effective.date())
    costed = any(h.cost for h in hist)
    scale = days / horizon

    def pred(key: str, part: str = "expected") -> float | None:
        value = (effect.get(key) or {}).get(part) if effect.get(key) else None
        return None if value is None else float(value) * scale

    return Outcome(
        row["change_id"], days, total(*before, "units"), total(*after, "units"),
        total(*after, "units") - total(*before, "units"), pred("units"),
        total(*after, "revenue") - total(*before, "revenue"), pred("revenue"),
        (total(*after, "gross_profit") - total(*before, "gross_profit")) if costed else None, pred("profit"),
        # the range the units sold should fall in (demand's noise included), else the mean effect's
        pred("units_outcome", "low") if effect.get("units_outcome") else pred("units", "low"),
        pred("units_outcome", "high") if effect.get("units_outcome") else pred("units", "high"))
