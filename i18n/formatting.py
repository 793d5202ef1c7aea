"""Money, numbers, dates and times written the way the reader's language and country write them (Babel).

The *formatting locale* is the language plus the store's country, read from its IANA time zone
(CLDR's zone → territory table): Spanish in ``America/Santo_Domingo`` is ``es_DO`` and writes
``RD$1,234.50``; French writes ``1 234,50``. A language the country has no CLDR locale for keeps
the language's own conventions (French in Santo Domingo: ``fr``).

Every function takes an explicit ``locale`` (a language such as ``"es"`` or a locale such as
``"es_DO"``); without one it uses the current one (:func:`i18n.use_language`, set per request by the
web apps). Times are shown in the store's zone: a naive ``datetime`` is taken as UTC.
"""

from __future__ import annotations

import copy
import functools
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.core import get_global

from contracts.money import SYMBOLS, exponent
from i18n.catalogues import normalize_language


@functools.cache
def formatting_locale(language: str | None, timezone: str | None = None) -> str:
    """The Babel locale id for ``language`` read in the country of ``timezone``: ``("es",
    "America/Santo_Domingo")`` -> ``"es_DO"``; ``("fr", "America/Santo_Domingo")`` -> ``"fr"``."""
    lang = normalize_language(language)
    territory = get_global("zone_territories").get(timezone or "")
    if territory:
        try:
            Locale.parse(f"{lang}_{territory}")
            return f"{lang}_{territory}"
        except (UnknownLocaleError, ValueError):
            pass
    return lang


def _locale(locale: str | None) -> str:
    if locale:
        return locale
    from i18n.translate import current_locale

    return current_locale()


def money_digits(currency: str) -> int:
    """Digits after the decimal point of ``currency`` (the project's money table, ``contracts.money``)."""
    return exponent(currency)


def format_money(minor: int, currency: str, locale: str | None = None, *, symbol: bool = True) -> str:
    """``123450, "DOP", "es_DO"`` -> ``"RD$1,234.50"``; ``"fr"`` -> ``"1 234,50 RD$"``.

    ``minor`` is integer minor units. Where the locale knows the currency only by its code, the
    currency's usual sign from the money table is shown instead (``RD$``, not ``DOP``).
    ``symbol=False`` writes the number alone, with the currency's digits (``"1.234,50"``)."""
    loc = _locale(locale)
    digits = exponent(currency)
    amount = Decimal(int(minor)).scaleb(-digits)
    if not symbol:
        return format_decimal(amount, loc, digits=digits)
    code = currency.upper()
    pattern = copy.copy(Locale.parse(loc).currency_formats["standard"])
    pattern.frac_prec = (digits, digits)  # the money table's digits, not the pattern's
    text = pattern.apply(amount, loc, currency=code, currency_digits=False)
    if code in text and code in SYMBOLS:  # the locale knows only the code: the currency's usual sign
        text = text.replace(code, SYMBOLS[code])
    return text


def format_decimal(value: int | float | Decimal, locale: str | None = None, *, digits: int | None = None) -> str:
    """A number with the locale's separators: ``1234.5`` -> ``"1,234.5"`` (en) / ``"1 234,5"`` (fr);
    ``digits`` fixes the decimals shown."""
    loc = _locale(locale)
    if digits is None:
        return babel_numbers.format_decimal(value, locale=loc)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(value, format=pattern, locale=loc, decimal_quantization=True)


def format_number(value: int, locale: str | None = None) -> str:
    """A whole number with the locale's grouping: ``12345`` -> ``"12,345"`` / ``"12 345"``."""
    return babel_numbers.format_decimal(int(value), locale=_locale(locale))


def format_percent(fraction: float | Decimal, locale: str | None = None, *, digits: int = 0) -> str:
    """``0.255`` -> ``"26 %"`` (fr) / ``"26%"`` (en); ``digits`` decimals."""
    loc = _locale(locale)
    pattern = copy.copy(Locale.parse(loc).percent_formats[None])
    pattern.frac_prec = (digits, digits)
    return pattern.apply(Decimal(str(fraction)), loc)


def parse_number(text: str, locale: str | None = None) -> Decimal:
    """A number written the locale's way: ``"1.234,50"`` (es) -> ``Decimal("1234.50")``.
    Raises ``ValueError`` for anything else."""
    try:
        return babel_numbers.parse_decimal(text.strip(), locale=_locale(locale), strict=False)
    except babel_numbers.NumberFormatError as exc:
        raise ValueError(str(exc)) from None


def _zone(timezone: str | tzinfo | None) -> tzinfo:
    if timezone is None:
        return UTC
    return ZoneInfo(timezone) if isinstance(timezone, str) else timezone


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def format_datetime(value: datetime | str, timezone: str | tzinfo | None, locale: str | None = None,
                    format: str = "medium") -> str:
    """An instant as a reader in the store's zone writes it: ``"7 dic 2026, 11:00"`` (es_DO, medium,
    seconds left out). ``value`` is an aware datetime or an ISO-8601 string (naive means UTC);
    ``format`` is ``short``/``medium``/``long``/``full`` or a CLDR pattern."""
    loc = _locale(locale)
    when = _aware(value).astimezone(_zone(timezone))
    if format == "short" or format == "medium":
        # the day as the locale writes it and the time to the minute (seconds are noise on a till)
        size: Literal["short", "medium"] = "short" if format == "short" else "medium"
        day = babel_dates.format_date(when, format=size, locale=loc)
        clock = babel_dates.format_time(when, format="short", locale=loc)
        return str(babel_dates.get_datetime_format(size, locale=loc)).replace("{1}", day).replace("{0}", clock)
    return babel_dates.format_datetime(when, format=format, tzinfo=_zone(timezone), locale=loc)


def format_date(value: date | datetime | str, timezone: str | tzinfo | None = None, locale: str | None = None,
                format: str = "medium") -> str:
    """A day: ``"7 dic 2026"``; a datetime (or ISO string) is first moved into ``timezone``."""
    if isinstance(value, str) and len(value) == 10:
        value = date.fromisoformat(value)
    if isinstance(value, datetime | str):
        value = _aware(value).astimezone(_zone(timezone)).date()
    return babel_dates.format_date(value, format=format, locale=_locale(locale))


def format_time(value: datetime | time | str, timezone: str | tzinfo | None = None, locale: str | None = None,
                format: str = "short") -> str:
    """A time of day in the store's zone: ``"11:00 a. m."`` (es_DO) / ``"11:00"`` (fr)."""
    if isinstance(value, datetime | str):
        value = _aware(value).astimezone(_zone(timezone)).timetz().replace(tzinfo=None)
    return babel_dates.format_time(value, format=format, locale=_locale(locale))


def format_weekday(weekday: int, locale: str | None = None, *, width: Literal["wide", "abbreviated"] = "wide") -> str:
    """The name of a weekday (0 = Monday, as ``date.weekday()``) in the locale: "Sunday", "domingo", "dimanche"."""
    return str(babel_dates.get_day_names(width, locale=_locale(locale))[weekday])
