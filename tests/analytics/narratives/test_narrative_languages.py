"""The computed narrative (no AI) is written in the store's language: a Spanish or French store gets its
daily report's title, section names and sentences from the catalogue with the same figures, percentages as
the store's country writes them and plurals agreeing ("1 venta fue anulada", "2 ventas fueron anuladas")."""

from __future__ import annotations

import dataclasses

from analytics.narratives.facts import Fact
from analytics.narratives.narrative import computed_sections, render_text
from tests.analytics.narratives.test_factcheck import facts


def test_the_computed_narrative_in_spanish_and_french() -> None:
    f = facts()
    english = computed_sections(f)
    spanish = computed_sections(dataclasses.replace(f, language="es"))
    french = computed_sections(dataclasses.replace(f, language="fr"))
    assert english[0] == "Daily report, Friday 30 October 2026"
    assert spanish[0] == "Informe diario, Friday 30 October 2026"  # the facts' label stays as the facts wrote it
    assert french[0].startswith("Rapport du jour")
    assert spanish[1]["what_happened"][0] == (
        "Los ingresos fueron RD$1,234.56 con 42 ventas, una compra media de RD$29.39.")
    assert french[1]["what_happened"][0] == (
        "Le chiffre d'affaires a été de RD$1,234.56 pour 42 ventes, un panier moyen de RD$29.39.")
    # Santo Domingo writes 12.3% (es_DO); French writes 12,3 %
    assert spanish[1]["what_changed"][0] == (
        "Los ingresos variaron a la baja un 12.3% respecto al día anterior (RD$18,750.00).")
    assert french[1]["what_changed"][0].replace("\u202f", " ").replace("\u00a0", " ") == (
        "Le chiffre d'affaires était en baisse de 12,3 % par rapport à la veille (RD$18,750.00).")
    text = render_text(*spanish, language="es")
    assert "Qué cambió:" in text and "Riesgos:" in text and "What" not in text


def test_plurals_agree_in_each_language() -> None:
    for n, es, fr in ((1, "1 venta fue anulada.", "1 vente a été annulée."),
                      (2, "2 ventas fueron anuladas.", "2 ventes ont été annulées.")):
        f = facts()
        f = dataclasses.replace(f, items=[*f.items, Fact("voided_sales", "Voided sales", "count", n, str(n))])
        assert es in computed_sections(dataclasses.replace(f, language="es"))[1]["what_happened"]
        assert fr in computed_sections(dataclasses.replace(f, language="fr"))[1]["what_happened"]


def test_an_alert_is_explained_in_the_stores_language_without_an_llm(engine) -> None:
    from sqlalchemy import update

    from analytics.db import tables as t
    from analytics.narratives import alerts as al
    from tests.analytics.narratives.support import ALERT_ID, STORE

    with engine.begin() as conn:
        conn.execute(update(t.stores).where(t.stores.c.store_id == STORE).values(settings={"language": "es"}))
    exp = al.explain(engine, STORE, ALERT_ID, ai=None)
    assert exp.summary.startswith("La caja marcó esta venta a las") and "RD$115.00" in exp.summary
    text = " ".join(exp.details)
    assert "se quitó una línea de la cesta" in text and "se cambió un precio a mano" in text
    assert "grabación de la cámara" in exp.advice
