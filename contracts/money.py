"""Money as both sides show and read it: amounts are integers in minor units everywhere (database,
payloads, APIs); this is the one table of minor-unit exponents and symbols, and the helpers that
format and parse amounts with it.  The device and the hub used to carry a copy each."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

#: ISO 4217 minor-unit exponents that differ from 2 (the default).
EXPONENTS: dict[str, int] = {"JPY": 0, "KRW": 0, "CLP": 0, "XOF": 0, "XAF": 0, "UGX": 0, "RWF": 0,
                             "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}
#: The symbol shown before an amount; other currencies show their code and a space.
SYMBOLS: dict[str, str] = {"DOP": "RD$", "USD": "$", "EUR": "€", "GBP": "£", "MXN": "MX$"}
_AMOUNT_RE = re.compile(r"^\s*(-)?(\d{1,12})(?:[.,](\d{0,3}))?\s*$")


class MoneyError(ValueError):
    """A typed amount that is not a valid amount of money."""


def exponent(currency: str) -> int:
    """Digits after the decimal point of ``currency`` (2 unless the table says otherwise)."""
    return EXPONENTS.get(currency.upper(), 2)


def format_money(minor: int, currency: str, symbol: bool = True) -> str:
    """``123456, "DOP"`` -> ``"RD$1,234.56"`` (``symbol=False``: ``"1,234.56"``)."""
    exp = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(int(minor)), 10 ** exp)
    text = f"{whole:,}" + (f".{frac:0{exp}d}" if exp else "")
    prefix = SYMBOLS.get(currency.upper(), currency.upper() + " ") if symbol else ""
    return f"{sign}{prefix}{text}"


def parse_money(text: str, currency: str) -> int:
    """``"12.50"`` -> ``1250`` (minor units); rejects anything that is not a plain typed amount."""
    m = _AMOUNT_RE.match(str(text))
    exp = exponent(currency)
    if not m or (m.group(3) and len(m.group(3)) > exp):
        raise MoneyError(f"not an amount of {currency}: {text!r}")
    frac = (m.group(3) or "").ljust(exp, "0")
    value = int(m.group(2)) * 10 ** exp + (int(frac) if frac else 0)
    return -value if m.group(1) else value


def decimal_to_minor(text: str, currency: str, decimal_sep: str = ".") -> tuple[int, bool]:
    """An amount from a file: ``"2.55"`` -> ``(255, True)``.  The bool is False when the amount had more
    decimals than the currency and was rounded (half up).  Raises ``ValueError`` for anything that is
    not a number."""
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
