"""Messages to a customer follow the customer's language (set by the owner on the hub's Credit tab),
else the store's: the device's morning reminders and the composer write each customer's reminder in
English, Spanish or French, with the amount as that language writes it; a device update of the
customer never resets the choice; a viewer cannot set it and a bad language is refused."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Engine, update

from analytics.credit.reminders import device_reminders
from analytics.credit.templates import format_amount
from analytics.db import tables as t
from analytics.ingest.credit import _upsert_customer
from tests.analytics.credit.support import NOW
from tests.analytics.credit.test_web import _login, app  # noqa: F401 - pytest fixture

EXPECT = {  # the friendly SMS's opening in each language
    "en": "Hi ", "es": "Hola ", "fr": "Bonjour ",
}


def _language(message: str) -> str:
    return next(lang for lang, opening in EXPECT.items() if message.startswith(opening))


def _spanish_store(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(update(t.stores).where(t.stores.c.store_id == "s-cr").values(settings={"language": "es-DO"}))


def test_each_customer_gets_the_reminder_in_their_language(app: Flask, sqlite_engine: Engine) -> None:  # noqa: F811
    _spanish_store(sqlite_engine)
    ann, token = _login(app, "ann")
    for customer, language in (("c-late", "fr"), ("c-stop", "en")):
        resp = ann.post(f"/api/stores/s-cr/credit/customers/{customer}/language", json={"language": language},
                        headers={"X-CSRFToken": token})
        assert resp.status_code == 200 and resp.get_json()["messages_in"] == language
    reminders = {r["customer_id"]: r for r in device_reminders(sqlite_engine, "s-cr", NOW)}
    languages = {cid: _language(r["message"]) for cid, r in reminders.items()}
    assert languages["c-late"] == "fr" and languages["c-stop"] == "en"
    assert {lang for cid, lang in languages.items() if cid not in ("c-late", "c-stop")} == {"es"}  # the store's
    for r in reminders.values():
        lang = _language(r["message"])
        assert format_amount(r["balance"], "DOP", lang) in r["message"]

    # the composer, asked for no language, writes in the customer's; every channel in that language
    for customer, opening in (("c-late", "Bonjour"), ("c-stop", "Hi"), ("c-new", "Hola")):
        msg = ann.post("/api/stores/s-cr/credit/message", json={"customer_id": customer, "tone": "friendly"},
                       headers={"X-CSRFToken": token})
        body = msg.get_json()
        assert msg.status_code == 200, body
        assert body["sms"].startswith(opening) and body["source"] == "computed"
        assert body["language"] == {"Bonjour": "fr", "Hi": "en", "Hola": "es"}[opening]

    # clearing it goes back to the store's language
    ann.post("/api/stores/s-cr/credit/customers/c-late/language", json={"language": ""}, headers={"X-CSRFToken": token})
    again = {r["customer_id"]: _language(r["message"]) for r in device_reminders(sqlite_engine, "s-cr", NOW)}
    assert again["c-late"] == "es"


def test_a_device_update_keeps_the_customers_language(app: Flask, sqlite_engine: Engine) -> None:  # noqa: F811
    ann, token = _login(app, "ann")
    ann.post("/api/stores/s-cr/credit/customers/c-late/language", json={"language": "fr"},
             headers={"X-CSRFToken": token})
    with sqlite_engine.begin() as conn:  # the device reports Luis again (a newer event), through the ingest's upsert
        assert _upsert_customer(conn, {
            "store_id": "s-cr", "customer_id": "c-late", "name": "Luis Late", "phone": None, "credit_limit": 250000,
            "active": True, "balance": 124000, "updated_at": "2030-01-01T00:00:00Z", "device_id": "till-9",
            "currency": "DOP", "event_id": "e-newer", "seq": 99, "received_at": "2030-01-01T00:00:01Z"})
    late = next(r for r in device_reminders(sqlite_engine, "s-cr", NOW) if r["customer_id"] == "c-late")
    assert _language(late["message"]) == "fr"


def test_only_the_owner_sets_a_language_and_only_a_shipped_one(app: Flask) -> None:  # noqa: F811
    val, vtoken = _login(app, "val")
    assert val.post("/api/stores/s-cr/credit/customers/c-late/language", json={"language": "fr"},
                    headers={"X-CSRFToken": vtoken}).status_code == 403
    ann, token = _login(app, "ann")
    bad = ann.post("/api/stores/s-cr/credit/customers/c-late/language", json={"language": "de"},
                   headers={"X-CSRFToken": token})
    assert bad.status_code == 400 and "language must be one of en, es, fr" in bad.get_json()["error"]
    assert ann.post("/api/stores/s-cr/credit/customers/nobody/language", json={"language": "fr"},
                    headers={"X-CSRFToken": token}).status_code == 404
