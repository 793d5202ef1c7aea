"""Words from the hub's data that the computed texts (personas, descriptions) write in the store's language:
product category names (``analytics.jobs.categories``) and payment methods (``tillsight.tx`` ``payment.method``).
The data keeps the English value; a value not listed here (a store's own category) is written as it is."""

from __future__ import annotations

from i18n import N_
from i18n import gettext as _

CATEGORY_WORDS = {
    "service": N_("service"), "seasonal": N_("seasonal"), "candles & lighting": N_("candles & lighting"),
    "jewellery & accessories": N_("jewellery & accessories"), "stationery & gift wrap": N_("stationery & gift wrap"),
    "toys & party": N_("toys & party"), "home textiles": N_("home textiles"),
    "kitchen & dining": N_("kitchen & dining"),
    "bags & storage": N_("bags & storage"), "garden & outdoor": N_("garden & outdoor"),
    "bath & beauty": N_("bath & beauty"), "home decor": N_("home decor"), "grocery": N_("grocery"),
    "uncategorised": N_("uncategorised"),
}
PAYMENT_WORDS = {"cash": N_("cash"), "card": N_("card"), "mobile_money": N_("mobile money"), "credit": N_("credit")}


def category(name: str) -> str:
    """A category's name in the current language (a store's own category as it is)."""
    return _(CATEGORY_WORDS[name]) if name in CATEGORY_WORDS else name


def payment(method: str) -> str:
    """A payment method in the current language (an unknown one with its underscores as spaces)."""
    return _(PAYMENT_WORDS[method]) if method in PAYMENT_WORDS else method.replace("_", " ")
