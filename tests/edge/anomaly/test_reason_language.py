"""Anomaly reasons travel in the sale as English sentences; a person reading them in Spanish or French
sees them re-worded from the known templates, and an unknown sentence (an older or newer device) as stored."""

from __future__ import annotations

import re

import pytest

from edge.anomaly.features import SaleFeatures
from edge.anomaly.reasons import localized_reason
from edge.anomaly.rules import Baseline, evaluate_rules
from i18n import use_language

# English words that appear in the templates and in no Spanish or French rewording
_ENGLISH = re.compile(r"\b(the|sale|lines?|items?|usual|voided|once|twice|times|without|outside|camera)\b")


def _features(**changes: float) -> SaleFeatures:
    base = dict(total=5_000_000, item_count=12, manual_lines=6, voids=3, overrides=2, discount_share=0.4,
                duration_s=5.0, local_hour=3.5, vision_mismatches=3, cashier_void_rate=0.3, drawer_opens_no_sale=2,
                line_count=8, discount=400_000, unknown_items=0, unknown_removed=2)
    base.update(changes)
    return SaleFeatures(**base)  # type: ignore[arg-type]


def _rule_sentences() -> list[str]:
    """Every sentence the rules write, from sales that fire each of them (with and without the variants)."""
    history = Baseline(sales=500, median_total=50_000, high_total=1_000_000,
                       usual_hours=tuple(7 <= h < 21 for h in range(24)))
    payload = {"lines": [], "events": []}
    sentences: list[str] = []
    for features, baseline in (
        (_features(), history),
        (_features(overrides=1, discount=0, unknown_removed=0, unknown_items=4, item_count=3, duration_s=1800.0,
                   drawer_opens_no_sale=1, voids=2, total=2_000_000), Baseline()),
    ):
        sentences += [r.text for r in evaluate_rules(features, baseline, "DOP", payload)]
    return sentences


FOREST_SENTENCES = [  # as explain() writes them (sentences stored in sales months ago read the same)
    "total RD$9,000.00 (usual RD$450.00)", "14 items in the basket (usual 3)", "1 line typed in by hand (usual 0)",
    "4 lines voided (usual 0)", "3 price overrides (usual 0)", "discount 35% of the sale (usual 0%)",
    "sale took 22 min (usual 1 min)", "camera disagreed twice (usual 0)",
    "cashier voided 25% of lines lately (usual 2%)", "drawer opened 4 times without a sale (usual 0)",
    "12 items checked out in 6 s (usual 1 min a sale)",
    "unusual combination for this store: 14 items in the basket (usual 3); sale took 22 min (usual 1 min)",
    "unusual combination of basket, timing and cashier actions for this store",
]


def test_english_readers_see_the_stored_sentence_unchanged() -> None:
    for text in [*_rule_sentences(), *FOREST_SENTENCES]:
        assert localized_reason(text) == text


@pytest.mark.parametrize("language", ["es", "fr"])
def test_every_rule_and_forest_sentence_is_reworded(language: str) -> None:
    sentences = _rule_sentences() + FOREST_SENTENCES
    assert len(sentences) >= 24  # every template fired at least once
    with use_language(language):
        for text in sentences:
            said = localized_reason(text)
            assert said != text and not _ENGLISH.search(said.replace("RD$", "")), (text, said)


def test_spanish_keeps_the_numbers_money_and_item_names() -> None:
    with use_language("es"):
        assert localized_reason("3 lines voided in this sale") == "3 líneas anuladas en esta venta"
        assert localized_reason("1 line voided (usual 0)") == "1 línea anulada (normal: 0)"
        assert localized_reason("cash drawer opened twice without a sale") == "la gaveta se abrió 2 veces sin venta"
        assert localized_reason("sale at 03:30, outside usual hours (07:00–21:00)") == \
            "venta a las 03:30, fuera del horario normal (07:00–21:00)"
    with use_language("es", "America/Santo_Domingo"):  # the Dominican way of writing pesos is the stored one
        assert localized_reason("price overridden by hand (Aceite Sol 1 L: RD$210.00 → RD$60.00)", "DOP") == \
            "precio cambiado a mano (Aceite Sol 1 L: RD$210.00 → RD$60.00)"
    with use_language("fr"):
        assert localized_reason("cash drawer opened once without a sale") == "tiroir-caisse ouvert une fois sans vente"


def test_money_inside_a_reason_is_written_the_readers_way() -> None:
    with use_language("fr", "America/Santo_Domingo"):
        assert localized_reason("total RD$12,500.00 is 25× the usual sale of RD$500.00", "DOP") == \
            "le total de 12\u202f500,00\u00a0RD$ fait 25× la vente habituelle de 500,00\u00a0RD$"
        assert localized_reason("price overridden by hand (Aceite Sol 1 L: RD$210.00 → RD$60.00)", "DOP") == \
            "prix modifié à la main (Aceite Sol 1 L: 210,00\u00a0RD$ → 60,00\u00a0RD$)"
    with use_language("es", "Europe/Madrid"):  # a bare "$" is the sale's currency; a code stays what it is
        assert localized_reason("discount of $4,000.00 is 40% of the sale", "USD") == \
            "el descuento de 4.000,00\u00a0US$ es el 40% de la venta"
        assert localized_reason("total XOF 1,500 (usual XOF 300)") == "total 1.500\u00a0XOF (normal: 300\u00a0XOF)"


def test_a_sentence_of_no_known_template_is_shown_as_stored() -> None:
    with use_language("es"):
        assert localized_reason("5 voids in one sale") == "5 voids in one sale"
        assert localized_reason("") == ""
