"""Date phrases in a question ("yesterday", "last Friday", "between January and March", "since 3
March", "2026-11-13") resolved in the store's time zone into a UTC range for queries.

A :class:`Period` is a run of whole store-local days ``[start, end)``; its UTC bounds are the local
midnights converted to UTC, so a sale at 23:30 on a Friday in Santo Domingo (03:30Z on Saturday)
belongs to Friday.  The clock is injected (``now``, timezone-aware); nothing here reads the system
time.  Weeks start on Monday.  A month or day named without a year is the most recent one that
has begun ("March" in February 2026 is March 2025); in "between X and Y" the second end is the
first one on or after the first.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from analytics.assistant.language import english_period
from i18n import current_language, current_locale, format_date


class DateError(ValueError):
    """A date phrase that could not be understood; the message says what is accepted."""


ACCEPTED = ("today, yesterday, last Friday, this week, last week, this month, last month, this year, "
            "last 7 days, in March, March 2026, between January and March, since 3 March, 2026-11-13, "
            "from 2026-11-01 to 2026-11-15")

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
_MONTH_ABBR = {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
_DAY_ABBR = {d[:3]: i for i, d in enumerate(WEEKDAYS)} | {"tues": 1, "thur": 3, "thurs": 3}


@dataclass(frozen=True)
class Period:
    """Store-local days ``start`` (inclusive) to ``end`` (exclusive) and their UTC bounds."""

    start: date
    end: date
    timezone: str
    phrase: str  # what the question said ("last friday"), or "" for a default period

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise DateError(f"the period {self.phrase or self.label!r} ends before it starts")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def _utc(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=_zone(self.timezone)).astimezone(UTC)

    @property
    def start_utc(self) -> str:
        return self._utc(self.start).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def end_utc(self) -> str:
        return self._utc(self.end).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def label(self) -> str:
        """``Friday 13 Nov 2026``, ``16–22 Nov 2026``, ``1 Jan – 31 Mar 2026``; in Spanish or French (the
        current language) ``viernes 13 nov 2026``, ``novembre 2026``, ``16 nov 2026 – 22 nov 2026``."""
        a, b = self.start, self.last_day
        if current_language() != "en":
            return self._local_label(a, b, current_locale())
        if a == b:
            return f"{WEEKDAYS[a.weekday()].title()} {a.day} {a:%b %Y}"
        if a.day == 1 and b.day == calendar.monthrange(b.year, b.month)[1]:
            if (a.year, a.month) == (b.year, b.month):
                return f"{a:%B %Y}"
            if a.year == b.year:
                return f"{a:%B}–{b:%B %Y}"
        if (a.year, a.month) == (b.year, b.month):
            return f"{a.day}–{b.day} {b:%b %Y}"
        if a.year == b.year:
            return f"{a.day} {a:%b} – {b.day} {b:%b %Y}"
        return f"{a.day} {a:%b %Y} – {b.day} {b:%b %Y}"

    @staticmethod
    def _local_label(a: date, b: date, locale: str) -> str:
        if a == b:
            return format_date(a, None, locale, "EEEE d MMM y")
        if a.day == 1 and b.day == calendar.monthrange(b.year, b.month)[1] and (a.year, a.month) == (b.year, b.month):
            return format_date(a, None, locale, "LLLL y")
        return f"{format_date(a, None, locale, 'd MMM y')} – {format_date(b, None, locale, 'd MMM y')}"

    def as_dict(self) -> dict[str, str]:
        return {"label": self.label, "from": self.start.isoformat(), "to": self.last_day.isoformat(),
                "timezone": self.timezone, "start_utc": self.start_utc, "end_utc": self.end_utc}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DateError(f"unknown time zone {name!r}") from None


def local_today(now: datetime, tz: str) -> date:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(_zone(tz)).date()


def _month_end(year: int, month: int) -> date:
    return date(year, month, 1) + timedelta(days=calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


# -- single expressions -------------------------------------------------------------------------

_MONTH_RE = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
             r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DAY_RE = (r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?"
           r"|sun(?:day)?)")
_ORD = r"(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<y>\d{4}))?"
_ISO = r"\d{4}-\d{2}-\d{2}"
# one expression of a day or a span, in the order they are tried (longest forms first)
_EXPR = (rf"{_ISO}|(?:the\s+)?\d{{1,2}}{_ORD}\s+(?:of\s+)?{_MONTH_RE}(?:,?\s+\d{{4}})?"
         rf"|{_MONTH_RE}\s+\d{{1,2}}{_ORD}(?:,?\s+\d{{4}})?|{_MONTH_RE}(?:\s+\d{{4}})?"
         rf"|(?:last|this|past|previous)\s+(?:{_DAY_RE}|week|month|year)|(?:last|past|previous)\s+\d{{1,3}}\s+"
         rf"(?:days?|weeks?|months?)|the\s+day\s+before\s+yesterday|today|yesterday|tonight|this\s+morning"
         rf"|(?:on\s+)?{_DAY_RE}|\d{{4}}")


def _month_no(word: str) -> int:
    w = word.lower()
    return _MONTH_ABBR.get(w[:4] if w.startswith("sept") else w[:3]) or 0


def _pick_year(month: int, day: int, today: date, after: date | None, before: date | None = None) -> int:
    """The year of a month/day named without one: the most recent that has begun, or (``after``)
    the first on or after that date."""
    if after is not None:
        # a month (day 1) counts from the month ``after`` falls in; a day from that day
        floor = after.replace(day=1) if day == 1 else after
        year = after.year
        while date(year, month, min(day, calendar.monthrange(year, month)[1])) < floor:
            year += 1
        return year
    if before is not None:
        year = before.year
        while date(year, month, min(day, calendar.monthrange(year, month)[1])) > before:
            year -= 1
        return year
    year = today.year
    if date(year, month, min(day, calendar.monthrange(year, month)[1])) > today:
        year -= 1
    return year


def _span(expr: str, today: date, after: date | None = None, before: date | None = None) -> tuple[date, date]:
    """``[start, end)`` of one expression (see ``_EXPR``)."""
    e = re.sub(r"\s+", " ", expr.strip().lower())
    if re.fullmatch(_ISO, e):
        try:
            d = date.fromisoformat(e)
        except ValueError:
            raise DateError(f"{expr!r} is not a date") from None
        return d, d + timedelta(days=1)
    if e == "today" or e in ("tonight", "this morning"):
        return today, today + timedelta(days=1)
    if e == "yesterday":
        return today - timedelta(days=1), today
    if e == "the day before yesterday":
        return today - timedelta(days=2), today - timedelta(days=1)
    m = re.fullmatch(rf"(?:the )?(\d{{1,2}}){_ORD} (?:of )?({_MONTH_RE})(?:,? (\d{{4}}))?", e) or None
    if m:
        day, month, year = int(m.group(1)), _month_no(m.group(2)), m.group(3)
        return _day(day, month, year, today, after, before, expr)
    m = re.fullmatch(rf"({_MONTH_RE}) (\d{{1,2}}){_ORD}(?:,? (\d{{4}}))?", e)
    if m:
        day, month, year = int(m.group(2)), _month_no(m.group(1)), m.group(3)
        return _day(day, month, year, today, after, before, expr)
    m = re.fullmatch(rf"({_MONTH_RE})(?: (\d{{4}}))?", e)
    if m:
        month = _month_no(m.group(1))
        year = int(m.group(2)) if m.group(2) else _pick_year(month, 1, today, after, before)
        return date(year, month, 1), _month_end(year, month)
    if re.fullmatch(r"\d{4}", e):
        year = int(e)
        if not 1990 <= year <= 2200:
            raise DateError(f"{expr!r} is not a year the hub can have sales for")
        return date(year, 1, 1), date(year + 1, 1, 1)
    m = re.fullmatch(rf"(last|this|past|previous|on)? ?({_DAY_RE})", e)
    if m:
        wd = _DAY_ABBR[m.group(2)[:5] if m.group(2)[:5] in _DAY_ABBR else m.group(2)[:3]]
        back = (today.weekday() - wd) % 7
        if m.group(1) in ("last", "past", "previous") and back == 0:
            back = 7  # "last Friday" on a Friday is a week ago
        d = today - timedelta(days=back)
        return d, d + timedelta(days=1)
    m = re.fullmatch(r"(last|this|past|previous) (week|month|year)", e)
    if m:
        which, unit = m.groups()
        if unit == "week":
            monday = today - timedelta(days=today.weekday())
            return (monday, monday + timedelta(days=7)) if which == "this" else \
                (monday - timedelta(days=7), monday)
        if unit == "month":
            first = today.replace(day=1)
            if which == "this":
                return first, _month_end(first.year, first.month)
            prev = _add_months(first, -1)
            return prev, first
        first = date(today.year, 1, 1)
        return (first, date(today.year + 1, 1, 1)) if which == "this" else (date(today.year - 1, 1, 1), first)
    m = re.fullmatch(r"(?:last|past|previous) (\d{1,3}) (day|week|month)s?", e)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        if n < 1:
            raise DateError(f"{expr!r}: the number must be at least 1")
        end = today + timedelta(days=1)  # today included, as the hub's "last 7 days"
        if unit == "day":
            return end - timedelta(days=n), end
        if unit == "week":
            return end - timedelta(days=7 * n), end
        return _add_months(end, -n), end
    raise DateError(f"could not understand the date {expr!r}; try e.g. {ACCEPTED}")


def _day(day: int, month: int, year: str | None, today: date, after: date | None, before: date | None,
         expr: str) -> tuple[date, date]:
    y = int(year) if year else _pick_year(month, day, today, after, before)
    try:
        d = date(y, month, day)
    except ValueError:
        raise DateError(f"{expr!r} is not a date") from None
    return d, d + timedelta(days=1)


# -- phrases --------------------------------------------------------------------------------------

_BETWEEN = re.compile(rf"\b(?:between|from)\s+(?P<a>{_EXPR})\s+(?:and|to|until|till|through|-)\s+(?P<b>{_EXPR})\b")
_SINCE = re.compile(rf"\b(?:since|from|after)\s+(?P<a>{_EXPR})\b")
_IN = re.compile(rf"(?<![\w-])(?P<a>{_EXPR})(?![\w-])")


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[?!¿¡;]", " ", text.lower().replace("’", "'"))).strip()


def _period(start: date, end: date, tz: str, phrase: str) -> Period:
    return Period(start, end, tz, phrase)


def find_period(text: str, tz: str, now: datetime) -> tuple[Period, str] | None:
    """The first date phrase in ``text`` as a :class:`Period`, with the phrase as found (so a
    caller can cut it out of the question); None when the text names no date."""
    today = local_today(now, tz)
    t = _normal(text)
    m = _BETWEEN.search(t)
    if m:
        if re.search(r"\d{4}", m.group("a")) and not re.search(r"\d{4}", m.group("b")):
            a = _span(m.group("a"), today)
            b = _span(m.group("b"), today, after=a[0])
        else:  # the end is the most recent one; the start the last one on or before it
            b = _span(m.group("b"), today)
            a = _span(m.group("a"), today, before=b[1] - timedelta(days=1))
        return _period(a[0], b[1], tz, m.group(0)), m.group(0)
    m = _SINCE.search(t)
    if m:
        a = _span(m.group("a"), today)
        return _period(a[0], max(today + timedelta(days=1), a[1]), tz, m.group(0)), m.group(0)
    for m in _IN.finditer(t):
        expr = m.group("a")
        # a bare weekday or month-like word inside other words is not a date ("may I", "sat")
        if expr in ("may", "sat", "sun", "mar", "wed", "jan") and not re.search(
                rf"\b(?:in|on|of|during|for|last|this)\s+{expr}\b", t):
            continue
        if re.fullmatch(r"\d{4}", expr) and not re.search(rf"\b(?:in|of|during|for|year)\s+{expr}\b", t):
            continue  # "top 2026" is no year, "in 2026" is
        start, end = _span(expr, today)
        prefix = re.search(rf"\b(?:in|on|during|for|of)\s+{re.escape(expr)}", t)
        return _period(start, end, tz, prefix.group(0) if prefix else expr), (prefix.group(0) if prefix else expr)
    return None


def resolve_period(phrase: str, tz: str, now: datetime) -> Period:
    """A phrase that names one period (a tool argument like ``"last Friday"``); DateError if it
    names none or has words besides the date.  Spanish and French phrases ("la semana pasada", "le
    mois dernier") are read as their English forms."""
    phrase = english_period(phrase)
    found = find_period(phrase, tz, now)
    if found is None:
        raise DateError(f"could not understand the period {phrase!r}; try e.g. {ACCEPTED}")
    rest = _normal(phrase).replace(found[1], " ")
    rest = re.sub(r"\b(?:in|on|during|for|the|of|sales|period)\b", " ", rest).strip(" ,.-")
    if rest:
        raise DateError(f"could not understand {rest!r} in the period {phrase!r}; try e.g. {ACCEPTED}")
    return found[0]


def resolve_dates(start: str, end: str | None, tz: str, now: datetime) -> Period:
    """ISO dates (store-local, ``end`` inclusive; None = up to today)."""
    try:
        a = date.fromisoformat(start)
        b = date.fromisoformat(end) if end else local_today(now, tz)
    except ValueError:
        raise DateError(f"dates must be YYYY-MM-DD, got {start!r} / {end!r}") from None
    if b < a:
        raise DateError(f"the end date {b} is before the start date {a}")
    return Period(a, b + timedelta(days=1), tz, f"{a} to {b}")


def default_period(kind: str, tz: str, now: datetime) -> Period:
    """The period a question without a date is about: ``today`` or ``last 30 days``."""
    today = local_today(now, tz)
    if kind == "today":
        return Period(today, today + timedelta(days=1), tz, "")
    return Period(today - timedelta(days=29), today + timedelta(days=1), tz, "")
