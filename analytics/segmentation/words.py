"""Segment wording in the reader's language: RFM segment names, their grid rules and "what to do" actions,
customer cluster names, basket segment names, time-of-day bands, peak days and payment mixes.

The nightly jobs store every name in English, and the stored name is a key (customers, movers and personas
join on it), so it is never changed: these functions word it where it is shown, in the current language
(``i18n``: the request's language on the hub).  Composed names are rebuilt from their parts with whole-phrase
msgids that translators may reorder ("%(band)s small baskets" -> "Cestas pequeñas %(band)s"), never by
translating word by word.  A name this module does not recognise (another version's) is shown as stored.
Category names are the shop's own data and stay as the shop wrote them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from babel.lists import format_list

from analytics.narratives.words import payment
from analytics.segmentation.baskets import TIME_BANDS, WEEKDAYS
from analytics.segmentation.rfm import SEGMENT_RULES
from i18n import N_, current_language, current_locale, format_percent, format_weekday, pgettext
from i18n import gettext as _

_NUMBERED = re.compile(r"^(?P<base>.*) \((?P<n>\d+)\)$")


def _rfm_names() -> dict[str, str]:
    return {
        "Champions": pgettext("RFM segment", "Champions"),
        "Loyal": pgettext("RFM segment", "Loyal"),
        "Potential loyalists": pgettext("RFM segment", "Potential loyalists"),
        "New": pgettext("RFM segment", "New"),
        "Promising": pgettext("RFM segment", "Promising"),
        "Need attention": pgettext("RFM segment", "Need attention"),
        "At risk": pgettext("RFM segment", "At risk"),
        "Can't lose": pgettext("RFM segment", "Can't lose"),
        "Hibernating": pgettext("RFM segment", "Hibernating"),
        "Lost": pgettext("RFM segment", "Lost"),
    }


# the stored actions (analytics.segmentation.rfm.SEGMENT_ACTIONS) as msgids; tests check the two agree
RFM_ACTIONS = {
    "Champions": N_("bought recently, often and for the most: reward them, ask for reviews"),
    "Loyal": N_("buy often and spend well: offer loyalty perks and new lines"),
    "Potential loyalists": N_("recent, average frequency and spend: a membership or bundle offer"),
    "New": N_("first purchase very recently: welcome them, make the second visit easy"),
    "Promising": N_("recent but bought little so far: build the habit with small offers"),
    "Need attention": N_("middling on all counts and drifting: a timely, limited offer"),
    "At risk": N_("used to buy well but not lately: reach out before they go"),
    "Can't lose": N_("were among the best and have not been back: win them back personally"),
    "Hibernating": N_("long gone and low value: only low-cost reminders"),
    "Lost": N_("lowest on every count: do not spend on them"),
}


def rfm_name(segment: str | None) -> str:
    """An RFM segment's name ("At risk" -> "En riesgo"); an unknown one as stored."""
    if not segment:
        return segment or ""
    return _rfm_names().get(segment, segment)


def rfm_action(segment: str, stored: str | None) -> str:
    """The segment's "what to do", translated when the stored text is this version's English."""
    if stored and RFM_ACTIONS.get(segment) == stored:
        return _(stored)
    return stored or ""


def _span(values: tuple[int, ...]) -> str:
    lo, hi = min(values), max(values)
    return str(lo) if lo == hi else f"{lo}-{hi}"


def rfm_rule(segment: str) -> str:
    """The cells of the R x FM grid that make the segment: "R 5 and FM 4-5" / "R 5 y FM 4-5"."""
    cells = [_("R %(r)s and FM %(fm)s", r=_span(rs), fm=_span(fms)) for name, rs, fms in SEGMENT_RULES
             if name == segment]
    if not cells:
        return ""
    text = cells[0]
    for cell in cells[1:]:
        text = _("%(first)s; or %(second)s", first=text, second=cell)
    return text


def _band_names() -> dict[str, str]:
    """Time-of-day bands as table labels."""
    return {
        "Early morning": pgettext("time of day", "Early morning"), "Morning": pgettext("time of day", "Morning"),
        "Midday": pgettext("time of day", "Midday"), "Afternoon": pgettext("time of day", "Afternoon"),
        "Evening": pgettext("time of day", "Evening"), "Night": pgettext("time of day", "Night"),
    }


def _band_phrases() -> dict[str, str]:
    """Time-of-day bands as they read inside a basket segment's name ("por la tarde", "le soir")."""
    return {
        "Early morning": pgettext("basket segment", "Early morning"),
        "Morning": pgettext("basket segment", "Morning"),
        "Midday": pgettext("basket segment", "Midday"),
        "Afternoon": pgettext("basket segment", "Afternoon"),
        "Evening": pgettext("basket segment", "Evening"),
        "Night": pgettext("basket segment", "Night"),
    }


