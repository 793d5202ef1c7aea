"""Topic names, the timestamp format and the money table: one definition each, used by both sides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from analytics.broker.acl import device_read_topics, device_write_topics
from analytics.ingest.parse import Parsed, parse, subscriptions
from contracts import topics
from contracts.money import MoneyError, decimal_to_minor, exponent, format_money, parse_money
from contracts.timestamps import format_utc, parse_utc
from contracts.topics import DeviceTopics

PREFIX = topics.DEFAULT_PREFIX


def _matches(pattern: str, topic: str) -> bool:
    """MQTT topic-filter matching (``+`` one level, ``#`` the rest), the broker's rule."""
    want, got = pattern.split("/"), topic.split("/")
    for i, level in enumerate(want):
        if level == "#":
            return True
        if i >= len(got) or (level != "+" and level != got[i]):
            return False
    return len(want) == len(got)


def test_what_a_device_publishes_is_what_the_hub_subscribes_to_and_the_acl_lets_it_write() -> None:
    mine = DeviceTopics(PREFIX, "s-001", "till-1")
    published = [mine.tx, mine.alert, mine.credit, mine.telemetry, mine.status, mine.reported, mine.gallery,
                 mine.gallery_photo, mine.resend_answer]
    filters = [f.split("/", 2)[2] for f in subscriptions(PREFIX, "ingest")]  # drop $share/{group}/
    assert all(any(_matches(f, topic) for f in filters) for topic in published)
    assert sorted(published) == sorted(device_write_topics(PREFIX, "s-001", "till-1"))
    for topic in published:
        got = parse(topic, b"", PREFIX)
        assert not isinstance(got, Parsed) or (got.store_id, got.device_id) == ("s-001", "till-1")


def test_what_a_device_reads_is_what_the_acl_lets_it_read() -> None:
    mine = DeviceTopics(PREFIX, "s-001", "till-1")
    readable = device_read_topics(PREFIX, "s-001", "till-1", "north")
    for topic in (mine.desired, mine.resend, mine.insights, mine.group_desired("north"),
                  mine.artifact_chunk("ab" * 32, 3)):
        assert any(_matches(f, topic) for f in readable), topic
    assert mine.is_artifact_chunk(mine.artifact_chunk("ab" * 32, 3)) and not mine.is_artifact_chunk(mine.desired)
    assert mine.for_kind("credit") == f"{PREFIX}/s-001/till-1/credit"
    with pytest.raises(ValueError):
        mine.for_kind("status")


def test_one_timestamp_format_both_ways() -> None:
    moment = datetime(2026, 11, 21, 10, 3, 11, 750_000, tzinfo=timezone(timedelta(hours=-4)))
    assert format_utc(moment) == "2026-11-21T14:03:11Z"
    assert parse_utc("2026-11-21T14:03:11Z") == datetime(2026, 11, 21, 14, 3, 11, tzinfo=UTC)
    assert parse_utc("2026-11-21T14:03:11.5Z").microsecond == 500_000
    assert parse_utc(format_utc(moment)) == moment.replace(microsecond=0)
    with pytest.raises(ValueError):
        parse_utc("21/11/2026")


def test_one_money_table_for_showing_typing_and_importing_amounts() -> None:
    assert (exponent("DOP"), exponent("jpy"), exponent("KWD")) == (2, 0, 3)
    assert format_money(123456, "DOP") == "RD$1,234.56" and format_money(-500, "JPY") == "-JPY 500"
    assert format_money(1500, "DOP", symbol=False) == "15.00"
    assert parse_money("12.5", "DOP") == 1250 and parse_money("-3", "KWD") == -3000
    with pytest.raises(MoneyError):
        parse_money("1.234", "DOP")
    assert decimal_to_minor("2.555", "GBP") == (256, False) and decimal_to_minor("2,55", "EUR", ",") == (255, True)
