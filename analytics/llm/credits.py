"""Per-store AI credits: balance, daily and monthly caps, price per feature, and a ledger row for
every call, top-up and cap change.

A call first *reserves* its price: in ONE transaction the account row is locked (``SELECT ... FOR
UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers), the balance and what the
store spent today / this month (the store's own local day and month, from its time zone in
``stores``; UTC for a store the hub has no row for) are checked, the balance is charged and a
pending ledger row written.  Two concurrent requests can therefore never both spend the last
credits.  When the call ends, :meth:`Credits.settle` completes the row (tokens, latency) or, for a
failed call, gives the price back, so a failed call costs nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, Engine, RowMapping, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from analytics.db.ai_tables import ai_accounts, ai_ledger
from analytics.db.tables import stores
from analytics.llm.errors import AIUnavailable


def utc_now() -> datetime:
    return datetime.now(UTC)


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_period_starts(now: datetime, zone_name: str | None) -> tuple[str, str]:
    """When the store's current local day and month began, as UTC ledger timestamps: a shop in
    Santo Domingo gets its new daily cap at its own midnight, not at 20:00 the evening before."""
    try:
        zone = ZoneInfo(zone_name) if zone_name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    local = now.astimezone(zone)
    day = datetime(local.year, local.month, local.day, tzinfo=zone)
    month = datetime(local.year, local.month, 1, tzinfo=zone)
    return utc_text(day), utc_text(month)


class _Unset:
    pass


UNSET: Any = _Unset()


@dataclass(frozen=True)
class Account:
    store_id: str
    balance: int
    daily_cap: int | None
    monthly_cap: int | None
    spent_today: int
    spent_month: int
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class LedgerRow:
    entry_id: int
    store_id: str
    kind: str  # call | topup | caps
    feature: str | None
    at: str
    model: str | None
    prompt_tokens: int
    completion_tokens: int
    cost: int
    credit_change: int
    balance_after: int | None
    latency_ms: int | None
    success: bool
    pending: bool
    error: str | None
    cached: bool
    note: str | None


@dataclass(frozen=True)
class Reservation:
    entry_id: int
    store_id: str
    feature: str
    cost: int


class Credits:
    """The credit accounts and ledger over the hub database."""

    def __init__(self, engine: Engine, prices: Mapping[str, int], *, starting_credits: int = 1000,
                 daily_cap: int | None = None, monthly_cap: int | None = None,
                 clock: Callable[[], datetime] = utc_now, stale_after_s: float = 900.0) -> None:
        self.engine = engine
        # a reservation still pending after this long belongs to a process that died mid-call:
        # its price goes back to the balance on the store's next reservation
        self.stale_after_s = stale_after_s
        self.prices = dict(prices)
        self.starting_credits = starting_credits
        self.daily_cap = daily_cap
        self.monthly_cap = monthly_cap
        self.clock = clock

    # -- reading -------------------------------------------------------------------------------
    def price(self, feature: str) -> int:
        try:
            return int(self.prices[feature])
        except KeyError:
            raise ValueError(f"no price for AI feature {feature!r}") from None

    def account(self, store_id: str) -> Account:
        """The store's account (created with the starting credits on first use)."""
        with self.engine.begin() as conn:
            self._ensure(conn, store_id)
            return self._account(conn, store_id)

    def ledger(self, store_id: str, limit: int = 500, since: str | None = None) -> list[LedgerRow]:
        """Newest first."""
        query = select(ai_ledger).where(ai_ledger.c.store_id == store_id)
        if since:
            query = query.where(ai_ledger.c.at >= since)
        query = query.order_by(ai_ledger.c.entry_id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_ledger_row(r) for r in conn.execute(query).mappings()]

    # -- charging -------------------------------------------------------------------------------
    def reserve(self, store_id: str, feature: str, model: str | None = None) -> Reservation:
        """Check the budget and charge the feature's price, in one transaction; raises
        ``AIUnavailable(kind="budget")`` (after writing a refused ledger row) when it does not fit."""
        cost = self.price(feature)
        at = utc_text(self.clock())
        refusal: str | None = None
        with self.engine.begin() as conn:
            self._ensure(conn, store_id)
            self._account(conn, store_id, lock=True)
            self._release_stale(conn, store_id)
            acct = self._account(conn, store_id)
            refusal = self._refusal(acct, cost)
            if refusal is None:
                balance = acct.balance - cost
                conn.execute(update(ai_accounts).where(ai_accounts.c.store_id == store_id)
                             .values(balance=balance, updated_at=at))
                key = conn.execute(insert(ai_ledger).values(
                    store_id=store_id, kind="call", feature=feature, at=at, model=model, prompt_tokens=0,
                    completion_tokens=0, cost=cost, credit_change=-cost, balance_after=balance,
                    success=False, pending=True, cached=False)).inserted_primary_key
                if key is None:
                    raise RuntimeError("the ledger row was not inserted")
                return Reservation(int(key[0]), store_id, feature, cost)
            conn.execute(insert(ai_ledger).values(
                store_id=store_id, kind="call", feature=feature, at=at, model=model, prompt_tokens=0,
                completion_tokens=0, cost=0, credit_change=0, balance_after=acct.balance, success=False,
                pending=False, cached=False, error=refusal))
        raise AIUnavailable("budget", refusal)

    def _refusal(self, acct: Account, cost: int) -> str | None:
        if acct.daily_cap is not None and acct.spent_today + cost > acct.daily_cap:
            return (f"AI credits for today are used up (cap {acct.daily_cap}, spent {acct.spent_today}); "
                    "showing computed figures.")
        if acct.monthly_cap is not None and acct.spent_month + cost > acct.monthly_cap:
            return (f"AI credits for this month are used up (cap {acct.monthly_cap}, spent {acct.spent_month}); "
                    "showing computed figures.")
        if acct.balance < cost:
            return (f"This store's AI credits are used up (balance {acct.balance}, this needs {cost}); "
                    "ask your operator for a top-up. Showing computed figures.")
        return None

    def settle(self, reservation: Reservation, *, success: bool, model: str | None = None,
               prompt_tokens: int = 0, completion_tokens: int = 0, latency_ms: int | None = None,
               error: str | None = None) -> None:
        """Complete a reserved call; a failed one gets its price back (cost 0)."""
        with self.engine.begin() as conn:
            values: dict[str, Any] = dict(success=success, pending=False, prompt_tokens=prompt_tokens,
                                          completion_tokens=completion_tokens, latency_ms=latency_ms,
                                          error=error)
            if model:
                values["model"] = model
            if not success and reservation.cost:
                self._account(conn, reservation.store_id, lock=True)
                conn.execute(update(ai_accounts).where(ai_accounts.c.store_id == reservation.store_id).values(
                    balance=ai_accounts.c.balance + reservation.cost, updated_at=utc_text(self.clock())))
                balance = conn.execute(select(ai_accounts.c.balance).where(
                    ai_accounts.c.store_id == reservation.store_id)).scalar_one()
                values.update(cost=0, credit_change=0, balance_after=int(balance))
            conn.execute(update(ai_ledger).where(ai_ledger.c.entry_id == reservation.entry_id).values(**values))

    def record(self, store_id: str, feature: str, *, model: str | None, success: bool, cached: bool = False,
               error: str | None = None, latency_ms: int | None = None, prompt_tokens: int = 0,
               completion_tokens: int = 0) -> None:
        """A ledger row that costs nothing (cache hit, a request refused before it was sent)."""
        at = utc_text(self.clock())
        with self.engine.begin() as conn:
            self._ensure(conn, store_id)
            balance = conn.execute(select(ai_accounts.c.balance).where(
                ai_accounts.c.store_id == store_id)).scalar_one()
            conn.execute(insert(ai_ledger).values(
                store_id=store_id, kind="call", feature=feature, at=at, model=model, prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens, cost=0, credit_change=0, balance_after=int(balance),
                latency_ms=latency_ms, success=success, pending=False, error=error, cached=cached))

    # -- operator actions ----------------------------------------------------------------------
    def top_up(self, store_id: str, amount: int, note: str | None = None) -> Account:
        """Add (or, negative, take back) credits; recorded in the ledger.  The balance never goes below 0."""
        if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
            raise ValueError("the top-up must be a whole number of credits other than 0")
        at = utc_text(self.clock())
        with self.engine.begin() as conn:
            self._ensure(conn, store_id)
            acct = self._account(conn, store_id, lock=True)
            balance = acct.balance + amount
            if balance < 0:
                raise ValueError(f"cannot take {-amount} credits: the balance is {acct.balance}")
            conn.execute(update(ai_accounts).where(ai_accounts.c.store_id == store_id)
                         .values(balance=balance, updated_at=at))
            conn.execute(insert(ai_ledger).values(
                store_id=store_id, kind="topup", at=at, cost=0, credit_change=amount, balance_after=balance,
                success=True, pending=False, cached=False, prompt_tokens=0, completion_tokens=0,
                note=note or ("top-up" if amount > 0 else "credits taken back")))
            return self._account(conn, store_id)

    def set_caps(self, store_id: str, daily_cap: int | None = UNSET, monthly_cap: int | None = UNSET,
                 note: str | None = None) -> Account:
        """Change the caps (None = no cap; UNSET = leave as it is); recorded in the ledger."""
        values: dict[str, Any] = {}
        for name, cap in (("daily_cap", daily_cap), ("monthly_cap", monthly_cap)):
            if cap is UNSET:
                continue
            if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 0):
                raise ValueError(f"{name.replace('_', ' ')} must be a whole number >= 0 or none")
            values[name] = cap
        if not values:
            raise ValueError("give a daily cap, a monthly cap or both")
        at = utc_text(self.clock())
        with self.engine.begin() as conn:
            self._ensure(conn, store_id)
            acct = self._account(conn, store_id, lock=True)
            conn.execute(update(ai_accounts).where(ai_accounts.c.store_id == store_id)
                         .values(updated_at=at, **values))
            text = ", ".join(f"{k.replace('_', ' ')} {'none' if v is None else v}" for k, v in values.items())
            conn.execute(insert(ai_ledger).values(
                store_id=store_id, kind="caps", at=at, cost=0, credit_change=0, balance_after=acct.balance,
                success=True, pending=False, cached=False, prompt_tokens=0, completion_tokens=0,
                note=f"{text}{' — ' + note if note else ''}"))
            return self._account(conn, store_id)

    # -- internals ------------------------------------------------------------------------------
    def _release_stale(self, conn: Connection, store_id: str) -> int:
        """Refund reservations left pending by a process that died mid-call (account row locked)."""
        cutoff = utc_text(self.clock() - timedelta(seconds=self.stale_after_s))
        stale = conn.execute(select(ai_ledger.c.entry_id, ai_ledger.c.cost).where(
            ai_ledger.c.store_id == store_id, ai_ledger.c.pending.is_(True), ai_ledger.c.at < cutoff)).all()
        if not stale:
            return 0
        refund = sum(int(r.cost or 0) for r in stale)
        conn.execute(update(ai_accounts).where(ai_accounts.c.store_id == store_id).values(
            balance=ai_accounts.c.balance + refund, updated_at=utc_text(self.clock())))
        conn.execute(update(ai_ledger).where(ai_ledger.c.entry_id.in_([r.entry_id for r in stale])).values(
            pending=False, success=False, cost=0, credit_change=0,
            error="abandoned: the hub process stopped during the call; credits returned"))
        return len(stale)

    def _ensure(self, conn: Connection, store_id: str) -> None:
        at = utc_text(self.clock())
        values = dict(store_id=store_id, balance=self.starting_credits, daily_cap=self.daily_cap,
                      monthly_cap=self.monthly_cap, created_at=at, updated_at=at)
        name = conn.dialect.name
        if name == "postgresql":
            conn.execute(postgresql.insert(ai_accounts).values(**values).on_conflict_do_nothing())
        elif name == "sqlite":
            conn.execute(sqlite.insert(ai_accounts).values(**values).on_conflict_do_nothing())
        elif conn.execute(select(ai_accounts.c.store_id).where(ai_accounts.c.store_id == store_id)).first() is None:
            conn.execute(insert(ai_accounts).values(**values))

    def _account(self, conn: Connection, store_id: str, lock: bool = False) -> Account:
        query = select(ai_accounts).where(ai_accounts.c.store_id == store_id)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).mappings().one()
        zone = conn.execute(select(stores.c.timezone).where(stores.c.store_id == store_id)).scalar()
        day, month = local_period_starts(self.clock(), zone)
        spent = lambda since: int(conn.execute(  # noqa: E731
            select(func.coalesce(func.sum(ai_ledger.c.cost), 0)).where(
                ai_ledger.c.store_id == store_id, ai_ledger.c.kind == "call", ai_ledger.c.at >= since)).scalar_one())
        return Account(store_id=row["store_id"], balance=int(row["balance"]), daily_cap=row["daily_cap"],
                       monthly_cap=row["monthly_cap"], spent_today=spent(day), spent_month=spent(month),
                       created_at=row["created_at"], updated_at=row["updated_at"])


def _ledger_row(r: RowMapping) -> LedgerRow:
    return LedgerRow(entry_id=int(r["entry_id"]), store_id=r["store_id"], kind=r["kind"], feature=r["feature"],
                     at=r["at"], model=r["model"], prompt_tokens=int(r["prompt_tokens"] or 0),
                     completion_tokens=int(r["completion_tokens"] or 0), cost=int(r["cost"] or 0),
                     credit_change=int(r["credit_change"] or 0), balance_after=r["balance_after"],
                     latency_ms=r["latency_ms"], success=bool(r["success"]), pending=bool(r["pending"]),
                     error=r["error"], cached=bool(r["cached"]), note=r["note"])
