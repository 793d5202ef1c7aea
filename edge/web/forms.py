"""Strict reading of request values: whole numbers in range, money in minor units, safe text.

Every error names the field, and the web layer answers it with HTTP 400.
"""

from __future__ import annotations

import re
from typing import Any

from contracts.money import MoneyError, parse_money
from i18n import format_number
from i18n import gettext as _

_UNSAFE_TEXT = re.compile(r"[<>\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INT_RE = re.compile(r"^-?\d{1,15}$")


class BadInput(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def get_int(data: dict[str, Any], key: str, lo: int, hi: int, default: int | None = None) -> int:
    value = data.get(key, default)
    if value is None or value == "":
        if default is not None:
            return default
        raise BadInput(key, _("is required"))
    if isinstance(value, bool):
        raise BadInput(key, _("must be a whole number"))
    if isinstance(value, float):
        if not value.is_integer():
            raise BadInput(key, _("must be a whole number"))
        value = int(value)
    if isinstance(value, str):
        if not _INT_RE.match(value.strip()):
            raise BadInput(key, _("must be a whole number"))
        value = int(value.strip())
    if not isinstance(value, int):
        raise BadInput(key, _("must be a whole number"))
    if not lo <= value <= hi:
        raise BadInput(key, _("must be between %(low)s and %(high)s", low=format_number(lo), high=format_number(hi)))
    return value


def get_money(data: dict[str, Any], key: str, currency: str, lo: int = 0, hi: int = 10**11,
              default: int | None = None) -> int:
    """Minor units: a JSON integer is taken as minor units; a string like "12.50" as major units."""
    value = data.get(key, default)
    if isinstance(value, str) and value.strip() and not _INT_RE.match(value.strip()):
        try:
            value = parse_money(value, currency)
        except MoneyError as exc:
            raise BadInput(key, str(exc)) from None
    elif isinstance(value, str) and value.strip():
        try:
            value = parse_money(value, currency)  # "125" typed in a form means 125.00
        except MoneyError as exc:
            raise BadInput(key, str(exc)) from None
    return get_int({key: value}, key, lo, hi, default)


def get_text(data: dict[str, Any], key: str, max_len: int, required: bool = True, default: str = "") -> str:
    value = data.get(key, default)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise BadInput(key, _("must be text"))
    value = value.strip()
    if required and not value:
        raise BadInput(key, _("is required"))
    if len(value) > max_len:
        raise BadInput(key, _("must be at most %(count)s characters", count=max_len))
    if _UNSAFE_TEXT.search(value):
        raise BadInput(key, _("may not contain < > or control characters"))
    return value


def get_bool(data: dict[str, Any], key: str, default: bool = False) -> bool:
    value = data.get(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() in ("1", "true", "on", "yes")
    return bool(value)
