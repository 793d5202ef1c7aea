"""Money, numbers and times as the reader's language and the store's country write them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from i18n import (
    format_date,
    format_datetime,
    format_money,
    format_number,
    format_weekday,
    formatting_locale,
    parse_number,
    use_language,
)

NNBSP, NBSP = "\u202f", "\xa0"


def test_the_store_country_comes_from_its_zone() -> None:
    assert formatting_locale("es", "America/Santo_Domingo") == "es_DO"
    assert formatting_locale("fr", "Africa/Abidjan") == "fr_CI"
    assert formatting_locale("fr", "America/Santo_Domingo") == "fr"  # no fr_DO: French conventions


@pytest.mark.parametrize(("minor", "currency", "locale", "expected"), [
    (123450, "DOP", "es_DO", "RD$1,234.50"),
    (123450, "DOP", "fr", f"1{NNBSP}234,50{NBSP}RD$"),
    (123450, "DOP", "es", f"1.234,50{NBSP}RD$"),
    (-123450, "DOP", "es_DO", "-RD$1,234.50"),
    (1500, "XOF", "fr_SN", f"1{NNBSP}500{NBSP}F{NNBSP}CFA"),  # no minor unit
    (5, "EUR", "fr", f"0,05{NBSP}€"),
])
def test_money_is_written_the_local_way(minor: int, currency: str, locale: str, expected: str) -> None:
    assert format_money(minor, currency, locale) == expected


def test_without_a_locale_the_current_one_is_used() -> None:
    with use_language("es", "America/Santo_Domingo"):
        assert format_money(99, "DOP") == "RD$0.99"
        assert format_number(1234567) == "1,234,567"
    with use_language("fr"):
        assert format_money(123450, "DOP", symbol=False) == f"1{NNBSP}234,50"


def test_times_are_shown_in_the_store_zone() -> None:
    instant = datetime(2026, 12, 7, 3, 30, tzinfo=UTC)  # 23:30 the evening before in Santo Domingo
    assert format_datetime(instant, "America/Santo_Domingo", "fr") == "6 déc. 2026, 23:30"
    evening = f"6 dic 2026, 11:30{NNBSP}p.{NNBSP}m."
    assert format_datetime("2026-12-07T03:30:00Z", "America/Santo_Domingo", "es_DO") == evening
    assert format_date(instant, "America/Santo_Domingo", "es", format="long") == "6 de diciembre de 2026"


def test_numbers_written_the_local_way_are_read_back() -> None:
    assert parse_number("1.234,50", "es") == Decimal("1234.50")
    assert parse_number(f"1{NNBSP}234,5", "fr") == Decimal("1234.5")
    with pytest.raises(ValueError):
        parse_number("twelve", "en")


def test_weekday_names_follow_the_language() -> None:
    sunday = datetime(2026, 11, 22, tzinfo=UTC).weekday()
    assert format_weekday(sunday, "en") == "Sunday" and format_weekday(0, "en", width="abbreviated") == "Mon"
    with use_language("es", "America/Santo_Domingo"):
        assert format_weekday(sunday) == "domingo"
    with use_language("fr"):
        assert format_weekday(sunday) == "dimanche"
