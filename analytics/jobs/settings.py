"""A store's analytics settings, kept in ``stores.settings`` (JSON) and validated here: paydays,
holidays, opening days, supplier lead time, service level, staffing, per-SKU overrides.

Unknown keys are rejected and every error names its key (``sku_overrides.RICE-5LB.lead_time_days``),
so a typo never silently falls back to a default.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class SettingsError(ValueError):
    """Invalid analytics settings of a store; the message names each offending key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SkuOverride(_Strict):
    """What one SKU does differently from the store's defaults."""

    lead_time_days: int | None = Field(None, ge=0, le=365)
    review_days: int | None = Field(None, ge=1, le=365)
    service_level: float | None = Field(None, gt=0.5, lt=1.0)
    pack_size: int = Field(1, ge=1, le=100000)  # order in whole packs
    min_order_qty: int = Field(0, ge=0, le=1000000)
    category: str | None = Field(None, min_length=1, max_length=40)
    exclude: bool = False  # not a stocked product (a fee, a service): no forecast, no reorder advice


class StaffingSettings(_Strict):
    """How many sales one person at the till handles per hour, and the floor while open."""

    sales_per_staff_hour: float = Field(20.0, gt=0, le=1000)
    min_staff: int = Field(1, ge=0, le=100)
    max_staff: int = Field(20, ge=1, le=1000)
    # plan for this quantile of the hour's traffic (0.8 = the upper end of the 80% interval)
    plan_quantile: float = Field(0.9, gt=0.5, lt=1.0)


class AnalyticsSettings(_Strict):
    """The ``stores.settings`` document (all keys optional)."""

    # days of the month wages are paid; 31 means the month's last day in shorter months
    paydays: list[int] = Field(default_factory=list, max_length=31)
    payday_window_days: int = Field(2, ge=0, le=10)  # days after a payday that count as payday trading
    holidays: list[date] = Field(default_factory=list, max_length=2000)  # extra closed days
    holiday_country: str | None = Field(None, pattern=r"^[A-Z]{2}$")  # public holidays of this country
    holiday_subdivision: str | None = Field(None, min_length=1, max_length=10)  # e.g. ENG for GB
    closed_on_holidays: bool = True  # False: open on holidays, with their own demand effect
    closed_weekdays: list[int] | None = None  # 0 = Monday ... 6 = Sunday; None = learned from the sales
    lead_time_days: int = Field(7, ge=0, le=365)  # supplier lead time
    review_days: int = Field(7, ge=1, le=365)  # how often the shop places an order
    service_level: float = Field(0.95, gt=0.5, lt=1.0)  # chance of not running out before a delivery
    horizon_days: int = Field(28, ge=7, le=90)
    history_days: int = Field(365, ge=56, le=3650)  # how much history the jobs read
    slow_mover_units_per_week: float = Field(1.0, ge=0)  # at or below this over 8 weeks: slow mover
    slow_mover_idle_days: int = Field(28, ge=7, le=365)  # no sale for this long: slow mover
    # the language of texts for the shop's customers (collection reminders): BCP 47, e.g. es-DO, fr, en
    language: str | None = Field(None, pattern=r"^[a-z]{2}(-[A-Za-z0-9]{2,8})?$")
    staffing: StaffingSettings = Field(default_factory=StaffingSettings)
    sku_overrides: dict[str, SkuOverride] = Field(default_factory=dict)

    @field_validator("paydays")
    @classmethod
    def _days_of_month(cls, value: list[int]) -> list[int]:
        bad = [d for d in value if not 1 <= d <= 31]
        if bad:
            raise ValueError(f"days of the month must be 1..31, got {bad}")
        return sorted(set(value))

    @field_validator("closed_weekdays")
    @classmethod
    def _weekdays(cls, value: list[int] | None) -> list[int] | None:
        if value is None:
            return None
        bad = [d for d in value if not 0 <= d <= 6]
        if bad:
            raise ValueError(f"weekdays are 0 (Monday) .. 6 (Sunday), got {bad}")
        if len(set(value)) == 7:
            raise ValueError("a store cannot be closed every day of the week")
        return sorted(set(value))

    @field_validator("holiday_country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import holidays

        if value not in holidays.list_supported_countries():
            raise ValueError(f"no public holiday calendar for country {value!r}")
        return value

    def sku(self, sku: str) -> SkuOverride:
        return self.sku_overrides.get(sku) or _NO_OVERRIDE

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()[:16]


_NO_OVERRIDE = SkuOverride()


def parse_settings(raw: Any, store_id: str = "") -> AnalyticsSettings:
    """Validate a ``stores.settings`` value (dict, JSON text or None); raise :class:`SettingsError`
    naming every bad key."""
    if raw is None or raw == "":
        raw = {}
    if isinstance(raw, (str, bytes)):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise SettingsError(f"store {store_id}: settings are not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"store {store_id}: settings must be a JSON object")
    try:
        return AnalyticsSettings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(settings)'}: {err['msg']}"
                             for err in exc.errors())
        where = f"store {store_id}: " if store_id else ""
        raise SettingsError(f"{where}invalid analytics settings: {problems}") from None