def time_band(band: str | None) -> str:
    """A time-of-day band's name ("Evening" -> "Final de la tarde"); an unknown one as stored."""
    if not band:
        return band or ""
    return _band_names().get(band, band)


def weekday(name: str) -> str:
    """A stored English weekday name in the current language ("Saturday" -> "sábado")."""
    return format_weekday(WEEKDAYS.index(name), current_locale()) if name in WEEKDAYS else name


def weekdays(names: Iterable[str] | None) -> str:
    return ", ".join(weekday(str(n)) for n in names or [])


def shares(items: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None, key: str = "category",
           word: Callable[[str], str] = str) -> str:
    """``[{category: grocery, share: 0.72}, ...]`` or ``{cash: 0.5, ...}`` -> ``grocery 72%, ...``, each
    name through ``word`` and each share the current locale's way."""
    if not items:
        return ""
    pairs = list(items.items()) if isinstance(items, Mapping) else [(i.get(key), i.get("share")) for i in items]
    return ", ".join(f"{word(str(name))} {format_percent(float(share or 0), current_locale())}"
                     for name, share in pairs if name is not None)


def payment_mix(mix: Mapping[str, Any] | None) -> str:
    """``{cash: 0.6, mobile_money: 0.4}`` -> ``efectivo 60%, dinero móvil 40%``."""
    return shares(mix, word=payment)


def rfm_mix(items: Iterable[Mapping[str, Any]] | None) -> str:
    """A cluster's main RFM segments with their shares, the names in the current language."""
    return shares(items, key="segment", word=rfm_name)


# --- customer clusters (analytics.segmentation.clusters._name) ---

def _traits() -> dict[str, str]:
    """The words a cluster name is made of, as they describe customers (plural) in the current language."""
    return {
        "recent": pgettext("customers who are", "recent"), "lapsed": pgettext("customers who are", "lapsed"),
        "frequent": pgettext("customers who are", "frequent"),
        "one-time": pgettext("customers who are", "one-time"),
        "high-spend": pgettext("customers who are", "high-spend"),
        "low-spend": pgettext("customers who are", "low-spend"),
        "new": pgettext("customers who are", "new"),
        "long-standing": pgettext("customers who are", "long-standing"),
    }


_CLUSTER_NOUNS = (("customers with broad baskets", "broad"), ("customers with narrow baskets", "narrow"),
                  ("customers", ""))
_CLUSTER_SLOTS = (("recent", "lapsed"), ("frequent", "one-time"), ("high-spend", "low-spend"),
                  ("new", "long-standing"))


@dataclass(frozen=True)
class ClusterName:
    """The parts of a cluster's stored name: its traits in order, its basket breadth, its number."""

    traits: tuple[str, ...]
    baskets: str  # "broad" | "narrow" | ""
    number: int | None = None


def parse_cluster(name: str) -> ClusterName | None:
    """The parts of a name ``clusters._name`` wrote ("Recent frequent customers with broad baskets (2)"),
    or None for any other name ("All customers", "Typical customers" are worded whole)."""
    number = None
    m = _NUMBERED.match(name)
    if m:
        name, number = m["base"], int(m["n"])
    text = name[:1].lower() + name[1:]
    for noun, breadth in _CLUSTER_NOUNS:
        if text == noun or text.endswith(" " + noun):
            head = text[: -len(noun)].strip()
            words = tuple(head.split()) if head else ()
            slot = 0
            for w in words:  # each trait from its own slot, in the slots' order
                while slot < len(_CLUSTER_SLOTS) and w not in _CLUSTER_SLOTS[slot]:
                    slot += 1
                if slot == len(_CLUSTER_SLOTS):
                    return None
                slot += 1
            if not words and not breadth:
                return None
            return ClusterName(words, breadth, number)
    return None


def _joined(parts: list[str]) -> str:
    # English stacks adjectives ("recent frequent high-spend"); other languages list them ("récents, fréquents et …")
    if current_language() == "en":
        return " ".join(parts)
    return format_list(parts, locale=current_locale())


def _numbered(text: str, number: int | None) -> str:
    return text if number is None else f"{text} ({number})"


def cluster_name(name: str | None) -> str:
    """A customer cluster's name in the current language; an unrecognised one as stored."""
    if not name:
        return name or ""
    m = _NUMBERED.match(name)
    base, number = (m["base"], int(m["n"])) if m else (name, None)
    whole = {"All customers": _("All customers"), "Typical customers": _("Typical customers")}
    if base in whole:
        return _numbered(whole[base], number)
    parts = parse_cluster(name)
    if parts is None:
        return name
    traits = _traits()
    words = _joined([traits[t] for t in parts.traits])
    if not parts.traits:
        text = _("Customers with broad baskets") if parts.baskets == "broad" else _("Customers with narrow baskets")
    elif parts.baskets == "broad":
        text = _("%(traits)s customers with broad baskets", traits=words)
    elif parts.baskets == "narrow":
        text = _("%(traits)s customers with narrow baskets", traits=words)
    else:
        text = _("%(traits)s customers", traits=words)
    return _numbered(text[:1].upper() + text[1:], parts.number)


