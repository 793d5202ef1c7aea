"""The language the hub's generated texts are written in: the store's (its settings ``language``, a
BCP 47 tag such as ``es-DO``, when the hub sets one; else the language the store's devices report in
their telemetry; English when neither says), and the sentence every prompt adds so the model writes in
it (:func:`write_in`).  The computed fallbacks use the same code to pick their catalogue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from analytics.db import tables as t
from analytics.jobs.settings import AnalyticsSettings

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


def reported_language(conn: Connection, store_id: str) -> str | None:
    """The store's language as its devices report it (``tillsight.telemetry/1`` ``language``: the device's
    store setting), the most recently heard device's first; None when no device has reported one (devices
    before the field) or it is not a shipped language."""
    d = t.devices.c
    for telemetry, in conn.execute(select(d.telemetry).where(d.store_id == store_id)
                                   .order_by(d.last_seen.desc(), d.device_id)).all():
        raw = telemetry.get("language") if isinstance(telemetry, dict) else None
        if isinstance(raw, str) and raw.strip():
            code = raw.strip().lower().replace("_", "-").split("-")[0]
            if code in LANGUAGES:
                return code
    return None


def resolve_language(settings: Any, reported: str | None) -> str:
    """The store's language: the hub's own store setting when it names one (it overrides the device), else
    the language its devices report (:func:`reported_language`), else English."""
    raw = settings.get("language") if isinstance(settings, dict) else getattr(settings, "language", None)
    if isinstance(raw, str) and raw.strip():
        return language_code(raw)
    return language_code(reported)


def settings_with_language(conn: Connection, store_id: str, settings: AnalyticsSettings) -> AnalyticsSettings:
    """``settings`` whose ``language`` is the store's (:func:`resolve_language`): unchanged when the hub's
    setting names one, else the devices' (so every reader of the store's settings writes in it)."""
    if settings.language:
        return settings
    reported = reported_language(conn, store_id)
    return settings.model_copy(update={"language": reported}) if reported else settings
