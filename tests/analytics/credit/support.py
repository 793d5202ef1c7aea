"""Credit histories with known answers, written straight into the hub tables the ingest fills
(``transactions`` with ``tillsight.tx/1`` payloads, ``credit_customers``, ``credit_repayments``).

Store ``s-cr`` "Colmado Ana" (Santo Domingo, UTC-4, DOP); "now" is 2026-11-21 15:00Z = 11:00
local, so every event at ``NOW - k days`` falls on store-local day 2026-11-21 minus k.

| customer | story | expected |
|---|---|---|
| ``c-rel`` Rosa Reliable | buys RD$300 on credit weekly for 8 months, repays each 5 days later | lowest risk |
| ``c-late`` Luis Late | RD$620 every 14 days, repays each 42 days later: 93 % of a RD$2,000 limit | high risk |
| ``c-new`` Nina New | two RD$200 credit purchases 6 and 3 days ago | neutral 50, "little history" |
| ``c-stop`` Pedro Stopped | weekly RD$200, repaid in 10 days, until he stopped paying 91 days ago | riskiest |
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert

from analytics.db import migrate
from analytics.db import tables as t
from analytics.db.credit_tables import credit_customers, credit_repayments

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
STORE = "s-cr"
SHOP = "Colmado Ana"
PHONES = {"c-rel": "+1 809 555 0101", "c-late": "+1 809 555 0102", "c-new": "+1 809 555 0103",
          "c-stop": "+1 809 555 0104"}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(k: float) -> datetime:
    return NOW - timedelta(days=k)


@dataclass
class Builder:
    store: str = STORE
    currency: str = "DOP"
    device: str = "till-1"
    tx: list[dict] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    repayments: list[dict] = field(default_factory=list)
    customers: list[dict] = field(default_factory=list)
    _seq: itertools.count = field(default_factory=lambda: itertools.count(1))
    balances: dict[str, int] = field(default_factory=dict)
    last_event: dict[str, datetime] = field(default_factory=dict)

    def _touch(self, customer: str, at: datetime, delta: int) -> None:
        self.balances[customer] = self.balances.get(customer, 0) + delta
        self.last_event[customer] = max(self.last_event.get(customer, at), at)

    def sale(self, customer: str | None, at: datetime, total: int, method: str = "credit", status: str = "completed",
             refund_of: str | None = None, qty: int = 2, parts: list[tuple[str, int]] | None = None) -> str:
        tx_id = str(uuid.uuid4())
        seq = next(self._seq)
        sign = -1 if status == "refunded" else 1
        payment: dict = {"method": method, "tendered": total if method != "credit" else 0, "change": 0}
        if parts:
            payment["parts"] = [{"method": m, "amount": a} for m, a in parts]
        payload = {"schema": "tillsight.tx/1", "tx_id": tx_id, "seq": seq, "store_id": self.store,
                   "device_id": self.device, "cashier_id": "ana", "started_at": iso(at), "completed_at": iso(at),
                   "status": status, "currency": self.currency,
                   "lines": [{"sku": "RICE-5LB", "name": "Rice 5 lb", "qty": sign * qty,
                              "unit_price": abs(total) // qty, "line_total": total, "source": "vision",
                              "confidence": 0.9}],
                   "subtotal": total, "discount": 0, "tax": 0, "total": total, "payment": payment,
                   "customer_id": customer, "events": [], "anomaly": None}
        if refund_of:
            payload["refund_of"] = refund_of
        self.tx.append({"tx_id": tx_id, "store_id": self.store, "device_id": self.device, "seq": seq,
                        "status": status, "cashier_id": "ana", "currency": self.currency, "completed_at": iso(at),
                        "total": total, "customer_id": customer, "anomaly_score": 0.1, "payload": payload,
                        "received_at": iso(at)})
        self.lines.append({"tx_id": tx_id, "line_no": 1, "store_id": self.store, "sku": "RICE-5LB",
                           "name": "Rice 5 lb", "qty": sign * qty, "unit_price": abs(total) // qty,
                           "line_total": total, "source": "vision"})
        if customer and status != "voided":
            credit = sum(a for m, a in parts if m == "credit") if parts else (total if method == "credit" else 0)
            if credit:
                self._touch(customer, at, credit)
        return tx_id

    def repay(self, customer: str, at: datetime, amount: int) -> None:
        self._touch(customer, at, -amount)
        self.repayments.append({"event_id": str(uuid.uuid4()), "store_id": self.store, "device_id": self.device,
                                "customer_id": customer, "amount": amount,
                                "balance_after": self.balances[customer], "paid_at": iso(at),
                                "received_at": iso(at), "currency": self.currency})

    def customer(self, customer: str, name: str, limit: int, phone: str | None = None, active: bool = True,
                 balance: int | None = None, updated_at: datetime | None = None) -> None:
        self.customers.append({"customer_id": customer, "name": name, "phone": phone, "credit_limit": limit,
                               "active": active, "balance": balance, "updated_at": updated_at})

    def write(self, engine: Engine, name: str = SHOP, timezone_name: str = "America/Santo_Domingo",
              settings: dict | None = None) -> None:
        migrate(engine)
        rows = []
        for c in self.customers:
            cid = c["customer_id"]
            at = c["updated_at"] or self.last_event.get(cid, NOW - timedelta(days=400))
            rows.append({"store_id": self.store, "customer_id": cid, "name": c["name"], "phone": c["phone"],
                         "credit_limit": c["credit_limit"], "active": c["active"],
                         "balance": c["balance"] if c["balance"] is not None else self.balances.get(cid, 0),
                         "updated_at": iso(at), "device_id": self.device, "currency": self.currency,
                         "event_id": str(uuid.uuid4()), "received_at": iso(at)})
        stamp = iso(NOW - timedelta(days=400))
        with engine.begin() as conn:
            conn.execute(insert(t.stores), [{"store_id": self.store, "name": name, "timezone": timezone_name,
                                             "currency": self.currency, "settings": settings or {},
                                             "created_at": stamp, "updated_at": stamp}])
            if self.tx:
                conn.execute(insert(t.transactions), self.tx)
                conn.execute(insert(t.tx_lines), self.lines)
            if self.repayments:
                conn.execute(insert(credit_repayments), self.repayments)
            if rows:
                conn.execute(insert(credit_customers), rows)


def four_customers(b: Builder | None = None) -> Builder:
    """The four stories of the module doc (plus cash sales and a voided credit sale as noise)."""
    b = b or Builder()
    for k in range(35):  # Rosa: RD$300 weekly, repaid 5 days later
        at = day(2 + 7 * k)
        b.sale("c-rel", at, 30000)
        if at + timedelta(days=5) <= NOW:
            b.repay("c-rel", at + timedelta(days=5), 30000)
    b.customer("c-rel", "Rosa Reliable", 500000, phone=PHONES["c-rel"])
    for k in range(18):  # Luis: RD$620 every two weeks, repaid 42 days later
        at = day(3 + 14 * k)
        b.sale("c-late", at, 62000)
        if at + timedelta(days=42) <= NOW:
            b.repay("c-late", at + timedelta(days=42), 62000)
    b.customer("c-late", "Luis Late", 200000, phone=PHONES["c-late"])
    b.sale("c-new", day(6), 20000)  # Nina: new
    b.sale("c-new", day(3), 20000)
    b.customer("c-new", "Nina New", 100000, phone=PHONES["c-new"])
    for k in range(32):  # Pedro: weekly RD$200 repaid in 10 days, until 91 days ago
        at = day(80 + 7 * k)
        b.sale("c-stop", at, 20000)
        if at + timedelta(days=10) <= day(85):
            b.repay("c-stop", at + timedelta(days=10), 20000)
    b.customer("c-stop", "Pedro Stopped", 300000, phone=PHONES["c-stop"])
    b.sale(None, day(1), 5000, method="cash")  # noise: an anonymous cash sale
    b.sale("c-rel", day(1), 99900, status="voided")  # a voided credit sale never moved money
    return b
