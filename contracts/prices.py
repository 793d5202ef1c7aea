"""A store's approved prices and offers as they travel from the hub to its tills: ``tillsight.prices/2``.

The hub writes one :class:`PriceList` per price push (the artifact of a signed ``prices`` fleet
manifest, so only the fleet operator's key can change what a till charges); the till's fleet agent
reads it with :meth:`PriceList.from_payload` and applies each :class:`PriceChange` once, at its
``effective_at``.  The list carries every change of the store that is still due or recent, not only
the newest, so a newer list never drops an older change a till has not applied yet.

Version 2 adds ``withdrawn`` (changes taken back, e.g. by a fleet rollback of a ``prices`` deployment:
the till undoes each one it applied, unless a later change set the price since, and never applies one
it has not) and ``promotions``: the store's whole set of :class:`Promotion` offers ("3 for RD$100",
"A and B together for X"), which replaces the set the till had; the checkout prices them from
``starts_at``.  A ``tillsight.prices/1`` list (an older hub) still reads: it has neither, and
:attr:`PriceList.has_promotions` is false, so the till keeps its offers as they are.

``to_payload`` is the one writing (it validates first, always the newest version), ``from_payload``
the one reading, of both versions (a ``ContractError``, a ``ValueError``, names the field).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.timestamps import format_utc, parse_utc
from contracts.validation import ContractError, contract_of, validate

PRICES_V1 = "tillsight.prices/1"
PRICES = "tillsight.prices/2"
READS = (PRICES_V1, PRICES)
PROMOTION_KINDS = ("multibuy", "bundle")


@dataclass(frozen=True)
class PriceChange:
    """One product's new price (minor units) from ``effective_at`` (UTC), approved by a person."""

    change_id: str
    sku: str
    price: int
    previous_price: int
    effective_at: str  # ISO-8601 UTC, ``...Z``
    approved_by: str
    approved_at: str
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"change_id": self.change_id, "sku": self.sku, "price": self.price,
                               "previous_price": self.previous_price, "effective_at": self.effective_at,
                               "approved_by": self.approved_by, "approved_at": self.approved_at}
        if self.reason:
            doc["reason"] = self.reason[:500]
        return doc

    @property
    def effective(self) -> datetime:
        return parse_utc(self.effective_at)


@dataclass(frozen=True)
class PromotionItem:
    sku: str
    qty: int


@dataclass(frozen=True)
class Promotion:
    """One offer: ``items`` together cost ``price`` (minor units) from ``starts_at`` until ``ends_at``
    (UTC; None: until the hub sends a list without it).  A multi-buy is one SKU with qty >= 2
    ("3 for 100"), a bundle two or more SKUs ("A and B together for X")."""

    promotion_id: str
    kind: str  # multibuy | bundle
    name: str
    items: tuple[PromotionItem, ...]
    price: int
    starts_at: str  # ISO-8601 UTC, ``...Z``
    approved_by: str
    approved_at: str
    ends_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"promotion_id": self.promotion_id, "kind": self.kind, "name": self.name[:200],
                "items": [{"sku": i.sku, "qty": i.qty} for i in self.items], "price": self.price,
                "starts_at": self.starts_at, "ends_at": self.ends_at, "approved_by": self.approved_by,
                "approved_at": self.approved_at}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Promotion:
        return cls(str(d["promotion_id"]), str(d["kind"]), str(d["name"]),
                   tuple(PromotionItem(str(i["sku"]), int(i["qty"])) for i in d["items"]), int(d["price"]),
                   str(d["starts_at"]), str(d["approved_by"]), str(d["approved_at"]), d.get("ends_at"))

    def in_force(self, at: datetime) -> bool:
        """Whether the offer applies to a sale at ``at`` (aware datetime)."""
        if parse_utc(self.starts_at) > at:
            return False
        return self.ends_at is None or at < parse_utc(self.ends_at)


@dataclass(frozen=True)
class PriceList:
    """``tillsight.prices/2``: the store's approved changes (oldest effective first), the changes
    withdrawn, and the store's offers."""

    store_id: str
    currency: str
    issued_at: str
    changes: tuple[PriceChange, ...] = field(default_factory=tuple)
    withdrawn: tuple[str, ...] = ()
    promotions: tuple[Promotion, ...] = ()
    has_promotions: bool = True  # False for a /1 list: it says nothing about offers

    @classmethod
    def build(cls, store_id: str, currency: str, issued_at: datetime, changes: list[PriceChange],
              withdrawn: list[str] | None = None, promotions: list[Promotion] | None = None) -> PriceList:
        ordered = tuple(sorted(changes, key=lambda c: (c.effective_at, c.change_id)))
        offers = tuple(sorted(promotions or [], key=lambda p: (p.starts_at, p.promotion_id)))
        return cls(store_id, currency, format_utc(issued_at), ordered, tuple(sorted(set(withdrawn or []))), offers)

    def to_dict(self) -> dict[str, Any]:
        doc = {"schema": PRICES, "store_id": self.store_id, "currency": self.currency, "issued_at": self.issued_at,
               "changes": [c.as_dict() for c in self.changes], "withdrawn": list(self.withdrawn),
               "promotions": [p.as_dict() for p in self.promotions]}
        validate(PRICES, doc)
        return doc

    def to_payload(self) -> bytes:
        """Canonical bytes (sorted keys, no spaces): the same list always has the same SHA-256."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_payload(cls, payload: bytes | str) -> PriceList:
        try:
            doc = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ContractError(f"not JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise ContractError(f"must be a JSON object, not {type(doc).__name__}")
        version = contract_of(doc, READS)
        validate(version, doc)
        changes = tuple(PriceChange(c["change_id"], c["sku"], int(c["price"]), int(c["previous_price"]),
                                    c["effective_at"], c["approved_by"], c["approved_at"], c.get("reason", ""))
                        for c in doc["changes"])
        if version == PRICES_V1:
            return cls(doc["store_id"], doc["currency"], doc["issued_at"], changes, has_promotions=False)
        return cls(doc["store_id"], doc["currency"], doc["issued_at"], changes, tuple(doc["withdrawn"]),
                   tuple(Promotion.from_dict(p) for p in doc["promotions"]))
