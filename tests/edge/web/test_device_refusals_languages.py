"""Refusals that used to reach the screen in English whatever the reader's language: the till's strict request
values and refunds, the checkout's own refusals, settings and staff errors (the field's key stays, the sentence is
translated), and the reasons an enrolment photo is refused (vision speaks English: its codes are worded here)."""

from __future__ import annotations

from edge.store import Store
from edge.web.photo_notes import not_a_photo, note_text
from i18n import use_language
from tests.edge.web.test_product_photos import SKU, gallery, png, upload  # noqa: F401
from tests.vision.test_gallery import product_photo
from vision.gallery.enrol import PhotoNote


def test_the_tills_refusals_answer_in_the_cashiers_language(store: Store, login_as) -> None:
    store.settings.update(language="es")
    cashier = login_as("cashier")
    assert cashier.post("/api/checkout/start", json={}).get_json()["error"] == \
        "abra su turno (cuente el fondo de caja) antes de la primera venta"
    qty = cashier.post("/api/checkout/items", json={"code": "RICE-LG-5LB", "qty": "2"})
    assert qty.status_code == 400 and qty.get_json()["error"] == "qty: debe ser un número entero"
    refund = cashier.post("/api/refunds", json={"receipt_no": "TILL-1-000001", "items": {}})
    assert refund.get_json()["error"] == "items: envíe las cantidades a devolver como {sku: cantidad}"
    nothing = cashier.post("/api/refunds", json={"receipt_no": "TILL-1-000001", "items": {"RICE-LG-5LB": 0}})
    assert nothing.get_json()["error"] == "items: elija al menos un artículo para devolver"
    store.users.set_language("ana", "fr")  # the person's own language wins over the store's
    french = login_as("cashier")
    assert french.get("/api/refunds/lookup?receipt=TILL-9-999999").get_json()["error"] == \
        "aucune vente avec le numéro de ticket 'TILL-9-999999'"


def test_settings_and_staff_errors_keep_the_key_and_translate_the_sentence(store: Store, login_as) -> None:
    store.settings.update(language="es")
    owner = login_as("owner")
    tax = owner.put("/api/settings", json={"tax_rate": "51"})
    assert tax.status_code == 400 and tax.get_json()["error"] == "tax_rate: debe estar entre 0 y 50 %"
    both = owner.put("/api/settings", json={"tax_rate": "18", "tax_rate_bp": 1800}).get_json()["error"]
    assert both.startswith("tax_rate_bp: indique la tasa de impuesto una sola vez")
    assert owner.put("/api/settings", json={"colour": "red"}).get_json()["error"] == "colour: no es un ajuste"
    role = owner.post("/api/staff", json={"id": "pepe", "name": "Pepe", "role": "boss", "pin": "4821"})
    assert role.get_json()["error"] == "role: debe ser uno de cashier, supervisor, owner"


def test_photo_refusals_are_worded_from_their_codes_in_the_readers_language(login_as, gallery, store) -> None:  # noqa: F811
    import cv2

    store.settings.update(language="es")
    owner = login_as("owner")
    resp = owner.post(f"/manage/products/{SKU}/photos", content_type="multipart/form-data", data=upload(
        ("front.png", png(product_photo(5, 1))), ("side.png", png(product_photo(5, 3))),
        ("blurry.png", png(cv2.GaussianBlur(product_photo(5, 2), (0, 0), 6))), ("notes.txt", b"not a photo"),
        ("broken.jpg", b"\xff\xd8 not really a jpeg")), follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert f"Se añadieron 2 fotos de {SKU}; la galería tiene 2" in html
    assert "blurry.png rechazada: borrosa: la nitidez" in html and "(mantenga la cámara quieta" in html
    assert "broken.jpg rechazada: ilegible: no es una imagen que la caja pueda abrir" in html
    assert "notes.txt rechazada: no es un archivo de foto (.jpg, .jpeg, .png, .bmp, .webp)" in html
    api = owner.post(f"/api/products/{SKU}/photos", content_type="multipart/form-data",
                     data=upload(("again.png", png(product_photo(5, 1))),
                                 ("tiny.png", png(product_photo(5, 4)[:20, :20]))))
    report = api.get_json()
    [again] = report["skipped"]
    assert again["code"] == "near_duplicate" and again["reason"].startswith("repite una foto que la galería ya tiene")
    [tiny] = report["refused"]
    assert (tiny["code"], tiny["values"]) == ("too_small", {"width": 20, "height": 20, "min": 48})
    assert tiny["reason"] == "demasiado pequeña: 20×20 píxeles, al menos 48 por lado"


def test_a_photo_note_of_an_unknown_code_or_shape_is_shown_as_vision_wrote_it() -> None:
    with use_language("fr"):
        assert note_text(PhotoNote("a.png", "glare: too shiny", "glare", {})) == "glare: too shiny"
        assert note_text(PhotoNote("b.png", "too small: 3x3 pixels", "too_small", {"w": 3})) == "too small: 3x3 pixels"
        assert note_text(not_a_photo("c.txt")) == "ce n'est pas un fichier photo (.jpg, .jpeg, .png, .bmp, .webp)"
        blurred = PhotoNote("d.png", "blurred", "blurred", {"sharpness": 12.34, "min": 40.0})
        assert note_text(blurred).startswith("floue : la netteté 12,3 est inférieure à 40")


def test_counts_take_each_languages_plural_form(login_as, gallery, store) -> None:  # noqa: F811
    owner = login_as("owner")
    store.settings.update(language="fr")  # French counts 0 as singular, Spanish as plural
    assert "ce produit par <strong>0</strong> photo d'exemple." in owner.get(f"/manage/products/{SKU}").get_data(
        as_text=True)
    store.settings.update(language="es")
    assert "este producto por <strong>0</strong> fotos de ejemplo." in owner.get(f"/manage/products/{SKU}").get_data(
        as_text=True)


def test_page_sentences_that_were_english_read_in_spanish(store: Store, login_as) -> None:
    from tests.edge.store.test_reports import local, make_sale

    sale = make_sale(store, local("2026-03-11 12:40"), [("MILK-PWD-360", 3)], cashier="luis",
                     anomaly={"score": 0.9, "model": "rules-v1", "reasons": ["3 lines voided in this sale"]},
                     alert=True)
    make_sale(store, local("2026-03-11 13:10"), [("RICE-LG-2LB", 1)], cashier="luis")
    store.settings.update(language="es")
    owner = login_as("owner")
    sales = owner.get("/sales?date=2026-03-11").get_data(as_text=True)
    assert "2 ventas el 2026-03-11" in sales and "2 sales on" not in sales
    one = owner.get(f"/sales/{sale.tx_id}").get_data(as_text=True)
    assert "← Ventas del 2026-03-11" in one and "(impuesto incluido:" in one and "Alerta n.º" in one
    assert "tax included" not in one and "Alert #" not in one
    customer = store.customers.get("cust-01")
    assert customer.balance == 0
    assert f"{customer.name} no debe nada." in owner.get("/manage/customers/cust-01").get_data(as_text=True)
