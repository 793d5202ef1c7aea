"""The words of the pricing report's values, marked for translation (issue 28).

The report keeps its values as they are (``kind`` "markdown", ``stock`` "near stock-out", a decision's
``status`` "sent"): the JSON API, the command line and the stored report use them as keys.  Where a
person reads one (the Pricing page), :func:`say` gives it in the current language; a value missing
here is shown as stored, and ``tests/analytics/pricing/test_reasons_i18n.py`` fails on any value the
code can produce that is not here.
"""

from __future__ import annotations

from i18n import N_
from i18n import gettext as _

KINDS = {"markdown": N_("markdown"), "hold": N_("hold"), "increase": N_("increase"), "decrease": N_("decrease"),
         "keep": N_("keep"), "none": N_("no suggestion"), "pending": N_("pending"), "rejected": N_("rejected")}
OFFER_KINDS = {"multibuy": N_("multi-buy"), "bundle": N_("bundle"), "price": N_("price")}
TRENDS = {"rising": N_("rising"), "steady": N_("steady"), "falling": N_("falling"), "new": N_("new"),
          "no recent sales": N_("no recent sales")}
STOCK = {"near stock-out": N_("near stock-out"), "overstock": N_("overstock"), "slow mover": N_("slow mover"),
         "normal": N_("normal"), "unknown": N_("stock unknown")}
STATUSES = {"approved": N_("approved"), "sent": N_("sent"), "rejected": N_("rejected"), "recorded": N_("recorded"),
            "withdrawn": N_("withdrawn"), "ended": N_("ended")}
SOURCES = {"own": N_("own"), "own+category": N_("own + category"), "own+store": N_("own + store"),
           "own+fleet-category": N_("own + fleet category"), "own+fleet": N_("own + fleet"),
           "category": N_("category"), "store": N_("store"), "fleet-category": N_("fleet category"),
           "fleet": N_("fleet"), "none": N_("none")}
ALL = {**KINDS, **OFFER_KINDS, **TRENDS, **STOCK, **STATUSES, **SOURCES}


def say(value: str | None) -> str:
    """``value`` in the current language (as stored when it has no word here)."""
    if value is None:
        return ""
    word = ALL.get(value)
    return _(word) if word else value
