"""A device's alert across the boundary, typed: ``tillsight.alert/2`` on ``{store}/{device}/alert`` (outbox,
QoS 1).  The hub also reads ``tillsight.alert/1``, what devices wrote before alerts could be closed.

An alert is sent when it is raised (``closed_at`` null) and once more, whole, when the store closes it: a person
acknowledged it on the dashboard, or the device saw its condition end.  The second message carries the same
``alert_id``, so the hub marks the alert it has closed (or, if the raise never arrived, stores it closed).  Who
closed it stays on the device: the hub gets how, not a staff member's name.
``to_doc`` is the one writing, ``from_doc`` the one reading (it validates first; ``ContractError`` names the field).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from contracts.validation import ALERT, ALERT_VERSIONS, contract_of, validate

AlertKind = Literal["anomaly", "health"]
ClosedHow = Literal["acknowledged", "cleared"]
NO_REASON = "(no reason given)"


@dataclass(frozen=True)
class AlertMessage:
    """One alert as the hub learns it: raised, or closed (``closed_at`` set)."""

    alert_id: str
    store_id: str
    device_id: str
    kind: AlertKind
    raised_at: str
    score: float
    reasons: tuple[str, ...]
    tx_id: str | None = None
    model: str = ""
    closed_at: str | None = None
    closed_how: ClosedHow | None = None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"schema": ALERT, "alert_id": self.alert_id, "store_id": self.store_id,
                               "device_id": self.device_id, "kind": self.kind, "raised_at": self.raised_at,
                               "tx_id": self.tx_id, "score": round(float(self.score), 3),
                               "reasons": list(self.reasons) or [NO_REASON], "model": self.model,
                               "closed_at": self.closed_at, "closed_how": self.closed_how}
        validate(ALERT, doc)
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> AlertMessage:
        """Read a ``tillsight.alert/1`` or ``/2`` document (an older one is an open alert)."""
        validate(contract_of(doc, ALERT_VERSIONS), doc)
        return cls(alert_id=doc["alert_id"], store_id=doc["store_id"], device_id=doc["device_id"],
                   kind=doc["kind"], raised_at=doc["raised_at"], score=float(doc["score"]),
                   reasons=tuple(doc["reasons"]), tx_id=doc.get("tx_id"), model=doc.get("model") or "",
                   closed_at=doc.get("closed_at"), closed_how=doc.get("closed_how"))
