"""Read one store's credit data from the hub database: its credit customers (as the devices last
reported them), their credit sales and refunds (``transactions`` whose payment has a ``credit``
part), every sale that names them (for the purchase pattern) and their repayments.

Rules (the device's, see ``edge/store/sales.py``): a ``completed`` sale adds its credit part to
the customer's balance, a ``refunded`` one (negative amounts, ``refund_of`` the original sale)
takes it off again, a ``voided`` one never moved money and is left out.  The credit part is the
sum of the payment ``parts`` paid by ``credit`` (a split sale), or the whole total when the
payment has no parts and its method is ``credit``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine, select

from analytics.db import tables as t
from analytics.db.credit_tables import credit_customers, credit_repayments
from analytics.llm.language import reported_language, resolve_language

LANGUAGES = ("en", "es", "fr")


class CreditDataError(LookupError):
    """The store is unknown to the hub."""


@dataclass(frozen=True)
class CreditStore:
    store_id: str
    name: str
    timezone: str
    currency: str
    language: str  # the store's message language (settings ``language``; English when unset)

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)


@dataclass(frozen=True)
class Sale:
    """A sale that names the customer.  ``credit`` is its credit part (negative for a refund)."""

    tx_id: str
    at: datetime  # UTC
    day: date  # store-local
    status: str  # completed | refunded
    total: int
    credit: int
    items: int
    refund_of: str | None = None


@dataclass(frozen=True)
class Repayment:
    event_id: str
    at: datetime
    day: date
    amount: int
    balance_after: int


@dataclass(frozen=True)
class CustomerState:
    """What the device last reported about the customer (None fields: never reported)."""

    customer_id: str
    name: str
    phone: str | None
    credit_limit: int
    active: bool
    balance: int | None  # None: the hub has credit sales but no customer record yet
    updated_at: datetime | None


@dataclass
class CustomerData:
    state: CustomerState
    sales: list[Sale] = field(default_factory=list)  # every completed/refunded sale naming the customer
    repayments: list[Repayment] = field(default_factory=list)

    @property
    def credit_sales(self) -> list[Sale]:
        return [s for s in self.sales if s.credit != 0]


@dataclass
class StoreCredit:
    store: CreditStore
    customers: dict[str, CustomerData]


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_utc(text: str) -> datetime:
    """``2026-11-21T14:03:11Z`` (optionally with fractions) -> an aware UTC datetime."""
    value = str(text).strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def credit_part(payload: dict[str, Any] | None, total: int) -> int:
    """The amount of a sale put on the customer's account (signed like the sale's total)."""
    if not isinstance(payload, dict):
        return 0
    payment = payload.get("payment")
    if not isinstance(payment, dict):
        return 0
    parts = payment.get("parts")
    if isinstance(parts, list) and parts:
        return sum(int(p.get("amount") or 0) for p in parts
                   if isinstance(p, dict) and p.get("method") == "credit")
    return int(total) if payment.get("method") == "credit" else 0


def store_language(settings: Any) -> str:
    """The store's message language from its settings (``language``: ``en``/``es``/``fr`` or a
    locale such as ``es-DO``); English when unset or unsupported."""
    if isinstance(settings, dict):
        raw = settings.get("language") or settings.get("locale")
        if isinstance(raw, str):
            code = raw.strip().lower().replace("_", "-").split("-")[0]
            if code in LANGUAGES:
                return code
    return "en"


def load_store(engine: Engine, store_id: str) -> CreditStore:
    with engine.connect() as conn:
        row = conn.execute(select(t.stores).where(t.stores.c.store_id == store_id)).mappings().first()
        if row is None:
            seen = conn.execute(select(t.transactions.c.currency).where(t.transactions.c.store_id == store_id)
                                .limit(1)).scalar()
            if seen is None:
                raise CreditDataError(f"store {store_id!r} is not in the hub database")
            return CreditStore(store_id, store_id, "UTC", seen, "en")
        # the hub's language setting, else the one the store's devices report (analytics.llm.language)
        language = resolve_language(row["settings"], reported_language(conn, store_id))
    return CreditStore(store_id, row["name"], row["timezone"], row["currency"], language)


def load_credit(engine: Engine, store_id: str, customer_id: str | None = None,
                until: datetime | None = None) -> StoreCredit:
    """The store's credit customers with their sales and repayments (up to ``until``, UTC,
    when given: what the hub knew then)."""
    store = load_store(engine, store_id)
    tz = store.zone
    cc, rp, tx = credit_customers.c, credit_repayments.c, t.transactions.c
    cutoff = until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if until else None
    customers: dict[str, CustomerData] = {}
    with engine.connect() as conn:
        q = select(credit_customers).where(cc.store_id == store_id)
        if customer_id is not None:
            q = q.where(cc.customer_id == customer_id)
        for r in conn.execute(q).mappings():
            customers[r["customer_id"]] = CustomerData(CustomerState(
                r["customer_id"], r["name"], r["phone"] or None, int(r["credit_limit"]), bool(r["active"]),
                int(r["balance"]), parse_utc(r["updated_at"]) if r["updated_at"] else None))
        q = (select(tx.tx_id, tx.status, tx.completed_at, tx.total, tx.customer_id, tx.payload)
             .where(tx.store_id == store_id, tx.customer_id.is_not(None), tx.status.in_(("completed", "refunded"))))
        if customer_id is not None:
            q = q.where(tx.customer_id == customer_id)
        if cutoff:
            q = q.where(tx.completed_at <= cutoff)
        sales: dict[str, list[Sale]] = defaultdict(list)
        for r in conn.execute(q.order_by(tx.completed_at, tx.tx_id)).mappings():
            payload = r["payload"] if isinstance(r["payload"], dict) else None
            at = parse_utc(r["completed_at"])
            lines = payload.get("lines") if payload else None
            items = sum(abs(int(ln.get("qty") or 0)) for ln in lines if isinstance(ln, dict)) if lines else 0
            sales[r["customer_id"]].append(Sale(
                r["tx_id"], at, at.astimezone(tz).date(), r["status"], int(r["total"]),
                credit_part(payload, int(r["total"])), items, (payload or {}).get("refund_of")))
        q = select(credit_repayments).where(rp.store_id == store_id)
        if customer_id is not None:
            q = q.where(rp.customer_id == customer_id)
        if cutoff:
            q = q.where(rp.paid_at <= cutoff)
        repayments: dict[str, list[Repayment]] = defaultdict(list)
        for r in conn.execute(q.order_by(rp.paid_at, rp.event_id)).mappings():
            at = parse_utc(r["paid_at"])
            repayments[r["customer_id"]].append(Repayment(r["event_id"], at, at.astimezone(tz).date(),
                                                          int(r["amount"]), int(r["balance_after"])))
    # a customer with credit sales but no record yet (its state event is still on the way)
    for cid, rows in sales.items():
        if cid not in customers and any(s.credit for s in rows):
            customers[cid] = CustomerData(CustomerState(cid, cid, None, 0, True, None, None))
    for cid in repayments:
        if cid not in customers:
            customers[cid] = CustomerData(CustomerState(cid, cid, None, 0, True, None, None))
    for cid, data in customers.items():
        data.sales = sales.get(cid, [])
        data.repayments = repayments.get(cid, [])
    return StoreCredit(store, customers)
