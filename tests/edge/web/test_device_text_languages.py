"""Text made away from the templates follows the reader's language too: the teach screen's progress
messages (written by the teaching thread), the store's refusals, the device-health values and the anomaly
reasons stored in English in each sale."""

from __future__ import annotations

import pytest

from edge.store import Store
from edge.web.teach_session import Teacher, TeachError, tray_refusal
from i18n import use_language
from tests.edge.store.test_reports import local, make_sale
from tests.edge.web.test_teach import ScriptedTray, put_down, teacher, tray, wait_status  # noqa: F401
from tests.support.tray import empty_tray

SKU = "SODA-KOLA-2L"


def test_teaching_speaks_the_language_of_whoever_started_it(teacher: Teacher, tray: ScriptedTray) -> None:  # noqa: F811
    with use_language("es"):
        status = teacher.start(SKU, "Kola Real 2 L", "maria")
    assert status["message"] == "Quite todo de la bandeja y aleje las manos."
    # the teaching thread writes the next steps, in Spanish although it runs outside any request
    status = wait_status(teacher, lambda s: s["state"] == "capturing", "the empty tray")
    assert status["message"] == "Ponga Kola Real 2 L solo en el medio de la bandeja y suéltelo."
    status = put_down(teacher, tray, 0, 1)
    assert status["message"].startswith("Vista 1 guardada. Voltéelo")
    with use_language("es"), pytest.raises(TeachError) as refused:
        teacher.start(SKU, "Kola Real 2 L", "ana")
    assert str(refused.value) == ("maria está enseñando Kola Real 2 L (SODA-KOLA-2L) ahora: "
                                  "apruebe o cancele eso primero")
    tray.show(empty_tray(), 0)


def test_tray_refusals_are_reworded_and_unknown_ones_shown_as_they_are() -> None:
    refusal = "the camera sees 2 products on the tray: put the product alone on the empty tray"
    assert tray_refusal(refusal) == refusal
    with use_language("es"):
        assert tray_refusal(refusal) == ("la cámara ve 2 productos en la bandeja: "
                                         "ponga el producto solo en la bandeja vacía")
        assert tray_refusal("looks the same as view 3: turn the product over") == \
            "se ve igual que la vista 3: voltee el producto"
        assert tray_refusal("something new") == "something new"
    with use_language("fr"):
        assert tray_refusal("5 views are enough: approve them") == "5 vues suffisent : approuvez-les"


def test_a_store_refusal_reaches_a_spanish_reader_in_spanish(store: Store, login_as) -> None:
    owner = login_as("owner")
    assert owner.get("/api/suppliers/9999").get_json() == {"error": "no supplier 9999"}
    store.settings.update(language="es")
    resp = owner.get("/api/suppliers/9999")
    assert resp.status_code == 404 and resp.get_json() == {"error": "no existe el suplidor 9999"}


def test_the_dashboard_shows_stored_anomaly_reasons_and_health_in_the_readers_language(store: Store,
                                                                                       login_as) -> None:
    sale = make_sale(store, local("2026-03-11 12:40"), [("MILK-PWD-360", 3)], cashier="luis",
                     anomaly={"score": 0.9, "model": "rules-v1",
                              "reasons": ["3 lines voided in this sale", "cash drawer opened twice without a sale",
                                          "5 voids in one sale"]}, alert=True)
    owner = login_as("owner")
    english = owner.get(f"/sales/{sale.tx_id}").get_data(as_text=True)
    assert "3 lines voided in this sale" in english and "cash drawer opened twice without a sale" in english
    store.settings.update(language="es")
    spanish = owner.get(f"/sales/{sale.tx_id}").get_data(as_text=True)
    assert "3 líneas anuladas en esta venta" in spanish and "la gaveta se abrió 2 veces sin venta" in spanish
    assert "5 voids in one sale" in spanish  # a sentence of no known template stays as stored
    assert "3 lines voided" not in spanish
    assert ">puntuación 0.90<" in spanish and "modelo rules-v1" in spanish
    nav = owner.get("/manage/suppliers").get_data(as_text=True)
    assert ">Recepción</a>" in nav and ">Suplidores</a>" in nav


def test_device_health_values_read_in_spanish(store: Store, login_as, web_context) -> None:
    web_context.health = lambda: {"camera_fps": 9.46, "camera_state": "reconnecting", "vision_alive": False,
                                  "sync_backlog": 1}
    owner = login_as("owner")
    english = {i["key"]: i["text"] for i in owner.get("/api/dashboard/health").get_json()["items"]}
    assert english["camera_state"] == "reconnecting" and english["vision_alive"] == "stopped"
    store.settings.update(language="es")
    items = {i["key"]: i["text"] for i in owner.get("/api/dashboard/health").get_json()["items"]}
    assert items["camera_state"] == "reconectando" and items["vision_alive"] == "detenido"
    assert items["camera_fps"] == "9.5 imágenes/s" and items["sync_backlog"] == "1 mensaje"
