"""Money for the analytics side: integer minor units in, text out; decimals from files in."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 minor-unit exponents that differ from 2 (the default); the same table as the device's.
_EXPONENTS: dict[str, int] = {"JPY": 0, "KRW": 0, "CLP": 0, "XOF": 0, "XAF": 0, "UGX": 0, "RWF": 0,
                              "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}
_SYMBOLS: dict[str, str] = {"DOP": "RD$", "USD": "$", "EUR": "€", "GBP": "£", "MXN": "MX$"}


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def decimal_to_minor(text: str, currency: str, decimal_sep: str = ".") -> tuple[int, bool]:
    """``"2.55"`` -> ``(255, True)``.  The bool is False when the amount had more decimals than the
    currency and was rounded (half up).  Raises ``ValueError`` for anything that is not a number."""
    raw = text.strip().replace(" ", "")
    if decimal_sep != ".":
        raw = raw.replace(".", "").replace(decimal_sep, ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a number: {text!r}")
    scaled = value.scaleb(exponent(currency))
    minor = scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(minor), minor == scaled


def format_money(minor: int, currency: str) -> str:
    """``123456, "GBP"`` -> ``"£1,234.56"``."""
    exp = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(int(minor)), 10 ** exp)
    text = f"{whole:,}" + (f".{frac:0{exp}d}" if exp else "")
    return f"{sign}{_SYMBOLS.get(currency.upper(), currency.upper() + ' ')}{text}"
