"""The device speaks the store's language, each person may prefer another, and receipts follow the store."""

from __future__ import annotations

import json
import re

from edge.checkout.escpos import receipt_bytes
from edge.checkout.receipt import ReceiptHeader, receipt_text
from edge.store import Store
from tests.edge.checkout.helpers import quick_sale


def _visible(html: str) -> str:
    """The page without the catalogue its scripts read (whose keys are the English messages)."""
    return re.sub(r'<script type="application/json" id="i18n-catalogue">.*?</script>', "", html, flags=re.S)


def _catalogue(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="i18n-catalogue">(.*?)</script>', html, re.S)
    assert m, "the page embeds no catalogue for its scripts"
    return json.loads(m.group(1))


def test_a_spanish_store_shows_spanish_screens_to_everyone_who_has_no_preference(store: Store, login_as):
    store.settings.update(language="es")
    till = login_as("cashier").get("/till").get_data(as_text=True)
    assert '<html lang="es">' in till
    assert "Iniciar venta" in till and "Start sale" not in _visible(till)
    assert "Abra su turno" in till and "Fondo inicial (DOP)" in till
    scripts = _catalogue(till)  # the till's JavaScript reads the same catalogue
    assert scripts["language"] == "es" and scripts["locale"] == "es-DO"
    assert scripts["messages"]["No sale"] == "Sin venta"
    assert scripts["messages"]["%(num)d item"] == ["%(num)d artículo", "%(num)d artículos"]
    assert scripts["money"]["prefix"] == "RD$"
    login = login_as("owner").client.get("/login").get_data(as_text=True)
    assert '<html lang="es">' in login


def test_a_person_who_prefers_french_sees_french_while_the_store_stays_spanish(store: Store, login_as):
    store.settings.update(language="es")
    owner = login_as("owner")
    resp = owner.post("/manage/staff/ana", data={"name": "Ana", "role": "cashier", "language": "fr"})
    assert resp.status_code in (302, 303), resp.get_data(as_text=True)
    assert store.users.language("ana") == "fr"
    till = login_as("cashier").get("/till").get_data(as_text=True)
    assert '<html lang="fr">' in till and "Commencer la vente" in till
    assert "Iniciar venta" in login_as("supervisor").get("/till").get_data(as_text=True)  # maria follows the store
    # back to the store's language
    owner.post("/manage/staff/ana", data={"name": "Ana", "role": "cashier", "language": ""})
    assert store.users.language("ana") is None
    assert "Iniciar venta" in login_as("cashier").get("/till").get_data(as_text=True)


def test_the_owner_sets_the_store_language_on_the_settings_page(store: Store, login_as):
    owner = login_as("owner")
    page = owner.get("/manage/settings").get_data(as_text=True)
    assert 'name="language"' in page and "Español" in page and "Français" in page
    assert owner.put("/api/settings", json={"language": "fr"}).status_code == 200
    assert store.settings.get().language == "fr"
    assert "Réglages du magasin" in owner.get("/manage/settings").get_data(as_text=True)
    refused = owner.put("/api/settings", json={"language": "de"})
    assert refused.status_code == 400 and "langue inconnue de" in refused.get_json()["error"]
    assert store.settings.get().language == "fr"


def test_the_receipt_prints_in_the_store_language_with_its_accents(store: Store):
    sale = store.sales.record(quick_sale(store, "OIL-SOL-1L", "SUGAR-2LB"))
    spanish = receipt_text(sale, ReceiptHeader("Café ñandú", "", "America/Santo_Domingo", "¡Gracias!", 1800,
                                               cashier_name="Ana", language="es"), 42)
    assert "VENTA" in spanish and f"Recibo {sale.receipt_no}" in spanish and "Cajero: Ana" in spanish
    assert "TOTAL DOP" in spanish and "ITBIS incl. 18%" in spanish and "270.00" in spanish  # es_DO: 270.00
    french = receipt_text(sale, ReceiptHeader("Café ñandú", "", "America/Santo_Domingo", "Merci !", 1800,
                                              cashier_name="Ana", language="fr"), 42)
    assert "VENTE" in french and "Caissier : Ana" in french and "270,00" in french and "dont TVA 18" in french
    job = receipt_bytes(spanish, "cp858")
    assert "Café ñandú".encode("cp858") in job and "ITBIS incl.".encode("cp858") in job
    assert all(len(line) <= 42 for line in french.splitlines())
