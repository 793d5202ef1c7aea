"""Store settings kept in the database (editable by the owner on the settings page).

Identity and infrastructure (store id, device id, ports) live in the validated configuration file;
the owner's business settings (name on the receipt, currency, tax rate, time zone, receipt footer,
the store's language) live here, seeded from the configuration on first start.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edge.store.database import StoreDB
from edge.store.errors import ValidationError
from i18n import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES
from i18n import gettext as _


@dataclass(frozen=True)
class StoreSettings:
    store_name: str = "Tillsight store"
    currency: str = "DOP"
    tax_rate_bp: int = 1800  # basis points: 1800 = 18 %; prices include tax
    timezone: str = "America/Santo_Domingo"
    receipt_footer: str = "Thank you for shopping with us"
    address: str = ""
    low_stock_default: int = 5
    language: str = DEFAULT_LANGUAGE  # what screens, receipts and reports speak unless a person prefers another

    def validate(self) -> None:
        if not self.store_name.strip() or len(self.store_name) > 120:
            raise ValidationError(_("store_name: must be 1-120 characters"))
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValidationError(_("currency: must be a three-letter ISO code such as DOP"))
        if not isinstance(self.tax_rate_bp, int) or not 0 <= self.tax_rate_bp <= 5000:
            raise ValidationError(_("tax_rate_bp: must be 0-5000 basis points (0-50 %)"))
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(_("timezone: unknown IANA time zone %(zone)s", zone=repr(self.timezone))) from None
        if len(self.receipt_footer) > 200 or len(self.address) > 200:
            raise ValidationError(_("receipt_footer/address: at most 200 characters"))
        if not isinstance(self.low_stock_default, int) or self.low_stock_default < 0:
            raise ValidationError(_("low_stock_default: must be 0 or more"))
        if self.language not in SUPPORTED_LANGUAGES:
            raise ValidationError(_("language: must be one of %(languages)s", languages=", ".join(SUPPORTED_LANGUAGES)))


_KEYS = {f.name for f in fields(StoreSettings)}


class Settings:
    def __init__(self, db: StoreDB) -> None:
        self.db = db

    def get(self) -> StoreSettings:
        stored = {r["key"]: json.loads(r["value"]) for r in self.db.query("SELECT key, value FROM settings")}
        return StoreSettings(**{k: v for k, v in stored.items() if k in _KEYS})

    def update(self, **changes: Any) -> StoreSettings:  # any type here: validate() below checks each
        unknown = set(changes) - _KEYS
        if unknown:
            raise ValidationError(f"unknown setting: {', '.join(sorted(unknown))}")
        new = replace(self.get(), **changes)
        new.validate()
        with self.db.transaction() as c:
            for key, value in asdict(new).items():
                c.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE"
                          " SET value = excluded.value", (key, json.dumps(value)))
        return new

    def is_seeded(self) -> bool:
        return bool(self.db.scalar("SELECT count(*) FROM settings"))
