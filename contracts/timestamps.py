"""The one timestamp format of every payload: ISO-8601 UTC to the second with a ``Z`` (``2026-11-21T14:03:11Z``).

Writers format with :func:`format_utc`; readers parse with :func:`parse_utc`, which also accepts the
fractional seconds and ``+00:00`` offsets that the schemas allow and older documents carry.  Nothing
here reads the clock except :func:`utc_now_text`, for the edge of a process where "now" is meant.
"""

from __future__ import annotations

from datetime import UTC, datetime

UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: the pattern the schemas use for a payload timestamp (fractional seconds allowed)
UTC_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"


def format_utc(moment: datetime) -> str:
    """An aware datetime as payload text (``...Z``, whole seconds); a naive one is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(UTC_FORMAT)


def parse_utc(text: str) -> datetime:
    """Payload text -> an aware UTC datetime; ``ValueError`` for anything that is not a timestamp."""
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_now_text() -> str:
    """The wall clock as payload text: for the edge of a process, never deep inside a report."""
    return format_utc(datetime.now(UTC))
