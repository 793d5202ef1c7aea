"""The texts the hub writes without AI for a Spanish or French store are in its language (issue 28): segment
personas, product descriptions, the facts' dates ("viernes, 30 de octubre de 2026", not "Friday 30 October
2026") and figures written the store's country's way, with plurals agreeing; alert explanations re-word the
device's stored reasons.  An English store reads exactly what it did before."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine, update

from analytics.db import tables as t
from analytics.jobs import results as rs
from analytics.narratives import alerts as al
from analytics.narratives import descriptions as ds
from analytics.narratives import personas as ps
from analytics.narratives.facts import build_facts
from analytics.narratives.narrative import computed_sections
from tests.analytics.narratives.support import ALERT_ID, END, STORE

# words of the English rules that no Spanish or French text has
_ENGLISH = re.compile(r"\b(customers?|bring|revenue|shoppers|sales?|the|their|them|they|Keep|Price|Category)\b")


def _speak(engine: Engine, language: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(t.stores).where(t.stores.c.store_id == STORE).values(settings={"language": language}))


@pytest.mark.parametrize(("language", "regulars", "shoppers", "customers"), [
    ("es", "Los habituales", "Compradores", "clientes aportan"),
    ("fr", "Les habitués", "Clients", "clients apportent"),
])
def test_personas_without_ai_in_the_stores_language(engine: Engine, language: str, regulars: str, shoppers: str,
                                                    customers: str) -> None:
    _speak(engine, language)
    found = ps.build_personas(engine, STORE, ai=None, save=False)
    assert len(found) == len(rs.segments(engine, STORE, [STORE], "rfm")) + len(rs.segments(engine, STORE, [STORE],
                                                                                              "basket"))
    champions = next(p for p in found if p.segment == "Champions")
    members = next(s["members"] for s in rs.segments(engine, STORE, [STORE], "rfm") if s["segment"] == "Champions")
    assert champions.name == regulars and champions.description.count(f"{members} {customers}") == 1
    assert all(p.name.startswith(shoppers) for p in found if p.kind == "basket")
    for p in found:
        for text in (p.name, p.description, *p.marketing, *p.operations):
            assert not _ENGLISH.search(text), (p.segment, text)


def test_a_french_stores_figures_are_written_the_french_way(engine: Engine) -> None:
    _speak(engine, "fr")
    facts = build_facts(engine, STORE, "daily", END)
    revenue = facts.get("revenue")
    assert revenue is not None and revenue.text.endswith("\u00a0RD$") and "," in revenue.text  # 1 234,50 RD$
    assert facts.label == "samedi 31 octobre 2026"
    assert computed_sections(facts)[0] == "Rapport du jour, samedi 31 octobre 2026"
    weekly = build_facts(engine, STORE, "weekly", END)
    assert weekly.label == "25–31 oct. 2026"


def test_the_facts_dates_in_spanish_and_unchanged_in_english(engine: Engine) -> None:
    english = build_facts(engine, STORE, "daily", END)
    assert english.label == "Saturday 31 October 2026" and english.text("period_start") == "Saturday 31 October 2026"
    _speak(engine, "es")
    spanish = build_facts(engine, STORE, "daily", END)
    assert spanish.label == "sábado, 31 de octubre de 2026" and spanish.text("period_start") == spanish.label
    assert spanish.text("revenue") == english.text("revenue")  # Santo Domingo writes pesos as RD$1,234.50
    assert computed_sections(spanish)[0] == "Informe diario, sábado, 31 de octubre de 2026"
    assert build_facts(engine, STORE, "weekly", END).label == "25–31 de octubre de 2026"


def test_product_descriptions_without_ai_in_the_stores_language(engine: Engine) -> None:
    english = ds.describe(engine, STORE, "RICE-5LB", ai=None, save=False)
    assert "Pack size: 5 lb" in english.bullets and "Price: RD$325.00" in english.bullets
    _speak(engine, "es")
    spanish = ds.describe(engine, STORE, "RICE-5LB", ai=None, save=False)
    assert "Tamaño: 5 lb" in spanish.bullets and "Precio: RD$325.00" in spanish.bullets  # es_DO writes RD$325.00
    assert spanish.short == "Rice 5Lb, 5 lb, de nuestra sección de comestibles."
    _speak(engine, "fr")
    french = ds.describe(engine, STORE, "RICE-5LB", ai=None, save=False)
    assert "Format : 5 lb" in french.bullets and "Prix : 325,00\u00a0RD$" in french.bullets
    sold = [b for b in french.bullets if b.startswith("Se vend")]
    assert all(re.fullmatch(r"Se vend régulièrement : \S+ vendus? ces 28 derniers jours", b) for b in sold)


def _device_reasons() -> list[str]:
    """Reasons as the device's rules write them into a sale (English sentences, amounts in RD$)."""
    from edge.anomaly.features import SaleFeatures
    from edge.anomaly.rules import Baseline, evaluate_rules

    features = SaleFeatures(total=5_000_000, item_count=3, manual_lines=0, voids=3, overrides=0, discount_share=0.0,
                            duration_s=60.0, local_hour=12.0, vision_mismatches=0, cashier_void_rate=0.0,
                            drawer_opens_no_sale=0, line_count=3, discount=0, unknown_items=0, unknown_removed=0)
    history = Baseline(sales=500, median_total=50_000, high_total=1_000_000,
                       usual_hours=tuple(7 <= h < 21 for h in range(24)))
    return [r.text for r in evaluate_rules(features, history, "DOP", {"lines": [], "events": []})]


def test_an_alert_explanation_rewords_the_devices_reasons(engine: Engine) -> None:
    reasons = _device_reasons()
    assert "total RD$50,000.00 is 100× the usual sale of RD$500.00" in reasons
    with engine.begin() as conn:
        conn.execute(update(t.alerts).where(t.alerts.c.alert_id == ALERT_ID).values(reasons=reasons))
    english = al.explain(engine, STORE, ALERT_ID, ai=None, save=False).details
    assert "The detector noted: total RD$50,000.00 is 100× the usual sale of RD$500.00." in english
    _speak(engine, "fr")
    french = al.explain(engine, STORE, ALERT_ID, ai=None, save=False).details
    said = "Le détecteur a noté : le total de 50\u202f000,00\u00a0RD$ fait 100× la vente habituelle de 500,00\u00a0RD$."
    assert said in french
    assert not any(reason in " ".join(french) for reason in reasons)
