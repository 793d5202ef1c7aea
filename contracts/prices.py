"""A store's approved price changes as they travel from the hub to its tills: ``tillsight.prices/1``.

The hub writes one :class:`PriceList` per price push (the artifact of a signed ``prices`` fleet
manifest, so only the fleet operator's key can change what a till charges); the till's fleet agent
reads it with :meth:`PriceList.from_payload` and applies each :class:`PriceChange` once, at its
``effective_at``.  The list carries every change of the store that is still due or recent, not only
the newest, so a newer list never drops an older change a till has not applied yet.
``to_payload`` is the one writing (it validates first), ``from_payload`` the one reading (a
``ContractError``, a ``ValueError``, names the field).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.timestamps import format_utc, parse_utc
from contracts.validation import ContractError, validate

PRICES = "tillsight.prices/1"


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
class PriceList:
    """``tillsight.prices/1``: the store's approved changes, oldest effective first."""

    store_id: str
    currency: str
    issued_at: str
    changes: tuple[PriceChange, ...] = field(default_factory=tuple)

    @classmethod
    def build(cls, store_id: str, currency: str, issued_at: datetime, changes: list[PriceChange]) -> PriceList:
        ordered = tuple(sorted(changes, key=lambda c: (c.effective_at, c.change_id)))
        return cls(store_id, currency, format_utc(issued_at), ordered)

    def to_dict(self) -> dict[str, Any]:
        doc = {"schema": PRICES, "store_id": self.store_id, "currency": self.currency, "issued_at": self.issued_at,
               "changes": [c.as_dict() for c in self.changes]}
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
        validate(PRICES, doc)
        changes = tuple(PriceChange(c["change_id"], c["sku"], int(c["price"]), int(c["previous_price"]),
                                    c["effective_at"], c["approved_by"], c["approved_at"], c.get("reason", ""))
                        for c in doc["changes"])
        return cls(doc["store_id"], doc["currency"], doc["issued_at"], changes)
