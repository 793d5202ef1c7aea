"""Records of the device store (dataclasses), and the sale's wire form (``tillsight.tx/2``: the one writer).

A sale's events are the typed records of :mod:`contracts.events` (re-exported here as ``SaleEvent``),
so the checkout that writes them and every reader agree on their shape."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from contracts.events import EVENT_TYPES, SaleEvent
from contracts.margins import split_offer
from contracts.validation import TX
from runtime.web_guard import RoleRanking

SALE_STATUSES = ("completed", "voided", "refunded")
PAYMENT_METHODS = ("cash", "card", "mobile_money", "credit")
LINE_SOURCES = ("vision", "barcode", "manual")
ROLES = ("cashier", "supervisor", "owner")  # lowest to highest
ROLE_RANK = RoleRanking(ROLES)  # the web guard ranks with the same object
__all__ = ["EVENT_TYPES", "Alert", "CostChange", "Customer", "Payment", "Product", "SaleEvent", "SaleLine",
           "SalePromotion", "SaleRecord", "StockMovement", "StockReceipt", "Supplier", "SupplierLink", "User"]
TX_SCHEMA = TX  # "tillsight.tx/2"; sales stored before it keep their tillsight.tx/1 payloads


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: int
    barcode: str | None = None
    category: str = ""
    active: bool = True
    stock_qty: int = 0
    reorder_level: int = 0
    cost: int | None = None  # moving weighted average unit cost, minor units, excluding tax; None: not known

    @property
    def low_stock(self) -> bool:
        return self.active and self.stock_qty <= self.reorder_level


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    phone: str = ""
    credit_limit: int = 0
    balance: int = 0  # what the customer owes, minor units
    active: bool = True

    @property
    def available_credit(self) -> int:
        return max(0, self.credit_limit - self.balance)


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: str
    active: bool = True
    has_pin: bool = False
    has_password: bool = False
    failed_attempts: int = 0
    locked_until: str | None = None

    def at_least(self, role: str) -> bool:
        return ROLE_RANK.at_least(self.role, role)


@dataclass(frozen=True)
class SaleLine:
    sku: str
    name: str
    qty: int
    unit_price: int
    line_total: int
    source: str = "manual"
    confidence: float | None = None
    unit_cost: int | None = None  # the store fills it when the sale is written (None: no known cost)

    def to_payload(self) -> dict[str, Any]:
        return {"sku": self.sku, "name": self.name, "qty": self.qty, "unit_price": self.unit_price,
                "line_total": self.line_total, "source": self.source,
                "confidence": None if self.confidence is None else round(float(self.confidence), 3),
                "unit_cost": self.unit_cost}


@dataclass(frozen=True)
class Payment:
    method: str
    amount: int  # what this part pays towards the total
    tendered: int = 0  # cash handed over (cash only; equals amount otherwise)
    change: int = 0
    customer_id: str | None = None


@dataclass(frozen=True)
class SalePromotion:
    """A multi-buy or bundle offer the sale got (``edge/checkout/promotions.py``): used ``times`` times at
    ``price`` each, saving ``discount`` minor units (part of the sale's ``discount``)."""

    promotion_id: str
    kind: str  # multibuy | bundle
    name: str
    times: int
    price: int
    discount: int
    line_ids: tuple[int, ...] = ()  # the basket lines it took units from (the till's view, not stored)
    line_units: tuple[tuple[int, int], ...] = ()  # (basket line id, units taken) (the till's view, not stored)
    # stored: (sale line number from 1, units, that line's part of the discount) (contracts.margins)
    lines: tuple[tuple[int, int, int], ...] = ()

    def on_sale_lines(self, numbers: Mapping[int, int], unit_prices: Mapping[int, int]) -> SalePromotion:
        """This offer as the sale keeps it: the units it took named by the sale's line numbers (``numbers``:
        basket line id -> line number), each line's part of the saving in proportion to its units' shelf
        value (``unit_prices``: basket line id -> unit price)."""
        taken = [(numbers[line_id], units, units * unit_prices[line_id]) for line_id, units in self.line_units]
        parts = split_offer(self.discount, [value for _n, _u, value in taken])
        return replace(self, lines=tuple((n, u, d) for (n, u, _v), d in zip(taken, parts, strict=True)))

    def to_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"promotion_id": self.promotion_id, "kind": self.kind, "name": self.name,
                               "times": self.times, "price": self.price, "discount": self.discount}
        if self.lines:
            out["lines"] = [{"line": n, "qty": q, "discount": d} for n, q, d in self.lines]
        return out

    @classmethod
    def from_payload(cls, d: dict[str, Any]) -> SalePromotion:
        return cls(str(d["promotion_id"]), str(d["kind"]), str(d["name"]), int(d["times"]), int(d["price"]),
                   int(d["discount"]),
                   lines=tuple((int(x["line"]), int(x["qty"]), int(x["discount"])) for x in d.get("lines") or ()))


