"""The AI layer's notes in the reader's language.

A note says why an answer was computed instead of written by the AI ("No AI endpoint is configured",
"AI credits for today are used up", "the AI's text had figures not in your data" ...).  Notes are kept as
written, in English, beside the stored answers and in the logs; :func:`localized_note` re-words a known
one where a person reads it, keeping its figures.  A note of no known shape is shown as it is.
"""

from __future__ import annotations

import re
from typing import Any

from i18n import N_, _, current_language

# (the stored English, as the AI layer writes it) -> what the reader sees; the named groups are its figures
_NOTES: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern, re.DOTALL), text) for pattern, text in (
    (r"No AI endpoint is configured.*", N_("No AI endpoint is configured; computed from your figures (no AI).")),
    (r"AI credits for today are used up \(cap (?P<cap>\d+), spent (?P<spent>\d+)\).*",
     N_("AI credits for today are used up (cap %(cap)s, spent %(spent)s); showing computed figures.")),
    (r"AI credits for this month are used up \(cap (?P<cap>\d+), spent (?P<spent>\d+)\).*",
     N_("AI credits for this month are used up (cap %(cap)s, spent %(spent)s); showing computed figures.")),
    (r"This store's AI credits are used up \(balance (?P<balance>-?\d+), this needs (?P<cost>\d+)\).*",
     N_("This store's AI credits are used up (balance %(balance)s, this needs %(cost)s); ask your operator "
        "for a top-up. Showing computed figures.")),
    (r"The AI service is paused after repeated failures \(retrying in (?P<seconds>\d+) s\).*",
     N_("The AI service is paused after repeated failures (retrying in %(seconds)s s); showing computed figures.")),
    (r"The AI service is unavailable: .*", N_("The AI service is unavailable; showing computed figures.")),
    (r"The AI answer was (unusable|empty) twice.*", N_("The AI answer was unusable twice; showing computed figures.")),
    (r"Customer details were about to leave the hub.*",
     N_("Customer details were about to leave the hub, so nothing was sent to the AI; showing computed figures.")),
    (r"The AI's text had figures that are not in your data.*",
     N_("The AI's text had figures that are not in your data; computed from your figures instead.")),
    (r"The AI's explanation had figures not in the sale.*",
     N_("The AI's explanation had figures not in the sale; computed from the alert instead.")),
    (r"The AI's description had figures not in the product data.*",
     N_("The AI's description had figures not in the product data; computed instead.")),
    (r"The AI gave no usable persona for this segment.*",
     N_("The AI gave no usable persona for this segment; computed from the profile.")),
    (r"computed from your figures \(no AI\)(?:: .*)?", N_("computed from your figures (no AI)")),
    (r"written by AI \((?P<model>[^)]*)\) from the cache", N_("written by AI (%(model)s) from the cache")),
    (r"written by AI \((?P<model>[^)]*)\)", N_("written by AI (%(model)s)")),
))


def localized_note(note: str | None) -> str | None:
    """``note`` in the current language when it is one the AI layer writes; as it is otherwise (and in English)."""
    if not note or current_language() == "en":
        return note
    for pattern, text in _NOTES:
        match = pattern.fullmatch(note.strip())
        if match:
            return _(text, **match.groupdict())
    return note


def with_localized_notes(value: Any) -> Any:
    """``value`` (an answer's JSON: dicts and lists) with every ``note`` string re-worded by :func:`localized_note`."""
    if isinstance(value, dict):
        return {k: localized_note(v) if k == "note" and isinstance(v, str) else with_localized_notes(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [with_localized_notes(v) for v in value]
    return value
