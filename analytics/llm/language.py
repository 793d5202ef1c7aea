"""The language the hub's generated texts are written in: the store's (its settings ``language``, a
BCP 47 tag such as ``es-DO``; English when unset), and the sentence every prompt adds so the model
writes in it (:func:`write_in`).  The computed fallbacks use the same code to pick their catalogue."""

from __future__ import annotations

from typing import Any

LANGUAGES = ("en", "es", "fr")
#: the languages' names as the model reads them, with their own name beside
NAMES = {"en": "English", "es": "Spanish (español)", "fr": "French (français)"}
#: how each language writes numbers, for the prompt (the fact check reads all of these)
NUMBERS = {
    "en": "write numbers and money as the store's facts write them (e.g. RD$1,234.50)",
    "es": "write numbers and money the way the shop's country does (e.g. RD$1,234.50 in the Dominican "
          "Republic, 1.234,50 € in Spain)",
    "fr": "write numbers and money the French way (e.g. 1 234,50 RD$, 12,5 %)",
}


def language_code(value: Any) -> str:
    """``en``, ``es`` or ``fr`` from a language setting (``es-DO``, ``fr_FR``, ``ES``); English when unset
    or not one of the shipped languages."""
    first = (value if isinstance(value, str) else "").strip().lower().replace("_", "-").split("-")[0]
    return first if first in LANGUAGES else "en"


def store_language(settings: Any) -> str:
    """The store's language from its settings (a mapping or an ``AnalyticsSettings``)."""
    raw = settings.get("language") if isinstance(settings, dict) else getattr(settings, "language", None)
    return language_code(raw)


def write_in(language: str) -> str:
    """The prompt's sentence that asks for texts in ``language``."""
    code = language_code(language)
    return (f"Write every text in {NAMES[code]}, the shop's language, whatever the language of the data; "
            f"{NUMBERS[code]}.")