@dataclass
class SaleRecord:
    """A finished sale (or voided sale, or refund) as the checkout hands it to the store.

    ``seq`` and ``receipt_no`` are assigned by the store inside the write transaction.  Refunds
    carry negative quantities and amounts, so sums over sales give net figures.
    """

    tx_id: str
    status: str
    store_id: str
    device_id: str
    cashier_id: str
    currency: str
    started_at: str
    completed_at: str
    lines: list[SaleLine]
    payments: list[Payment]
    events: list[SaleEvent]  # typed records (contracts.events), in the order they happened
    subtotal: int
    discount: int
    tax: int
    total: int
    customer_id: str | None = None
    refund_of: str | None = None
    shift_id: int | None = None
    anomaly: dict[str, Any] | None = None
    seq: int | None = None
    receipt_no: str | None = None
    promotions: list[SalePromotion] = field(default_factory=list)  # offers applied; their discounts are in discount

    @property
    def promotion_discount(self) -> int:
        """The part of ``discount`` that offers gave (the rest a supervisor gave by hand)."""
        return sum(p.discount for p in self.promotions)

    def payment_payload(self) -> dict[str, Any] | None:
        if not self.payments:
            return None
        main = max(self.payments, key=lambda p: abs(p.amount))
        return {"method": main.method,
                "tendered": sum(p.tendered for p in self.payments),
                "change": sum(p.change for p in self.payments),
                "parts": [{"method": p.method, "amount": p.amount} for p in self.payments]}

    def to_payload(self) -> dict[str, Any]:
        """The ``tillsight.tx/2`` message for this sale (the outbox row's payload)."""
        payload: dict[str, Any] = {
            "schema": TX_SCHEMA, "tx_id": self.tx_id, "seq": self.seq,
            "store_id": self.store_id, "device_id": self.device_id, "cashier_id": self.cashier_id,
            "started_at": self.started_at, "completed_at": self.completed_at,
            "status": self.status, "currency": self.currency,
            "lines": [line.to_payload() for line in self.lines],
            "subtotal": self.subtotal, "discount": self.discount, "tax": self.tax, "total": self.total,
            "payment": self.payment_payload(), "customer_id": self.customer_id,
            "events": [e.to_payload() for e in self.events],
            "anomaly": self.anomaly,
            "receipt_no": self.receipt_no,
        }
        if self.refund_of:
            payload["refund_of"] = self.refund_of
        if self.promotions:
            payload["promotions"] = [p.to_payload() for p in self.promotions]
        return payload


@dataclass(frozen=True)
class Alert:
    id: int
    tx_id: str | None
    kind: str
    score: float
    reasons: tuple[str, ...]
    created_at: str
    acknowledged_at: str | None = None
    acknowledged_by: str | None = None


@dataclass(frozen=True)
class StockMovement:
    id: int
    sku: str
    delta: int
    reason: str
    at: str
    tx_id: str | None = None
    user_id: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Supplier:
    id: int
    name: str
    contact: str = ""  # the person to ask for
    phone: str = ""
    email: str = ""
    note: str = ""
    active: bool = True
    created_at: str = ""


@dataclass(frozen=True)
class SupplierLink:
    """A supplier of a product, and how many days its deliveries take to arrive after an order."""

    sku: str
    product_name: str
    supplier_id: int
    supplier_name: str
    lead_time_days: int


@dataclass(frozen=True)
class StockReceipt:
    """A delivery booked in: ``qty`` units at ``unit_cost`` each (None: cost not given), optionally from a
    supplier; ``cost_before`` / ``cost_after`` are the product's weighted average cost around it."""

    id: int
    sku: str
    qty: int
    unit_cost: int | None
    supplier_id: int | None
    user_id: str | None
    note: str
    at: str
    cost_before: int | None = None
    cost_after: int | None = None
    supplier_name: str | None = None
    product_name: str | None = None


@dataclass(frozen=True)
class CostChange:
    """One change of a product's cost: by a receipt (``receiving``), by hand (``manual``) or an import."""

    id: int
    sku: str
    old_cost: int | None
    new_cost: int | None
    reason: str
    at: str
    receipt_id: int | None = None
    user_id: str | None = None
    note: str = ""
