"""Readable reasons: one sentence a shop owner understands, with the numbers that made it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from i18n import _, current_language, ngettext


@dataclass(frozen=True)
class Reason:
    """key: what the reason is about (a feature name), so two sources saying the same thing merge.
    weight: 0..1, how much it points to a problem (orders the reasons)."""

    key: str
    weight: float
    text: str


def merge_reasons(*groups: Iterable[Reason], limit: int = 4) -> tuple[str, ...]:
    """Most important first, at most `limit`, one reason per key: on a shared key the text of the earlier
    group is kept (pass the rules first: their sentences carry the money) with the heavier weight."""
    best: dict[str, Reason] = {}
    for group in groups:
        for reason in group:
            held = best.get(reason.key)
            if held is None:
                best[reason.key] = reason
            elif reason.weight > held.weight:
                best[reason.key] = Reason(held.key, reason.weight, held.text)
    ordered = sorted(best.values(), key=lambda r: (-r.weight, r.key))
    texts: list[str] = []
    for reason in ordered:
        if reason.text not in texts:
            texts.append(reason.text)
        if len(texts) >= limit:
            break
    return tuple(texts)


def plural(n: int | float, one: str, many: str | None = None) -> str:
    """``plural(1, "line") -> "1 line"``, ``plural(3, "line") -> "3 lines"``."""
    word = one if n == 1 else (many or one + "s")
    return f"{n:g} {word}" if isinstance(n, float) else f"{n} {word}"


def times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def clock(hour: float) -> str:
    """14.5 -> ``"14:30"``."""
    minutes = int(round((hour % 24.0) * 60)) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def duration(seconds: float) -> str:
    """Short human duration: ``"8 s"``, ``"4 min"``, ``"1 h 20 min"``."""
    seconds = max(0.0, float(seconds))
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def hours_span(usual: tuple[bool, ...]) -> str | None:
    """The usual trading hours as ``"07:00–21:00"`` when they form one block of the day, else None."""
    if not any(usual) or all(usual):
        return None
    # find the start of a block: a usual hour whose previous hour is not usual
    starts = [h for h in range(24) if usual[h] and not usual[(h - 1) % 24]]
    if len(starts) != 1:
        return None
    start = starts[0]
    end = start
    while usual[end % 24]:
        end += 1
    return f"{start % 24:02d}:00–{end % 24:02d}:00"


# --- display-time translation of stored reasons -------------------------------------------------------------
# The reasons travel in the sale payload as English sentences (the wire format stays as it is); a person
# reading them on the device sees them re-worded in their language when a sentence matches one of the
# templates of rules.py / forest.py / scorer.py, else the stored text.

_TIMES = r"(?P<times>once|twice|\d+ times)"
_USUAL = r" \(usual (?P<usual>\d+)\)"


def _times_value(word: str) -> int:
    return 1 if word == "once" else 2 if word == "twice" else int(word.split()[0])


def _say_times(n: int) -> str:
    return ngettext("once", "%(num)d times", n)


def _reword_match(name: str, g: dict[str, str]) -> str:  # one branch per template
    num = int(g["num"]) if g.get("num") else 0
    times_n = _say_times(_times_value(g["times"])) if g.get("times") else ""
    detail = g.get("detail") or ""
    if name == "voids":
        return ngettext("%(num)d line voided in this sale", "%(num)d lines voided in this sale", num)
    if name == "override_one":
        return _("price overridden by hand") + detail
    if name == "overrides":
        return _("%(num)s prices overridden by hand", num=g["num"]) + detail
    if name == "discount_amount":
        return _("discount of %(amount)s is %(share)s of the sale", amount=g["amount"], share=g["share"])
    if name == "discount":
        return _("discount is %(share)s of the sale", share=g["share"])
    if name == "total_ratio":
        return _("total %(total)s is %(ratio)s× the usual sale of %(usual)s",
                 total=g["total"], ratio=g["ratio"], usual=g["usual"])
    if name == "total_above":
        return _("total %(total)s is above %(high)s", total=g["total"], high=g["high"])
    if name == "manual":
        return _("%(manual)s of %(lines)s lines typed in by hand", manual=g["manual"], lines=g["lines"])
    if name == "mismatch":
        return _("camera disagreed with what was rung up %(times)s", times=times_n)
    if name == "unknown_removed":
        return ngettext("%(num)d unknown item the camera found taken off the sale unsold",
                        "%(num)d unknown items the camera found taken off the sale unsold", num)
    if name == "unknown_items":
        return ngettext("%(num)d item the camera did not know", "%(num)d items the camera did not know", num)
    if name == "fast_usual":
        return ngettext("%(num)d item checked out in %(took)s (usual %(usual)s a sale)",
                        "%(num)d items checked out in %(took)s (usual %(usual)s a sale)", num,
                        took=g["took"], usual=g["usual"])
    if name == "fast":
        return ngettext("%(num)d item checked out in %(took)s", "%(num)d items checked out in %(took)s", num,
                        took=g["took"])
    if name == "slow":
        return _("sale took %(took)s from first item to payment", took=g["took"])
    if name == "hour_span":
        return _("sale at %(clock)s, outside usual hours (%(span)s)", clock=g["clock"], span=g["span"])
    if name == "hour":
        return _("sale at %(clock)s, outside usual hours", clock=g["clock"])
    if name == "cashier_rate":
        return _("this cashier voided %(share)s of lines in recent sales", share=g["share"])
    if name == "drawer":
        return _("cash drawer opened %(times)s without a sale", times=times_n)
    if name == "f_total":
        return _("total %(total)s (usual %(usual)s)", total=g["total"], usual=g["usual"])
    if name == "f_items":
        return ngettext("%(num)d item in the basket (usual %(usual)s)",
                        "%(num)d items in the basket (usual %(usual)s)", num, usual=g["usual"])
    if name == "f_manual":
        return ngettext("%(num)d line typed in by hand (usual %(usual)s)",
                        "%(num)d lines typed in by hand (usual %(usual)s)", num, usual=g["usual"])
    if name == "f_voids":
        return ngettext("%(num)d line voided (usual %(usual)s)", "%(num)d lines voided (usual %(usual)s)", num,
                        usual=g["usual"])
    if name == "f_overrides":
        return ngettext("%(num)d price override (usual %(usual)s)", "%(num)d price overrides (usual %(usual)s)",
                        num, usual=g["usual"])
    if name == "f_discount":
        return _("discount %(share)s of the sale (usual %(usual)s)", share=g["share"], usual=g["usual"])
    if name == "f_took":
        return _("sale took %(took)s (usual %(usual)s)", took=g["took"], usual=g["usual"])
    if name == "f_mismatch":
        return _("camera disagreed %(times)s (usual %(usual)s)", times=times_n, usual=g["usual"])
    if name == "f_cashier":
        return _("cashier voided %(share)s of lines lately (usual %(usual)s)", share=g["share"], usual=g["usual"])
    if name == "f_drawer":
        return _("drawer opened %(times)s without a sale (usual %(usual)s)", times=times_n, usual=g["usual"])
    if name == "combination":
        return _("unusual combination of basket, timing and cashier actions for this store")
    if name == "combination_parts":
        parts = "; ".join(localized_reason(part) for part in g["parts"].split("; "))
        return _("unusual combination for this store: %(parts)s", parts=parts)
    raise KeyError(name)


# (template name, pattern of the English sentence); the first match wins, so longer forms come first
_TEMPLATES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(pattern)) for name, pattern in (
    ("voids", r"(?P<num>\d+) lines? voided in this sale"),
    ("override_one", r"price overridden by hand(?P<detail> \(.+\))?"),
    ("overrides", r"(?P<num>\d+) prices overridden by hand(?P<detail> \(.+\))?"),
    ("discount_amount", r"discount of (?P<amount>.+) is (?P<share>\d+%) of the sale"),
    ("discount", r"discount is (?P<share>\d+%) of the sale"),
    ("total_ratio", r"total (?P<total>.+) is (?P<ratio>\d+)× the usual sale of (?P<usual>.+)"),
    ("total_above", r"total (?P<total>.+) is above (?P<high>.+)"),
    ("manual", r"(?P<manual>\d+) of (?P<lines>\d+) lines typed in by hand"),
    ("mismatch", r"camera disagreed with what was rung up " + _TIMES),
    ("unknown_removed", r"(?P<num>\d+) unknown items? the camera found taken off the sale unsold"),
    ("unknown_items", r"(?P<num>\d+) items? the camera did not know"),
    ("fast_usual", r"(?P<num>\d+) items? checked out in (?P<took>.+) \(usual (?P<usual>.+) a sale\)"),
    ("fast", r"(?P<num>\d+) items? checked out in (?P<took>.+)"),
    ("slow", r"sale took (?P<took>.+) from first item to payment"),
    ("hour_span", r"sale at (?P<clock>\d\d:\d\d), outside usual hours \((?P<span>[^()]+)\)"),
    ("hour", r"sale at (?P<clock>\d\d:\d\d), outside usual hours"),
    ("cashier_rate", r"this cashier voided (?P<share>\d+%) of lines in recent sales"),
    ("drawer", r"cash drawer opened " + _TIMES + " without a sale"),
    ("f_total", r"total (?P<total>.+) \(usual (?P<usual>.+)\)"),
    ("f_items", r"(?P<num>\d+) items? in the basket" + _USUAL),
    ("f_manual", r"(?P<num>\d+) lines? typed in by hand" + _USUAL),
    ("f_voids", r"(?P<num>\d+) lines? voided" + _USUAL),
    ("f_overrides", r"(?P<num>\d+) price overrides?" + _USUAL),
    ("f_discount", r"discount (?P<share>\d+%) of the sale \(usual (?P<usual>\d+%)\)"),
    ("f_took", r"sale took (?P<took>.+) \(usual (?P<usual>.+)\)"),
    ("f_mismatch", r"camera disagreed " + _TIMES + _USUAL),
    ("f_cashier", r"cashier voided (?P<share>\d+%) of lines lately \(usual (?P<usual>\d+%)\)"),
    ("f_drawer", r"drawer opened " + _TIMES + " without a sale" + _USUAL),
    ("combination", r"unusual combination of basket, timing and cashier actions for this store"),
    ("combination_parts", r"unusual combination for this store: (?P<parts>.+)"),
))


def localized_reason(text: str) -> str:
    """A stored (English) reason re-worded in the current language when it matches a known template;
    the stored text as it is otherwise (and always in English)."""
    if current_language() == "en":
        return text
    for name, pattern in _TEMPLATES:
        match = pattern.fullmatch(text)
        if match:
            return _reword_match(name, match.groupdict())
    return text
