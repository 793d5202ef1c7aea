"""Showing values on the hub's pages: money from integer minor units, UTC times, shares."""

from __future__ import annotations

from datetime import UTC, datetime

# ISO 4217 currencies without minor units (the rest use two decimals; the three-decimal ones are
# not sold in by Tillsight shops today)
ZERO_DECIMAL = frozenset({"JPY", "KRW", "CLP", "XOF", "XAF", "UGX", "RWF", "PYG", "VND", "ISK"})
SYMBOLS = {"DOP": "RD$", "USD": "$", "EUR": "€", "GBP": "£", "MXN": "MX$"}


def money(minor: int | None, currency: str | None) -> str:
    if minor is None:
        return "—"
    cur = (currency or "").upper()
    exp = 0 if cur in ZERO_DECIMAL else 2
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(int(minor)), 10**exp)
    text = f"{whole:,}" + (f".{frac:0{exp}d}" if exp else "")
    prefix = SYMBOLS.get(cur, f"{cur} " if cur else "")
    return f"{sign}{prefix}{text}"


def when(value: str | None) -> str:
    """``2026-11-21T14:03:11Z`` -> ``2026-11-21 14:03 UTC``."""
    if not value:
        return "—"
    text = str(value)
    if len(text) >= 16 and text[10] == "T":
        return f"{text[:10]} {text[11:16]} UTC"
    return text


def ago(value: str | None, now: datetime) -> str:
    """How long ago an ISO-8601 UTC time was, in words a person reads at a glance."""
    if not value:
        return "never"
    try:
        then = datetime.strptime(str(value)[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return str(value)
    seconds = int((now - then).total_seconds())
    if seconds < 0:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def pct(share: float | None) -> str:
    if share is None:
        return "—"
    return f"{share * 100:.0f}%"


def size(n_bytes: int | None) -> str:
    if n_bytes is None:
        return "—"
    value = float(n_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit in ("B", "KB") else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
