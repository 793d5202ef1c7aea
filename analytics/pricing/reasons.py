"""The plain-language reason of a price suggestion, written from its figures and then checked by the
narratives' fact check (``analytics.narratives.factcheck``): every number the reason states must be
one of the figures it was written from, so a reason never claims what the data does not say.  A
sentence that fails the check is kept but marked, and the suggestion records what failed.

A reason is kept as **phrases**, not as finished text (issue 28): each phrase is a message marked for
translation (``N_``) with its values — money, counts, numbers, shares, or other phrases — so it can be
worded in whoever reads it's language (:func:`render`, :func:`localized`) and checked again in that
language (the fact check reads Spanish and French numbers).  :meth:`ReasonWriter.finish` also words it
in English once, for the command line, the JSON and the stored report's ``reason``.

A phrase is plain JSON (stored with the report)::

    {"msgid": "Slow mover: %(units)s sold in the last %(days)s days.", "args": {"units": {"count": 3}, ...}}
    {"msgid": "...", "plural": "...", "n": 3, "args": {...}}       # ngettext; the count is also %(num)d

and an argument is one of ``{"money": minor}``, ``{"count": n}``, ``{"number": x, "digits": d}``,
``{"percent": share}``, ``{"phrase": phrase}``, ``{"phrases": [phrase, ...], "sep": "; "}`` or
``{"time": utc_iso}`` (an instant, shown in the store's time zone the reader's way) or ``{"text": str}`` (a
name from the data, shown as it is).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from analytics.narratives.factcheck import check_text
from analytics.narratives.facts import Fact, Facts
from analytics.web.formatting import when as shown_time
from contracts.money import format_money as english_money
from i18n import (
    current_language,
    format_decimal,
    format_money,
    format_number,
    format_percent,
    gettext,
    ngettext,
    use_language,
)

Phrase = dict[str, Any]
Arg = dict[str, Any]


def phrase(msgid: str, **args: Arg) -> Phrase:
    """A message (mark it with ``N_``) and its values."""
    return {"msgid": msgid, "args": args}


def plural_phrase(singular: str, plural_: str, n: int, **args: Arg) -> Phrase:
    """A message with a plural form, chosen by ``n`` (also its ``%(num)d``); extracted as a plural entry
    (``i18n/extraction.py`` knows the name), so write the two messages as literals, without ``N_``."""
    return {"msgid": singular, "plural": plural_, "n": int(n), "args": args}


def sub(p: Phrase) -> Arg:
    return {"phrase": p}


def text(value: str) -> Arg:
    return {"text": value}


def count(n: int | float) -> Arg:
    return {"count": int(round(n))}


def number(x: float, digits: int = 2) -> Arg:
    return {"number": round(float(x), digits), "digits": digits}


def percent(share: float) -> Arg:
    return {"percent": float(share)}


def when(utc_iso: str) -> Arg:
    return {"time": utc_iso}


def _arg(a: Arg, currency: str, timezone: str | None = None) -> str:
    if "time" in a:  # in the store's zone as the rest of the hub shows times (UTC when no zone is known)
        return shown_time(str(a["time"]), timezone)
    if "money" in a:
        return format_money(int(a["money"]), currency)
    if "count" in a:
        return format_number(int(a["count"]))
    if "number" in a:
        return format_decimal(float(a["number"]), digits=int(a.get("digits", 1)))
    if "percent" in a:
        return format_percent(round(float(a["percent"]), 2))
    if "phrase" in a:
        return render(a["phrase"], currency, timezone)
    if "phrases" in a:
        return str(a.get("sep", "; ")).join(render(p, currency, timezone) for p in a["phrases"])
    return str(a.get("text", ""))


def render(p: Phrase, currency: str, timezone: str | None = None) -> str:
    """One phrase in the current language (times in the store's ``timezone``)."""
    values = {k: _arg(v, currency, timezone) for k, v in (p.get("args") or {}).items()}
    if p.get("plural"):
        n = int(p["n"])
        return str(ngettext(p["msgid"], p["plural"], n, **values))
    return str(gettext(p["msgid"], **values)) if values else str(gettext(p["msgid"]))


def english(p: Phrase | None) -> str:
    """A phrase in English ("" for none): the text the command line and the JSON show."""
    if p is None:
        return ""
    with use_language("en"):
        return render(p, "XXX")  # ISO 4217's "no currency": the phrases written this way carry no amounts


@dataclass
class ReasonWriter:
    """Collects the figures a reason uses (as facts) while its phrases are written."""

    store_id: str
    store_name: str
    currency: str
    timezone: str
    as_of: date
    facts: list[Fact] = field(default_factory=list)
    phrases: list[Phrase] = field(default_factory=list)

    def money(self, key: str, minor: int | float) -> Arg:
        value = int(round(minor))
        self.facts.append(Fact(key, key, "money", value, english_money(value, self.currency)))
        return {"money": value}

    def count(self, key: str, n: int | float) -> Arg:
        value = int(round(n))
        self.facts.append(Fact(key, key, "count", value, f"{value:,}"))
        return {"count": value}

    def number(self, key: str, x: float, digits: int = 1) -> Arg:
        value = round(float(x), digits)
        self.facts.append(Fact(key, key, "number", value, f"{value:,.{digits}f}"))
        return {"number": value, "digits": digits}

    def percent(self, key: str, share: float) -> Arg:
        value = round(share * 100)
        self.facts.append(Fact(key, key, "percent", value, f"{value}%"))
        return {"percent": value / 100}

    def say(self, msgid: str, **args: Arg) -> None:
        self.phrases.append(phrase(msgid, **args))

    def fact_list(self) -> list[dict[str, Any]]:
        return [{"key": f.key, "kind": f.kind, "value": f.value, "text": f.text} for f in self.facts]

    def finish(self) -> tuple[str, list[str]]:
        """The reason in English (sentences that failed the fact check marked) and the unsupported numbers."""
        return localized(self.phrases, self.fact_list(), "en", self.store_id, self.store_name, self.currency,
                         self.timezone, self.as_of)


def localized(phrases: list[Phrase], facts: list[dict[str, Any]], language: str | None, store_id: str,
              store_name: str, currency: str, timezone: str, as_of: date | None) -> tuple[str, list[str]]:
    """The reason worded in ``language`` (None: the current one), checked against its facts in that
    language: (text with failing sentences marked, the numbers no figure supports)."""
    with use_language(language or current_language(), timezone):
        lang = current_language()
        words = " ".join(render(p, currency, timezone) for p in phrases)
        marker = gettext("unverified")
    if not facts:  # a record (a decision), not a claim from figures: nothing to check
        return words, []
    day = as_of or date(2000, 1, 1)
    items = [Fact(f["key"], f["key"], f["kind"], f["value"], f["text"]) for f in facts]
    checked = Facts(store_id, store_name, currency, timezone, "daily", (day - timedelta(days=56)).isoformat(),
                    (day - timedelta(days=1)).isoformat(), f"pricing as of {day.isoformat()}", "pricing", items,
                    language=lang)
    result = check_text(words, checked, mode="flag")
    return result.text.replace("[unverified: ", f"[{marker}: "), list(result.unsupported)
