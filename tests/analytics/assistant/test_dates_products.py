"""Date phrases resolve in the store's time zone (a Santo Domingo Friday runs 04:00Z to 04:00Z),
and product names match fuzzily against what the store sold."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from analytics.assistant.dates import DateError, find_period, resolve_period
from analytics.assistant.products import Catalogue
from tests.analytics.assistant.seed import INJECTED, NOW, A, B

SD = "America/Santo_Domingo"


@pytest.mark.parametrize("phrase, first, last, start_utc, end_utc", [
    ("last Friday", date(2026, 11, 20), date(2026, 11, 20), "2026-11-20T04:00:00Z", "2026-11-21T04:00:00Z"),
    ("yesterday", date(2026, 11, 20), date(2026, 11, 20), "2026-11-20T04:00:00Z", "2026-11-21T04:00:00Z"),
    ("today", date(2026, 11, 21), date(2026, 11, 21), "2026-11-21T04:00:00Z", "2026-11-22T04:00:00Z"),
    ("this week", date(2026, 11, 16), date(2026, 11, 22), "2026-11-16T04:00:00Z", "2026-11-23T04:00:00Z"),
    ("last month", date(2026, 10, 1), date(2026, 10, 31), "2026-10-01T04:00:00Z", "2026-11-01T04:00:00Z"),
    ("between January and March", date(2026, 1, 1), date(2026, 3, 31), "2026-01-01T04:00:00Z",
     "2026-04-01T04:00:00Z"),
    ("in March", date(2026, 3, 1), date(2026, 3, 31), "2026-03-01T04:00:00Z", "2026-04-01T04:00:00Z"),
    ("since 3 March", date(2026, 3, 3), date(2026, 11, 21), "2026-03-03T04:00:00Z", "2026-11-22T04:00:00Z"),
    ("2026-11-13", date(2026, 11, 13), date(2026, 11, 13), "2026-11-13T04:00:00Z", "2026-11-14T04:00:00Z"),
    ("last 7 days", date(2026, 11, 15), date(2026, 11, 21), "2026-11-15T04:00:00Z", "2026-11-22T04:00:00Z"),
    ("from 2026-11-01 to 2026-11-15", date(2026, 11, 1), date(2026, 11, 15), "2026-11-01T04:00:00Z",
     "2026-11-16T04:00:00Z"),
])
def test_phrases_resolve_to_store_local_days(phrase, first, last, start_utc, end_utc) -> None:
    p = resolve_period(phrase, SD, NOW)
    assert (p.start, p.last_day, p.start_utc, p.end_utc) == (first, last, start_utc, end_utc)


def test_the_store_day_not_the_utc_day() -> None:
    # 01:30Z on Saturday is still Friday evening in Santo Domingo, and already Saturday in Madrid
    late = datetime(2026, 11, 21, 1, 30, tzinfo=UTC)
    assert resolve_period("today", SD, late).start == date(2026, 11, 20)
    assert resolve_period("today", "Europe/Madrid", late).start == date(2026, 11, 21)
    madrid = resolve_period("last Friday", "Europe/Madrid", NOW)
    assert (madrid.start_utc, madrid.end_utc) == ("2026-11-19T23:00:00Z", "2026-11-20T23:00:00Z")


def test_year_of_a_month_named_alone() -> None:
    feb = datetime(2026, 2, 10, 12, tzinfo=UTC)
    # in February, "between January and March" is the last complete one: 2025
    p = resolve_period("between January and March", "UTC", feb)
    assert (p.start, p.last_day) == (date(2025, 1, 1), date(2025, 3, 31))
    p = resolve_period("between November and February", "UTC", feb)
    assert (p.start, p.last_day) == (date(2025, 11, 1), date(2026, 2, 28))


def test_phrases_inside_questions_and_bad_dates() -> None:
    found = find_period("How many Presidente sold last Friday?", SD, NOW)
    assert found is not None and found[1] == "last friday"
    assert find_period("Which products should I reorder?", SD, NOW) is None
    assert find_period("may I see the busiest hour", SD, NOW) is None
    with pytest.raises(DateError, match="not a date"):
        resolve_period("2026-02-30", SD, NOW)
    with pytest.raises(DateError, match="could not understand"):
        resolve_period("the weekend after the fair", SD, NOW)
    with pytest.raises(DateError, match="rice"):
        resolve_period("last friday rice", SD, NOW)


def test_fuzzy_product_names(seeded) -> None:
    cat = Catalogue.load(seeded, A)
    m = cat.match("presidente")
    assert m.status == "match" and m.product.name == "Presidente Beer 650ml"
    assert cat.match("PRESIDNTE beer").product.sku == "PRES-650"  # a typo
    assert cat.match("pres-650").status == "exact"
    m = cat.match("rice")
    assert m.status == "ambiguous" and set(m.did_you_mean()) >= {"Rice 5 lb", "Rice 10 lb"}
    assert cat.match("rice 10").product.sku == "RICE-10LB"
    assert cat.match("leche").product.sku == "LECHE-1L"
    assert cat.match("tapas").status == "none"  # store B's product is not store A's
    assert INJECTED in [p.name for p in cat.products]
    assert Catalogue.load(seeded, B).match("tapas").product.name == "Tapas Secret Mix"
