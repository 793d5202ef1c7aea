"""The device's JSON APIs give anomaly reasons in the requesting person's language, as its pages do: the sale
detail, the alerts list and an acknowledged alert.  The reasons as stored (English, as sent to the hub) stay in
``reasons_stored``; a sentence of no known template is given as stored."""

from __future__ import annotations

from edge.store import Store
from tests.edge.store.test_reports import local, make_sale

STORED = ["3 lines voided in this sale", "cash drawer opened twice without a sale", "5 voids in one sale"]


def test_reasons_in_the_apis_follow_the_readers_language(store: Store, login_as) -> None:
    sale = make_sale(store, local("2026-03-11 12:40"), [("MILK-PWD-360", 3)], cashier="luis",
                     anomaly={"score": 0.9, "model": "rules-v1", "reasons": STORED}, alert=True)
    owner = login_as("owner")
    english = owner.get(f"/api/sales/{sale.tx_id}").get_json()
    assert english["anomaly"]["reasons"] == STORED and english["anomaly"]["reasons_stored"] == STORED
    store.settings.update(language="es")
    detail = owner.get(f"/api/sales/{sale.tx_id}").get_json()
    spanish = ["3 líneas anuladas en esta venta", "la gaveta se abrió 2 veces sin venta", "5 voids in one sale"]
    assert detail["anomaly"]["reasons"] == spanish and detail["anomaly"]["reasons_stored"] == STORED
    assert detail["anomaly"]["score"] == 0.9
    [alert] = detail["alerts"]
    assert alert["reasons"][0] == "3 líneas anuladas en esta venta" and alert["reasons_stored"][0] == STORED[0]
    listed = owner.get("/api/alerts").get_json()["alerts"]
    mine = next(a for a in listed if a["tx_id"] == sale.tx_id)
    assert mine["reasons"][:2] == spanish[:2]
    acked = owner.post(f"/api/alerts/{mine['id']}/ack").get_json()["alert"]
    assert acked["reasons"][1] == "la gaveta se abrió 2 veces sin venta" and acked["reasons_stored"] == mine[
        "reasons_stored"]
    stored = store.db.query_one("SELECT reasons FROM alerts WHERE id = ?", (mine["id"],))
    assert "3 lines voided in this sale" in stored["reasons"]  # what is kept (and sent) does not change
