"""The AI layer's notes ("why this was computed") read in the reader's language, figures kept; English and
notes of no known shape are shown as stored."""

from __future__ import annotations

from analytics.llm.notes import localized_note, with_localized_notes
from i18n import use_language

CAP = "AI credits for today are used up (cap 500, spent 480); showing computed figures."


def test_a_known_note_is_reworded_with_its_figures() -> None:
    with use_language("es"):
        assert localized_note(CAP) == ("Los créditos de IA de hoy se agotaron (tope 500, gastado 480); "
                                       "se muestran cifras calculadas.")
        assert localized_note("written by AI (qwen-7b) from the cache") == "escrito por IA (qwen-7b) desde la caché"
    with use_language("fr"):
        assert localized_note("The AI service is unavailable: HTTP 503; showing computed figures.") == (
            "Le service d'IA est indisponible ; chiffres calculés affichés.")


def test_english_and_unknown_notes_are_shown_as_stored() -> None:
    with use_language("en"):
        assert localized_note(CAP) == CAP
    with use_language("es"):
        assert localized_note("something another hub version wrote") == "something another hub version wrote"
        assert localized_note(None) is None


def test_every_note_in_an_answer_is_reworded() -> None:
    answer = {"narrative": {"note": CAP, "text": "CAP"}, "personas": [{"note": None}, {"note": CAP}]}
    with use_language("fr"):
        out = with_localized_notes(answer)
    assert out["narrative"]["note"].startswith("Les crédits d'IA du jour") and out["narrative"]["text"] == "CAP"
    assert out["personas"][0]["note"] is None and out["personas"][1]["note"].startswith("Les crédits")