# --- basket segments (analytics.segmentation.baskets._name) ---

SIZES = ("small", "mid-size", "large")


@dataclass(frozen=True)
class BasketName:
    """The parts of a basket segment's stored name."""

    band: str  # a TIME_BANDS name as stored ("Early morning")
    size: str  # small | mid-size | large
    weekend: bool
    category: str  # "" when the name names none
    number: int | None = None


def parse_basket(name: str, profile: Mapping[str, Any] | None = None) -> BasketName | None:
    """The parts of a name ``baskets._name`` wrote ("Weekend evening large snacks baskets (2)"), checked
    against the segment's profile when given (its time band, its top category); None for any other name."""
    number = None
    m = _NUMBERED.match(name)
    if m:
        name, number = m["base"], int(m["n"])
    if not name.endswith(" baskets"):
        return None
    rest = name[: -len(" baskets")]
    weekend = rest.startswith("Weekend ")
    if weekend:
        rest = rest[len("Weekend "):]
    p = profile or {}
    bands = [str(p["time_band"])] if p.get("time_band") else [b for b, _lo, _hi in TIME_BANDS]
    for band in bands:
        shown = band.lower() if weekend else band
        if not rest.startswith(shown + " "):
            continue
        after = rest[len(shown) + 1:]
        for size in SIZES:
            if after != size and not after.startswith(size + " "):
                continue
            category = after[len(size) + 1:] if after != size else ""
            tops = [str(c.get("category")) for c in (p.get("top_categories") or [])[:1]]
            if category and profile is not None and tops and category != tops[0]:
                continue
            return BasketName(band, size, weekend, category, number)
    return None


def _basket_text(parts: BasketName, band: str) -> str:
    """One whole-phrase msgid per form, so that a translation may put the parts in its own order."""
    cat = parts.category
    if parts.weekend:
        band = band.lower()
        if parts.size == "small":
            return (_("Weekend %(band)s small %(category)s baskets", band=band, category=cat) if cat
                    else _("Weekend %(band)s small baskets", band=band))
        if parts.size == "large":
            return (_("Weekend %(band)s large %(category)s baskets", band=band, category=cat) if cat
                    else _("Weekend %(band)s large baskets", band=band))
        return (_("Weekend %(band)s mid-size %(category)s baskets", band=band, category=cat) if cat
                else _("Weekend %(band)s mid-size baskets", band=band))
    if parts.size == "small":
        return (_("%(band)s small %(category)s baskets", band=band, category=cat) if cat
                else _("%(band)s small baskets", band=band))
    if parts.size == "large":
        return (_("%(band)s large %(category)s baskets", band=band, category=cat) if cat
                else _("%(band)s large baskets", band=band))
    return (_("%(band)s mid-size %(category)s baskets", band=band, category=cat) if cat
            else _("%(band)s mid-size baskets", band=band))


def basket_name(name: str | None, profile: Mapping[str, Any] | None = None) -> str:
    """A basket segment's name in the current language ("Weekend evening large baskets" -> "Cestas grandes
    del fin de semana, al final de la tarde"); an unrecognised one as stored."""
    if not name:
        return name or ""
    parts = parse_basket(name, profile)
    if parts is None:
        return name
    text = _basket_text(parts, _band_phrases()[parts.band])
    return _numbered(text[:1].upper() + text[1:], parts.number)


def segment_name(kind: str, name: str | None, profile: Mapping[str, Any] | None = None) -> str:
    """Any stored segment name by its kind (``rfm``, ``cluster``, ``basket``) in the current language."""
    if kind == "rfm":
        return rfm_name(name)
    if kind == "cluster":
        return cluster_name(name)
    if kind == "basket":
        return basket_name(name, profile)
    return name or ""


# --- churn validation (analytics.segmentation.churn.churn_risk) ---

_NEEDS_DAYS = re.compile(r"^needs (?P<need>\d+) days of sales, has (?P<has>-?\d+)$")


def churn_status(validation: Mapping[str, Any] | None) -> str:
    """Why a store has no churn scores, in the current language ("insufficient history (needs 250 days of
    sales, has 120)" -> "historial insuficiente (…)"); a status of another version as stored."""
    v = validation or {}
    status, detail = str(v.get("status") or ""), str(v.get("detail") or "")
    if status == "insufficient history":
        m = _NEEDS_DAYS.match(detail)
        if m:
            return _("not enough history (needs %(need)s days of sales, has %(has)s)", need=m["need"], has=m["has"])
        return _("not enough history")
    if status == "too few customers or no churn to learn from":
        return _("too few customers, or no customer stopped buying to learn from")
    return f"{status} ({detail})" if detail else status
