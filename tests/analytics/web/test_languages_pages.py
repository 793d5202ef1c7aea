"""The hub's pages follow the user's language (Flask client): the store page's tabs, headline figures and
tables' captions in Spanish and French, money as the language writes it; the store's language when the
user has none; an unknown language is refused; the login page follows the browser's."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Engine, update

from analytics.db import tables as t
from analytics.web.accounts import HubUsers
from tests.analytics.web.seed import A


def test_the_store_page_in_the_users_language(app: Flask, hub_engine: Engine, login_as) -> None:
    users = HubUsers(hub_engine)
    users.set_language("ann", "fr")
    ann = login_as("ann")
    page = ann.get(f"/stores/{A}").get_data(as_text=True)
    assert '<html lang="fr">' in page and ">Vue d'ensemble<" in page and ">Demander<" in page
    assert "Ventes d'aujourd'hui" in page and "Alertes (les 20 plus récentes)" in page
    assert "RD$" in page and "RD$130.00" not in page  # French writes 130,00 RD$
    users.set_language("ann", None)  # follow the store's language: Spanish
    with hub_engine.begin() as conn:
        conn.execute(update(t.stores).where(t.stores.c.store_id == A).values(settings={"language": "es-DO"}))
    page = ann.get(f"/stores/{A}").get_data(as_text=True)
    assert '<html lang="es">' in page and ">Resumen<" in page and "Ventas de hoy" in page


def test_the_language_api_and_the_login_page(app: Flask, login_as) -> None:
    ann = login_as("ann")
    bad = ann.post("/api/me/language", json={"language": "de"})
    assert bad.status_code == 400
    ok = ann.post("/api/me/language", json={"language": "es"})
    assert ok.status_code == 200 and ok.get_json()["user"]["language"] == "es"
    assert "Su cuenta" in ann.get("/account").get_data(as_text=True)
    login = app.test_client().get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).get_data(as_text=True)
    assert "Connexion au hub Tillsight" in login
