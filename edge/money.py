"""Money helpers: amounts are integers in minor units everywhere; these only format and parse them."""

from __future__ import annotations

import re

# ISO 4217 minor-unit exponents that differ from 2 (the default).
_EXPONENTS: dict[str, int] = {"JPY": 0, "KRW": 0, "CLP": 0, "XOF": 0, "XAF": 0, "UGX": 0, "RWF": 0,
                              "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}
_SYMBOLS: dict[str, str] = {"DOP": "RD$", "USD": "$", "EUR": "€", "GBP": "£", "MXN": "MX$"}
_AMOUNT_RE = re.compile(r"^\s*(-)?(\d{1,12})(?:[.,](\d{0,3}))?\s*$")


class MoneyError(ValueError):
    """A typed amount that is not a valid amount of money."""


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def format_money(minor: int, currency: str, symbol: bool = True) -> str:
    """``123456, "DOP"`` -> ``"RD$1,234.56"``."""
    exp = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(int(minor)), 10 ** exp)
    text = f"{whole:,}" + (f".{frac:0{exp}d}" if exp else "")
    prefix = _SYMBOLS.get(currency.upper(), currency.upper() + " ") if symbol else ""
    return f"{sign}{prefix}{text}"


def parse_money(text: str, currency: str) -> int:
    """``"12.50"`` -> ``1250`` (minor units); rejects anything that is not a plain amount."""
    m = _AMOUNT_RE.match(str(text))
    exp = exponent(currency)
    if not m or (m.group(3) and len(m.group(3)) > exp):
        raise MoneyError(f"not an amount of {currency}: {text!r}")
    frac = (m.group(3) or "").ljust(exp, "0")
    value = int(m.group(2)) * 10 ** exp + (int(frac) if frac else 0)
    return -value if m.group(1) else value
