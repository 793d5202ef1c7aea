"""The hub's latest insights for this store, as the sync agent received them (retained MQTT
message on ``{store}/{device}/insights``); the dashboard shows them."""

from __future__ import annotations

import json
from typing import Any

from contracts import ContractError, validate
from contracts.validation import INSIGHTS
from edge.store.database import StoreDB, utc_now
from edge.store.errors import ValidationError

_KEY = "_hub_insights"
MAX_BYTES = 256 * 1024


class HubInsights:
    def __init__(self, db: StoreDB) -> None:
        self.db = db

    def save(self, raw: bytes | str) -> dict[str, Any]:
        """Keep a received message; anything but a ``tillsight.insights/1`` document of sensible size is refused."""
        if len(raw) > MAX_BYTES:
            raise ValidationError(f"insights message of {len(raw)} bytes is over the {MAX_BYTES} limit")
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationError(f"insights message is not JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise ValidationError("insights message must be a JSON object")
        try:
            validate(INSIGHTS, doc)
        except ContractError as exc:
            raise ValidationError(f"insights message refused: {exc}") from None
        stored = {**doc, "received_at": utc_now()}
        with self.db.transaction() as c:
            c.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE"
                      " SET value = excluded.value", (_KEY, json.dumps(stored)))
        return stored

    def latest(self) -> dict[str, Any] | None:
        value = self.db.scalar("SELECT value FROM settings WHERE key = ?", (_KEY,))
        return json.loads(value) if value else None
