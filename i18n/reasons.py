"""Anomaly reasons as a person reads them, in their language, on the device and on the hub (issue 28).

A sale's anomaly reasons (``tillsight.tx`` ``anomaly.reasons``, ``tillsight.alert`` ``reasons``) travel and are
stored as the English sentences the device's rules and forest write (``edge/anomaly``; the wire format does not
change).  :func:`localized_reason` re-words a stored sentence in the current language when it matches one of those
templates, and writes the money inside it (``RD$1,234.50``, as ``contracts.money`` wrote it) the current locale's
way (``1 234,50 RD$`` in French); a sentence of no known template (another device version) is shown as stored.
Neutral code: the device's dashboard and the hub's alert pages and APIs both use it (they never import each other).
"""

from __future__ import annotations

import re
from decimal import Decimal

from contracts.money import SYMBOLS, exponent
from i18n.formatting import format_money
from i18n.translate import _, current_language, ngettext

# --- the templates -------------------------------------------------------------
# The reasons travel in the sale payload as English sentences (the wire format stays as it is); a person
# reading them on the device sees them re-worded in their language when a sentence matches one of the
# templates of rules.py / forest.py / scorer.py, else the stored text.

_TIMES = r"(?P<times>once|twice|\d+ times)"
_USUAL = r" \(usual (?P<usual>\d+)\)"


def _times_value(word: str) -> int:
    return 1 if word == "once" else 2 if word == "twice" else int(word.split()[0])


def _say_times(n: int) -> str:
    return ngettext("once", "%(num)d times", n)


# an amount as contracts.money.format_money writes it: a sign, the currency's symbol (or its code and a space),
# then the English number ("RD$1,234.50", "-RD$60.00", "XOF 1,500")
_SYMBOL_CURRENCY = {symbol: code for code, symbol in SYMBOLS.items()}
_MONEY = re.compile(r"(?P<sign>-?)(?:(?P<symbol>" + "|".join(re.escape(s) for s in sorted(SYMBOLS.values(), key=len,
                                                                                        reverse=True))
                    + r")|(?P<code>[A-Z]{3}) )(?P<number>\d{1,3}(?:,\d{3})*(?:\.\d+)?)")


def _amount(match: re.Match[str], currency: str | None) -> str:
    """One amount written the current locale's way; as written when its currency is not clear."""
    symbol, code = match["symbol"], match["code"]
    if code:
        cur: str | None = code
    elif currency and SYMBOLS.get(currency.upper()) == symbol:
        cur = currency.upper()  # "$" is the dollar of the sale's currency, not always USD
    else:
        cur = _SYMBOL_CURRENCY.get(symbol)
    number = match["number"].replace(",", "")
    decimals = len(number.partition(".")[2])
    if cur is None or decimals != exponent(cur):
        return match[0]
    minor = int(Decimal(number).scaleb(decimals))
    return format_money(-minor if match["sign"] else minor, cur)


def local_money(text: str, currency: str | None = None) -> str:
    """Every amount in ``text`` (as ``contracts.money`` writes amounts) in the current locale's format:
    ``"RD$1,234.50"`` -> ``"1 234,50 RD$"`` in French; ``currency`` says what a bare ``$`` is."""
    return _MONEY.sub(lambda m: _amount(m, currency), text)


def _reword_match(name: str, g: dict[str, str], currency: str | None) -> str:  # one branch per template
    num = int(g["num"]) if g.get("num") else 0
    times_n = _say_times(_times_value(g["times"])) if g.get("times") else ""
    detail = local_money(g.get("detail") or "", currency)
    if name in ("discount_amount", "total_ratio", "total_above", "f_total"):
        g = {k: (local_money(v, currency) if k in ("amount", "total", "usual", "high") and v else v)
             for k, v in g.items()}
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
        parts = "; ".join(localized_reason(part, currency) for part in g["parts"].split("; "))
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


def localized_reason(text: str, currency: str | None = None) -> str:
    """A stored (English) reason re-worded in the current language when it matches a known template, with
    its amounts in the current locale's format (``currency``: the sale's, which says what a bare ``$`` is);
    the stored text as it is otherwise, and always in English."""
    if current_language() == "en":
        return text
    for name, pattern in _TEMPLATES:
        match = pattern.fullmatch(text)
        if match:
            return _reword_match(name, match.groupdict(), currency)
    return text


def localized_reasons(texts: object, currency: str | None = None) -> list[str]:
    """:func:`localized_reason` of each stored reason (a list as stored; anything else gives ``[]``)."""
    return [localized_reason(str(t), currency) for t in texts] if isinstance(texts, (list, tuple)) else []
