"""The fact check reads numbers written the Spanish and French way ("1.234,56", "1 234,56" with a
narrow no-break space, "12,3 %", "RD$1,234.56" as Santo Domingo writes it, "30 de octubre", "18 h"):
a true figure so written is kept, a made-up one is still dropped."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from analytics.narratives.factcheck import check_text, extract_numbers
from tests.analytics.narratives.test_factcheck import facts


def local(language: str):
    return dataclasses.replace(facts(), language=language)


@pytest.mark.parametrize("language, text", [
    ("es", "Las ventas fueron de RD$1.234,56 en 42 ventas."),  # Spain's marks
    ("es", "Las ventas fueron de RD$1,234.56 en 42 ventas."),  # the Dominican Republic's
    ("es", "Las ventas fueron de 1.234,56 pesos, unos RD$1.235."),
    ("es", "Ayer entraron RD$18.750 y el cambio fue de -12,3 %, o 12 por ciento."),
    ("es", "El 30 de octubre de 2026 la hora más movida fue a las 18:00."),
    ("es", "La venta media fue de RD$29,39; unos 1,2 mil pesos en total."),
    ("fr", "Le chiffre d'affaires était de 1 234,56 RD$ pour 42 ventes."),
    ("fr", "Le chiffre d'affaires était de 1\u202f234,56\u00a0RD$."),  # Babel's narrow no-break space
    ("fr", "Hier : 18 750 RD$, une baisse de 12,3\u00a0% (12 pour cent)."),
    ("fr", "Le vendredi 30 octobre 2026, l'heure de pointe était 18 h."),
    ("fr", "Les champions apportent 21,8 % du chiffre d'affaires."),
])
def test_numbers_written_the_local_way_are_supported(language: str, text: str) -> None:
    result = check_text(text, local(language))
    assert result.ok, result.unsupported
    assert result.text == text


@pytest.mark.parametrize("language, text, bad", [
    ("es", "Las ventas fueron de RD$2.345,67 en 42 ventas.", "RD$2.345,67"),
    ("es", "Las ventas subieron un 15,5 %.", "15,5 %"),
    ("fr", "Le chiffre d'affaires était de 9 876,54 RD$.", "9 876,54 RD$"),
    ("fr", "Le 12 novembre a été calme.", "12 novembre"),
    ("fr", "L'heure de pointe était 9 h.", "9 h"),
])
def test_a_made_up_number_written_the_local_way_is_dropped(language: str, text: str, bad: str) -> None:
    result = check_text(f"Hubo 42 ventas. {text}", local(language))
    assert result.unsupported == [bad]
    assert result.text == "Hubo 42 ventas."


def test_the_readings_of_a_local_number() -> None:
    [n] = extract_numbers("1 234,56 RD$", "DOP", "fr")
    assert (n.kind, n.value) == ("money", Decimal("1234.56"))
    [n] = extract_numbers("1.234", None, "es")  # Madrid: 1234; Santo Domingo: 1.234 — both read
    assert {n.value, *(v for v, _ in n.readings)} == {Decimal("1234"), Decimal("1.234")}
    [n] = extract_numbers("1,234", None, "fr")  # French: a decimal comma first
    assert n.value == Decimal("1.234")
    # English keeps reading "1,234.56" one way, and a comma list as separate numbers
    assert [x.value for x in extract_numbers("3,4 and 1,234.56", None, "en")] == [
        Decimal(3), Decimal(4), Decimal("1234.56")]
