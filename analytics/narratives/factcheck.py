"""Every number in a generated text must come from the facts it was written from.

:func:`extract_numbers` finds the numbers a writer uses: money with or without a currency symbol or
code and thousands separators (``RD$1,234.56``, ``DOP 1,235``, ``1.2k``, ``3 million``), percentages
(``12%``, ``-3.5 percent``), plain counts, clock times (``14:00``, ``2 pm``), dates (``2026-10-30``,
``30 October``, ``Oct 30th``) and years.  :func:`check_text` compares each with the facts:

* a written number supports itself to the precision it is written with: ``RD$1,235`` matches a
  fact of RD$1,234.56 (whole units), ``1.2k`` matches 1,234.56 (tenths of a thousand), ``about
  1,200`` matches 1,234.56 (a number ending in zeros is read as rounded, keeping at least two
  significant digits, so ``100`` means 95-105, never 50-150);
* money is compared with money facts, percentages with percentage facts, plain numbers with any
  numeric fact (a count, a figure, an amount written without its symbol, a percentage written as
  "12 percent" is a percentage); signs are ignored (``down 12%`` for a change of -12.0 %);
* a time is fine when its hour is one of the facts' hours (or the end of such an hour slot); a date
  when it is one of the facts' days (a day of the month alone, ``the 30th``, when some fact day has
  it); a year when some fact day is in it;
* numbers that are part of the facts' own words (a product called "Rice 5 lb", "80% range") and the
  lengths of lists in the facts are fine; numbers glued to letters (SKU codes like ``A5``) are words.

Numbers are read the way the text's language writes them (``language``, from the facts): English
``1,234.50``; Spanish and French also ``1.234,50``, ``1 234,50`` (a space, a no-break or a narrow
no-break space between thousands) and ``12,5 %``; a number that reads two ways (``1.234`` in Spanish:
1234 in Madrid, 1.234 in Santo Domingo) is supported when either reading is.  Month names, ``de``/``of``
and ``1er`` are read in the three languages, and ``14 h``/``14h30`` as clock times.

Sentences with an unsupported number are dropped (``mode="drop"``) or kept with a mark
(``mode="flag"``); the result lists the unsupported numbers as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from analytics.narratives.facts import Facts
from contracts.money import SYMBOLS, exponent

MONTHS = {m: i for i, names in enumerate((
    ("january", "jan", "enero", "ene", "janvier", "janv"), ("february", "feb", "febrero", "février", "fevrier", "févr"),
    ("march", "mar", "marzo", "mars"), ("april", "apr", "abril", "abr", "avril", "avr"), ("may", "mayo", "mai"),
    ("june", "jun", "junio", "juin"), ("july", "jul", "julio", "juillet", "juil"), ("august", "aug", "agosto", "ago",
                                                                                   "août", "aout"),
    ("september", "sep", "sept", "septiembre", "setiembre", "septembre"), ("october", "oct", "octubre", "octobre"),
    ("november", "nov", "noviembre", "novembre"), ("december", "dec", "diciembre", "dic", "décembre", "decembre",
                                                   "déc")), 1) for m in names}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_DAY_MONTH = re.compile(rf"(?<![\w.])(\d{{1,2}})(?:st|nd|rd|th|er|º)?(?:\s+(?:of|de))?\s+({_MONTH_RE})\.?(?![a-zà-ÿ])"
                        rf"(?:,?\s+(?:(?:de|del)\s+)?(\d{{4}}))?", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"(?<![a-zà-ÿ])({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?![\d:])(?:,?\s+(\d{{4}}))?",
                        re.IGNORECASE)
_SLASH_DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?(?![\d/])")
_CLOCK = re.compile(r"(?<![\d.:,$])([01]?\d|2[0-3])\s?[:h]\s?([0-5]\d)(?:\s*(am|pm|a\.m\.|p\.m\.))?(?![\d])",
                    re.IGNORECASE)
_AMPM = re.compile(r"(?<![\d.:])(1[0-2]|0?[1-9])\s*(am|pm|a\.m\.|p\.m\.)(?![a-z])", re.IGNORECASE)
_HOUR_H = re.compile(r"(?<![\d.:,$])([01]?\d|2[0-3])\s?h(?![\w])", re.IGNORECASE)  # "14 h", "à 9h"
_ORDINAL = re.compile(r"(?<![\w.])(?:the\s+)?(\d{1,2})(st|nd|rd|th)\b", re.IGNORECASE)
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
# Spanish and French: "." or "," either way round, and thousands grouped by (no-break) spaces
_SPACE = " \u00a0\u202f"
_NUMBER_LOCAL = (rf"\d{{1,3}}(?:(?:[.,]|[{_SPACE}](?=\d{{3}}(?!\d)))\d{{3}})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?|[.,]\d+")
_MULT = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "mn": 1_000_000, "million": 1_000_000,
         "bn": 1_000_000_000, "billion": 1_000_000_000, "mil": 1_000, "mille": 1_000, "millón": 1_000_000,
         "millon": 1_000_000, "millones": 1_000_000, "millions": 1_000_000, "millards": 1_000_000_000,
         "milliards": 1_000_000_000, "milliard": 1_000_000_000}
_MULT_RE = "|".join(sorted((re.escape(k) for k in _MULT), key=len, reverse=True))
_PCT_WORDS = (r"[\s\u00a0\u202f]?%|\s?percent(?:age points?)?\b|\s?per\s?cent\b|\s?por\s?ciento\b|\s?pour\s?cent\b"
              r"|\s?pp\b|\s?points?\b|\s?puntos?\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = ("vs.", "e.g.", "i.e.", "approx.", "no.", "etc.", "mr.", "mrs.", "ms.", "dr.", "st.", "jan.", "feb.",
                  "mar.", "apr.", "jun.", "jul.", "aug.", "sep.", "sept.", "oct.", "nov.", "dec.", "a.m.", "p.m.")


@dataclass(frozen=True)
class Number:
    """One number as written: ``kind`` money | percent | plain | time | date | day | year."""

    raw: str
    kind: str
    value: Decimal  # money/plain/percent: the number with its multiplier; time: hour; day: day of month
    precision: Decimal  # the unit of the last digit written (with the multiplier)
    start: int
    end: int
    month: int | None = None
    year: int | None = None
    minute: int = 0
    either_order: bool = False  # 3/10: day/month or month/day
    readings: tuple[tuple[Decimal, Decimal], ...] = ()  # other (value, precision) readings: "1.234" in Spanish


@dataclass
class Dropped:
    sentence: str
    unsupported: list[str]


@dataclass
class CheckResult:
    text: str  # the text with the unsupported sentences dropped (or flagged)
    checked: int  # numbers looked at
    unsupported: list[str] = field(default_factory=list)  # as written, in order, without repeats
    dropped: list[Dropped] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unsupported


# -- extraction ----------------------------------------------------------------------------------

def _decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", "")) if not text.startswith(".") else Decimal("0" + text)


def _precision(digits: str, mult: int) -> Decimal:
    """The unit of the last written digit; trailing zeros of a whole number count as rounding while
    two significant digits remain (``1,200`` -> 100, ``100`` -> 10, ``20`` -> 1)."""
    plain = digits.replace(",", "")
    if "." in plain:
        return Decimal(1).scaleb(-len(plain.split(".")[1])) * mult
    stripped = plain.lstrip("0") or "0"
    zeros = len(stripped) - len(stripped.rstrip("0"))
    significant = len(stripped) - zeros
    zeros = max(0, min(zeros, len(stripped) - 2)) if significant < 2 else zeros
    return Decimal(10) ** zeros * mult


def _local_readings(digits: str, language: str) -> list[tuple[Decimal, Decimal]]:
    """``(value, precision)`` of a number written the Spanish or French way, the language's usual
    reading first: "1.234,50" and "1 234,50" -> 1234.50; "12,5" -> 12.5; "1.234.567" -> 1234567; a lone
    separator before three digits reads both as thousands and as a decimal point ("1,234" in French is
    1.234 first, in Spanish 1234 first)."""
    text = "".join(c for c in digits if c not in _SPACE)
    if text[0] in ".,":
        text = "0" + text
    seps = [c for c in text if c in ".,"]
    if not seps:
        return [(Decimal(text), _precision(text, 1))]

    def decimal_at(mark: str) -> tuple[Decimal, Decimal]:
        whole, frac = text.rsplit(mark, 1)
        whole = whole.replace(".", "").replace(",", "")
        return Decimal(f"{whole}.{frac}"), Decimal(1).scaleb(-len(frac))

    def grouped() -> tuple[Decimal, Decimal]:
        whole = text.replace(".", "").replace(",", "")
        return Decimal(whole), _precision(whole, 1)

    if len(set(seps)) == 2:
        return [decimal_at(seps[-1])]  # the last mark is the decimal one
    if len(seps) > 1:
        return [grouped()]
    frac_len = len(text.split(seps[0])[1])
    if frac_len != 3 or text.split(seps[0])[0] in ("0", ""):
        return [decimal_at(seps[0])]
    comma_decimal = seps[0] == "," and language == "fr"
    return [decimal_at(seps[0]), grouped()] if comma_decimal else [grouped(), decimal_at(seps[0])]


def _currency_pattern(currency: str | None) -> str:
    marks = {"$", "€", "£", "¥", "US$"}
    if currency:
        marks.add(currency.upper())
        if currency.upper() in SYMBOLS:
            marks.add(SYMBOLS[currency.upper()])
    return "|".join(re.escape(m) for m in sorted(marks, key=len, reverse=True))


def extract_numbers(text: str, currency: str | None = None, language: str = "en") -> list[Number]:
    """Every number in ``text``, in order of appearance, read as ``language`` (en, es, fr) writes them."""
    local = language in ("es", "fr")
    found: list[Number] = []
    taken = [False] * len(text)

    def free(a: int, b: int) -> bool:
        return not any(taken[a:b])

    def take(n: Number) -> None:
        if free(n.start, n.end):
            for i in range(n.start, n.end):
                taken[i] = True
            found.append(n)

    for m in _ISO_DATE.finditer(text):
        take(Number(m.group(0), "date", Decimal(int(m.group(3))), Decimal(1), m.start(), m.end(),
                    month=int(m.group(2)), year=int(m.group(1))))
    for rx, day_i, mon_i in ((_DAY_MONTH, 1, 2), (_MONTH_DAY, 2, 1)):
        for m in rx.finditer(text):
            day = int(m.group(day_i))
            word = m.group(mon_i)
            if word.lower() in ("may", "mar") and word[0].islower():
                continue  # "sales may 3..." / "12 may rise": the verb, not the month
            if 1 <= day <= 31:
                take(Number(m.group(0), "date", Decimal(day), Decimal(1), m.start(), m.end(),
                            month=MONTHS[m.group(mon_i).lower()], year=int(m.group(3)) if m.group(3) else None))
    for m in _SLASH_DATE.finditer(text):
        a, b = int(m.group(1)), int(m.group(2))
        if 1 <= a <= 31 and 1 <= b <= 31 and (a <= 12 or b <= 12):
            year = int(m.group(3)) if m.group(3) else None
            if year is not None and year < 100:
                year += 2000
            # day/month as the store's dashboards write it; month/day tried as well when valid
            take(Number(m.group(0), "date", Decimal(a), Decimal(1), m.start(), m.end(), month=b, year=year,
                        either_order=True))
    for m in _CLOCK.finditer(text):
        hour, suffix = int(m.group(1)), (m.group(3) or "").lower().replace(".", "")
        if suffix == "pm" and hour < 12:
            hour += 12
        elif suffix == "am" and hour == 12:
            hour = 0
        take(Number(m.group(0), "time", Decimal(hour), Decimal(1), m.start(), m.end(), minute=int(m.group(2))))
    for m in _AMPM.finditer(text):
        hour, suffix = int(m.group(1)), m.group(2).lower().replace(".", "")
        hour = (hour % 12) + (12 if suffix == "pm" else 0)
        take(Number(m.group(0), "time", Decimal(hour), Decimal(1), m.start(), m.end()))
    for m in _HOUR_H.finditer(text):
        take(Number(m.group(0), "time", Decimal(int(m.group(1))), Decimal(1), m.start(), m.end()))
    for m in _ORDINAL.finditer(text):
        take(Number(m.group(0), "day", Decimal(int(m.group(1))), Decimal(1), m.start(), m.end()))

    cur = _currency_pattern(currency)
    number = _NUMBER_LOCAL if local else _NUMBER
    rx = re.compile(
        rf"(?P<cur1>(?:{cur})\s?)?(?P<sign>[-+−–]\s?)?(?P<cur2>(?:{cur})\s?)?(?P<num>{number})"
        rf"(?P<mult>\s?(?:{_MULT_RE})(?![a-zà-ÿ]))?(?P<pct>{_PCT_WORDS})?"
        rf"(?P<cur3>[\s\u00a0\u202f]?(?:{cur})(?![a-z]))?",
        re.IGNORECASE)
    for m in rx.finditer(text):
        a, b = m.start(), m.end()
        num_start = m.start("num")
        # a number glued to letters (SKU codes, "A5", "RICE-5LB") is a word, not a figure
        before = text[num_start - 1] if num_start else ""
        if before.isalpha() or (before == "-" and num_start >= 2 and text[num_start - 2].isalpha()):
            continue
        if not free(num_start, m.end("num")):
            continue  # part of a date or time taken above
        if not free(a, b):
            a, b = num_start, m.end("num")
        mult_word = (m.group("mult") or "").strip().lower()
        mult = _MULT.get(mult_word, 1)
        if mult_word == "m" and not (m.group("cur1") or m.group("cur2") or m.group("cur3")):
            mult = 1  # "5 m" (metres) without a currency is not a million
            b = m.end("num")
        try:
            if local:
                read = _local_readings(m.group("num"), language)
                value, first_precision = read[0][0] * mult, read[0][1] * mult
                others = tuple((v * mult, p * mult) for v, p in read[1:])
            else:
                value, others = _decimal(m.group("num")) * mult, ()
        except InvalidOperation:
            continue
        kind = "percent" if m.group("pct") else (
            "money" if (m.group("cur1") or m.group("cur2") or m.group("cur3")) else "plain")
        if kind == "percent" and m.group("pct").strip().lower().startswith("point") and not m.group("mult"):
            kind = "plain"  # "3 points" of a score: compare as a plain figure
        precision = first_precision if local else _precision(m.group("num"), mult)
        take(Number(text[a:b].strip(), kind, value, precision, a, b, readings=others))
    found.sort(key=lambda n: n.start)
    return found


# -- what the facts support ----------------------------------------------------------------------

@dataclass
class Support:
    money: list[Decimal]
    percent: list[Decimal]
    numeric: list[Decimal]
    literals: set[Decimal]
    hours: set[int]
    days: set[date]
    times: set[tuple[int, int]] = field(default_factory=set)  # exact clock times in the facts' words

    @classmethod
    def of(cls, facts: Facts) -> Support:
        exp = exponent(facts.currency)
        money, percent, numeric, literals = [], [], [], set()
        hours: set[int] = set()
        days: set[date] = set()
        times: set[tuple[int, int]] = set()
        for f in facts.items:
            if f.kind == "money":
                major = abs(Decimal(int(f.value)).scaleb(-exp))
                money.append(major)
                numeric.append(major)
            elif f.kind == "percent":
                percent.append(abs(Decimal(str(f.value))))
                numeric.append(abs(Decimal(str(f.value))))
            elif f.kind in ("count", "number"):
                numeric.append(abs(Decimal(str(f.value))))
            elif f.kind == "hour":
                hours.add(int(f.value))
            elif f.kind == "date":
                try:
                    days.add(date.fromisoformat(str(f.value)))
                except ValueError:
                    pass
            words = [f.label] + ([str(f.value)] if f.kind == "text" else [])
            for w in words:
                for n in re.findall(r"\d+(?:\.\d+)?", w):
                    literals.add(Decimal(n))
                if f.kind == "text":  # figures inside the facts' own words: "total RD$5,000 at 03:00"
                    for n in extract_numbers(w, facts.currency):
                        if n.kind == "time":
                            times.add((int(n.value), n.minute))
                        elif n.kind in ("money", "plain", "percent"):
                            literals.add(abs(n.value))
                            (money if n.kind == "money" else numeric).append(abs(n.value))
        first, last = date.fromisoformat(facts.start), date.fromisoformat(facts.end)
        covered = first
        while covered <= last:
            days.add(covered)
            covered = date.fromordinal(covered.toordinal() + 1)
        for n in re.findall(r"\d+(?:\.\d+)?", facts.store_name):
            literals.add(Decimal(n))
        return cls(money, percent, numeric, literals, hours, days, times)

    def _figure(self, kind: str, v: Decimal, precision: Decimal) -> bool:
        if kind == "money":
            return self._near(v, precision, self.money)  # "SODA 500ML" does not make RD$500 a fact
        if kind == "percent":
            return self._near(v, precision, self.percent) or v in self.literals
        if self._near(v, precision, self.numeric) or v in self.literals:
            return True
        if v == v.to_integral_value() and 1900 <= v <= 2100:
            return any(d.year == int(v) for d in self.days)
        return False

    @staticmethod
    def _near(value: Decimal, precision: Decimal, candidates: list[Decimal]) -> bool:
        half = precision / 2 + Decimal("1e-9")
        return any(abs(c - value) <= half for c in candidates)

    def supports(self, n: Number) -> bool:
        if n.kind in ("money", "percent", "plain"):
            return any(self._figure(n.kind, abs(v), p) for v, p in ((n.value, n.precision), *n.readings))
        if n.kind == "time":
            h = int(n.value)
            if (h, n.minute) in self.times:
                return True
            return n.minute == 0 and (h in self.hours or (h - 1) % 24 in self.hours)
        if n.kind == "date":
            return any(d.day == int(n.value) and d.month == n.month and (n.year is None or d.year == n.year)
                       for d in self.days) or (
                n.either_order and n.month is not None and int(n.value) <= 12 and
                any(d.day == n.month and d.month == int(n.value) and (n.year is None or d.year == n.year)
                    for d in self.days))
        if n.kind == "day":
            return any(d.day == int(n.value) for d in self.days)
        return False


# -- checking ------------------------------------------------------------------------------------

def split_sentences(text: str) -> list[str]:
    parts = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        head = text[start:m.start()]
        words = head.split()
        if words and words[-1].lower().lstrip("(") in _ABBREVIATIONS:
            continue
        parts.append(head)
        start = m.end()
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def unsupported_numbers(text: str, facts: Facts, support: Support | None = None) -> tuple[int, list[str]]:
    support = support or Support.of(facts)
    nums = extract_numbers(text, facts.currency, facts.language)
    return len(nums), [n.raw for n in nums if not support.supports(n)]


def check_text(text: str, facts: Facts, mode: str = "drop", support: Support | None = None) -> CheckResult:
    """Keep the sentences of ``text`` whose numbers all come from ``facts``; drop (or, with
    ``mode="flag"``, mark) the others."""
    if mode not in ("drop", "flag"):
        raise ValueError("mode must be 'drop' or 'flag'")
    support = support or Support.of(facts)
    kept: list[str] = []
    result = CheckResult("", 0)
    for sentence in split_sentences(text):
        n, bad = unsupported_numbers(sentence, facts, support)
        result.checked += n
        if not bad:
            kept.append(sentence)
            continue
        result.dropped.append(Dropped(sentence, bad))
        for raw in bad:
            if raw not in result.unsupported:
                result.unsupported.append(raw)
        if mode == "flag":
            kept.append(f"{sentence} [unverified: {', '.join(bad)}]")
    result.text = " ".join(kept)
    return result


def check_sections(sections: dict[str, Any], facts: Facts, mode: str = "drop") -> tuple[dict[str, Any], CheckResult]:
    """Check every string (and every string of a list) of ``sections``; an item left empty by the
    check is removed.  Returns the checked sections and one combined result."""
    support = Support.of(facts)
    total = CheckResult("", 0)
    out: dict[str, Any] = {}

    def one(text: str) -> str:
        r = check_text(text, facts, mode, support)
        total.checked += r.checked
        total.dropped.extend(r.dropped)
        for raw in r.unsupported:
            if raw not in total.unsupported:
                total.unsupported.append(raw)
        return r.text

    for key, value in sections.items():
        if isinstance(value, str):
            out[key] = one(value)
        elif isinstance(value, list):
            out[key] = [x for x in (one(v) if isinstance(v, str) else v for v in value) if x]
        else:
            out[key] = value
    return out, total
