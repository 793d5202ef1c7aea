"""The hub pages translated in session 3 follow the user's language (Flask client): trend, customers,
products, fleet, a deployment, dead letters, AI usage and credit show their headings, notes and the data
tables' column labels in Spanish and in French, and stay in English for a user who reads English."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import Engine

from analytics.web.accounts import HubUsers
from tests.analytics.web.seed import DEPLOY_MODEL, A

# page -> (English, Spanish, French): texts the page shows, a heading or note and a column label or caption
PAGES: dict[str, list[tuple[str, str, str]]] = {
    f"/stores/{A}/trend": [("Analytics runs (newest 10)", "Cálculos de análisis (los 10 más recientes)",
                            "Calculs d'analyse (les 10 plus récents)"),
                           ("No run yet.", "Todavía no hay cálculos.", "Aucun calcul pour l'instant."),
                           ("No analytics for this store yet", "Todavía no hay análisis de esta tienda",
                            "Pas encore d'analyse pour ce magasin")],
    f"/stores/{A}/customers": [("<title>Customers ·", "<title>Clientes ·", "<title>Clients ·")],
    f"/stores/{A}/products": [(">Cost of goods<", ">Costo de la mercancía<", ">Coût des marchandises<"),
                              (">Cost from<", ">Costo según<", ">Coût selon<")],
    "/fleet": [(">Never seen<", ">Nunca vistos<", ">Jamais vus<"),
               (">Last heard<", ">Último contacto<", ">Dernier contact<")],
    f"/fleet/deployments/{DEPLOY_MODEL}": [(">Devices in this deployment", ">Equipos de este despliegue",
                                            ">Appareils de ce déploiement")],
    "/fleet/dead-letters": [("Dead letters, newest first", "Mensajes no guardados, los más recientes primero",
                             "Messages non enregistrés, les plus récents d’abord")],
    f"/stores/{A}/ai": [("Top up and caps", "Recarga y topes", "Recharge et plafonds")],
    f"/stores/{A}/credit": [("<h2>No credit customers yet</h2>", "<h2>Todavía no hay clientes a crédito</h2>",
                             "<h2>Pas encore de clients à crédit</h2>")],
}
COLUMN = {"en": 0, "es": 1, "fr": 2}


@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_the_session_3_pages_follow_the_users_language(app: Flask, hub_engine: Engine, login_as,
                                                       language: str) -> None:
    HubUsers(hub_engine).set_language("op", language)
    op = login_as("op")
    for path, texts in PAGES.items():
        response = op.get(path)
        assert response.status_code == 200, path
        page = response.get_data(as_text=True)
        assert f'<html lang="{language}">' in page, path
        for text in texts:
            assert text[COLUMN[language]] in page, (path, text[COLUMN[language]])
            if language != "en":
                assert text[0] not in page, (path, text[0])


def test_the_table_api_labels_follow_the_users_language(app: Flask, hub_engine: Engine, login_as) -> None:
    HubUsers(hub_engine).set_language("op", "es")
    data = login_as("op").get("/api/fleet/devices").get_json()
    labels = {c["key"]: c["label"] for c in data["columns"]}
    assert data["title"] == "Equipos" and labels["last_seen"] == "Último contacto"
    states = {row["state"] for row in data["rows"]}
    assert states and states <= {"online", "offline", "never seen"}  # the data stays as stored


def test_pill_values_are_shown_in_the_users_language(app: Flask, hub_engine: Engine, login_as) -> None:
    HubUsers(hub_engine).set_language("op", "es")
    page = login_as("op").get("/fleet").get_data(as_text=True)
    assert '<span class="pill bad">sin conexión</span>' in page and '<span class="pill ok">en línea</span>' in page
    assert '<span class="pill bad">offline</span>' not in page


def test_api_refusals_answer_in_the_users_language(app: Flask, hub_engine: Engine, login_as) -> None:
    HubUsers(hub_engine).set_language("op", "es")
    op = login_as("op")
    assert op.get("/api/fleet/devices?format=pdf").get_json() == {"error": "format debe ser uno de json, csv, xlsx"}
    assert op.get("/api/stores/s-999").get_json() == {"error": "no existe la tienda 's-999'"}
    assert "days debe ser un número entero de 1 a 90" in op.get(f"/stores/{A}?days=abc").get_data(as_text=True)
    HubUsers(hub_engine).set_language("op", "fr")
    assert op.get("/api/fleet/devices?format=pdf").get_json() == {"error": "format doit être l'un de json, csv, xlsx"}
