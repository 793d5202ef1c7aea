"""Showing values on the hub's pages: money from integer minor units, times in the store's own time
(UTC only where no store is known), shares.  The APIs and exports keep ISO-8601 UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from i18n import current_language, format_datetime, format_money, format_percent, gettext

# ISO 4217 currencies without minor units (the rest use two decimals; the three-decimal ones are
# not sold in by Tillsight shops today)
ZERO_DECIMAL = frozenset({"JPY", "KRW", "CLP", "XOF", "XAF", "UGX", "RWF", "PYG", "VND", "ISK"})
SYMBOLS = {"DOP": "RD$", "USD": "$", "EUR": "€", "GBP": "£", "MXN": "MX$"}


def money(minor: int | None, currency: str | None) -> str:
    """Minor units as the page's language writes them (``RD$1,234.50``; French ``1 234,50 RD$``)."""
    if minor is None:
        return "—"
    if currency and current_language() != "en":
        return format_money(int(minor), currency.upper())
    cur = (currency or "").upper()
    exp = 0 if cur in ZERO_DECIMAL else 2
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(int(minor)), 10**exp)
    text = f"{whole:,}" + (f".{frac:0{exp}d}" if exp else "")
    prefix = SYMBOLS.get(cur, f"{cur} " if cur else "")
    return f"{sign}{prefix}{text}"


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def when(value: str | None, zone: str | None = None) -> str:
    """An ISO-8601 UTC time as a person reads it: in the store's zone ``zone`` when one is given
    (``2026-11-21T14:03:11Z``, ``America/Santo_Domingo`` -> ``2026-11-21 10:03 AST``), else in UTC
    (``2026-11-21 14:03 UTC``)."""
    if not value:
        return "—"
    text = str(value)
    if len(text) < 16 or text[10] != "T":
        return text
    tz = _zone(zone) if zone and zone != "UTC" else None
    if current_language() != "en":  # "20 nov 2026, 10:03 AST" in the page's language
        try:
            shown = format_datetime(text, tz or UTC, format="d MMM y, HH:mm")
        except ValueError:
            return text
        return f"{shown} {datetime.fromisoformat(text.replace('Z', '+00:00')).astimezone(tz or UTC).tzname()}"
    if tz is not None:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(tz)
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    return f"{text[:10]} {text[11:16]} UTC"


def ago(value: str | None, now: datetime) -> str:
    """How long ago an ISO-8601 UTC time was, in words a person reads at a glance."""
    if not value:
        return gettext("never")
    try:
        then = datetime.strptime(str(value)[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return str(value)
    seconds = int((now - then).total_seconds())
    if seconds < 0:
        return gettext("just now")
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return gettext("%(count)d %(unit)s ago", count=seconds // size, unit=unit)
    return gettext("%(count)d s ago", count=seconds)


def pct(share: float | None) -> str:
    if share is None:
        return "—"
    if current_language() != "en":
        return format_percent(share)
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
