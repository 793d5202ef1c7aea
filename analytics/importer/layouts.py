"""Column layouts of sales-line CSV files: which column holds what.  ``online_retail`` (the UCI
Online Retail layout) is built in; any other export is described by a mapping file (JSON or YAML)
with the same keys, validated here (unknown keys rejected, each error naming its key)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class LayoutError(ValueError):
    """A column mapping that cannot work; the message names the key."""


class ColumnMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invoice: str = Field(min_length=1)  # groups lines into one sale
    sku: str = Field(min_length=1)
    description: str | None = None  # product name; the SKU stands in when blank
    quantity: str = Field(min_length=1)
    timestamp: str = Field(min_length=1)  # store-local date and time
    unit_price: str = Field(min_length=1)  # decimal, major units
    # optional: what one unit cost the shop (decimal, major units, excluding tax it reclaims); a blank
    # or unreadable cell leaves that line's cost unknown (counted), never the sale out
    unit_cost: str | None = None
    customer: str | None = None  # blank = an anonymous sale
    country: str | None = None  # kept in the sale's ``origin``
    # strptime format of ``timestamp``; None = ISO 8601 (``2010-12-01 08:26:00``)
    timestamp_format: str | None = None
    # an invoice whose number starts with this is a cancellation (stored as a refund)
    cancel_prefix: str | None = "C"
    decimal_separator: str = Field(".", pattern=r"^[.,]$")
    delimiter: str = Field(",", min_length=1, max_length=1)
    encoding: str = "utf-8"
    # zero-priced lines are stock adjustments in some exports (Online Retail): skip and count them
    skip_zero_price: bool = False
    # negative quantities on an invoice that is not a cancellation: stock adjustments, skipped
    # and counted (False: such an invoice is taken as a refund)
    negative_qty_is_adjustment: bool = True
    # suggested store settings when ``hub import`` creates the store (flags and existing stores win)
    store_timezone: str | None = None
    store_currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    store_settings: dict[str, Any] = Field(default_factory=dict)

    def columns(self) -> list[str]:
        return [c for c in (self.invoice, self.sku, self.description, self.quantity, self.timestamp,
                            self.unit_price, self.unit_cost, self.customer, self.country) if c]

    def required(self) -> list[str]:
        return [self.invoice, self.sku, self.quantity, self.timestamp, self.unit_price]


PRESETS: dict[str, ColumnMapping] = {
    "online_retail": ColumnMapping(
        invoice="InvoiceNo", sku="StockCode", description="Description", quantity="Quantity",
        timestamp="InvoiceDate", unit_price="UnitPrice", customer="CustomerID", country="Country",
        cancel_prefix="C", skip_zero_price=True, negative_qty_is_adjustment=True,
        store_timezone="Europe/London", store_currency="GBP",
        # the retailer closes on English bank holidays (and over Christmas, which its sales show)
        store_settings={"holiday_country": "GB", "holiday_subdivision": "ENG"}),
}


def load_mapping(path: str | Path) -> ColumnMapping:
    """Read a mapping file (``.json``, ``.yaml`` or ``.yml``)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise LayoutError(f"cannot read the column mapping {p}: {exc}") from None
    try:
        if p.suffix.lower() in (".yaml", ".yml"):
            import yaml

            raw = yaml.safe_load(text)
        else:
            raw = json.loads(text)
    except ValueError as exc:
        raise LayoutError(f"column mapping {p} is not valid {p.suffix.lstrip('.') or 'JSON'}: {exc}") from None
    return mapping_from_dict(raw, str(p))


def mapping_from_dict(raw: Any, where: str = "column mapping") -> ColumnMapping:
    if not isinstance(raw, dict):
        raise LayoutError(f"{where}: must be an object of key: column")
    try:
        return ColumnMapping.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(mapping)'}: {e['msg']}" for e in exc.errors())
        raise LayoutError(f"{where}: {problems}") from None


def resolve_layout(layout: str | None, mapping_file: str | Path | None) -> tuple[str, ColumnMapping]:
    """A mapping file wins over a preset name; the default is ``online_retail``."""
    if mapping_file:
        return f"mapping:{Path(mapping_file).name}", load_mapping(mapping_file)
    name = layout or "online_retail"
    if name not in PRESETS:
        raise LayoutError(f"unknown layout {name!r}; built in: {', '.join(sorted(PRESETS))} (or give --mapping FILE)")
    return name, PRESETS[name]
