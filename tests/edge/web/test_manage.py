"""Management pages and API: catalogue, staff, settings, credit customers, stock count."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.demo.seed import seed_store
from edge.store import Store
from tests.edge.web.conftest import csrf_token


@pytest.fixture(scope="session")
def seeded_store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seed once (hashing the demo PINs is the slow part); each test gets its own copy."""
    path = tmp_path_factory.mktemp("seeded") / "store.db"
    s = Store(path)
    seed_store(s)
    s.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    return path


@pytest.fixture
def store(seeded_store_file: Path, tmp_path: Path) -> Iterator[Store]:
    """Overrides the conftest ``store``: the same seeded store, copied from the session's template."""
    target = tmp_path / "store.db"
    shutil.copyfile(seeded_store_file, target)
    s = Store(target)
    yield s
    s.close()


def _first_products(store, n: int = 3):
    return store.products.list()[:n]


def _form(session, path: str, data: dict, follow: bool = False):
    """A browser-style form post: the CSRF token travels as the hidden ``csrf_token`` field."""
    return session.client.post(path, data={"csrf_token": session.token, **data}, follow_redirects=follow)


# -- catalogue ---------------------------------------------------------------------------------
def test_product_round_trip_through_the_api(login_as, store):
    owner = login_as("owner")
    resp = owner.post("/api/products", json={"sku": "SOAP-BAR", "name": "Soap bar", "price": "12.50",
                                             "barcode": "7701234500017", "category": "Household",
                                             "reorder_level": 4, "stock": 10})
    assert resp.status_code == 201, resp.get_json()
    p = resp.get_json()["product"]
    assert (p["price"], p["stock_qty"], p["barcode"], p["reorder_level"], p["active"]) == \
        (1250, 10, "7701234500017", 4, True)
    assert store.products.get("SOAP-BAR").price == 1250
    opening = store.stock.movements("SOAP-BAR")
    assert [(m.delta, m.reason, m.note, m.user_id) for m in opening] == [(10, "receiving", "opening stock", "owner")]

    listed = owner.get("/api/products?q=soap bar").get_json()["products"]
    assert [x["sku"] for x in listed] == ["SOAP-BAR"]

    resp = owner.put("/api/products/SOAP-BAR", json={"price": "13.75", "name": "Soap bar (lavender)"})
    assert resp.status_code == 200
    assert resp.get_json()["product"]["price"] == 1375
    again = store.products.get("SOAP-BAR")
    assert (again.name, again.price, again.barcode, again.category) == \
        ("Soap bar (lavender)", 1375, "7701234500017", "Household")

    resp = owner.post("/api/products/SOAP-BAR/receive", json={"qty": 24, "note": "supplier invoice 88"})
    assert resp.status_code == 200 and resp.get_json()["received"] == 24
    assert store.products.get("SOAP-BAR").stock_qty == 34
    assert store.stock.movements("SOAP-BAR")[0].note == "supplier invoice 88"


def test_a_json_integer_price_is_minor_units(login_as, store):
    owner = login_as("owner")
    assert owner.post("/api/products", json={"sku": "GUM", "name": "Gum", "price": 1250}).status_code == 201
    assert store.products.get("GUM").price == 1250
    assert owner.put("/api/products/GUM", json={"price": "7"}).status_code == 200  # typed "7" means 7.00
    assert store.products.get("GUM").price == 700


def test_deactivated_product_is_not_found_by_barcode(login_as, store):
    owner = login_as("owner")
    product = next(p for p in store.products.list() if p.barcode)
    assert store.products.by_barcode(product.barcode).sku == product.sku
    resp = owner.post(f"/api/products/{product.sku}/active", json={"active": False})
    assert resp.status_code == 200 and resp.get_json()["product"]["active"] is False
    assert store.products.by_barcode(product.barcode) is None
    skus = {p["sku"] for p in owner.get("/api/products").get_json()["products"]}
    assert product.sku not in skus
    assert product.sku in {p["sku"] for p in owner.get("/api/products?all=1").get_json()["products"]}
    # a cashier reads the catalogue but never sees inactive products, even asking for them
    cashier = login_as("cashier")
    assert product.sku not in {p["sku"] for p in cashier.get("/api/products?all=1").get_json()["products"]}
    assert owner.post(f"/api/products/{product.sku}/active", json={"active": True}).status_code == 200
    assert store.products.by_barcode(product.barcode).sku == product.sku


def test_barcodes_are_unique(login_as, store):
    owner = login_as("owner")
    a, b = [p for p in store.products.list() if p.barcode][:2]
    resp = owner.post("/api/products", json={"sku": "DUP-1", "name": "Copy", "price": "1.00", "barcode": a.barcode})
    assert resp.status_code == 400
    assert resp.get_json()["error"].startswith("barcode:") and a.sku in resp.get_json()["error"]
    assert store.products.find("DUP-1") is None
    resp = owner.put(f"/api/products/{b.sku}", json={"barcode": a.barcode})
    assert resp.status_code == 400
    assert store.products.get(b.sku).barcode == b.barcode
    # a product keeps its own barcode when saved again, and can drop it
    assert owner.put(f"/api/products/{a.sku}", json={"barcode": a.barcode, "name": a.name}).status_code == 200
    assert owner.put(f"/api/products/{a.sku}", json={"barcode": ""}).status_code == 200
    assert store.products.get(a.sku).barcode is None


def test_duplicate_sku_is_a_conflict(login_as, store):
    owner = login_as("owner")
    sku = store.products.list()[0].sku
    for variant in (sku, sku.lower()):
        resp = owner.post("/api/products", json={"sku": variant, "name": "Again", "price": "1.00"})
        assert resp.status_code == 409, variant
    assert store.products.get(sku).name != "Again"


def test_unknown_product_is_404(login_as):
    owner = login_as("owner")
    assert owner.put("/api/products/NOPE-404", json={"name": "x"}).status_code == 404
    assert owner.post("/api/products/NOPE-404/receive", json={"qty": 1}).status_code == 404
    assert owner.get("/manage/products/NOPE-404").status_code == 404


def test_catalogue_pages_round_trip(login_as, store):
    owner = login_as("owner")
    page = owner.get("/manage/products")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    first = store.products.list()[0]
    assert first.sku in html and "Add a product" in html

    resp = _form(owner, "/manage/products", {"sku": "TEA-20", "name": "Green tea 20 bags", "price": "3.40",
                                             "barcode": "7701234500024", "category": "Drinks",
                                             "reorder_level": "5", "stock": ""})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/manage/products/TEA-20")
    assert store.products.get("TEA-20").price == 340
    detail = owner.get("/manage/products/TEA-20").get_data(as_text=True)
    assert "Green tea 20 bags" in detail and "Added TEA-20" in detail and 'value="3.40"' in detail

    resp = _form(owner, "/manage/products/TEA-20", {"name": "Green tea 20 bags", "price": "3.95",
                                                    "barcode": "7701234500024", "category": "Drinks",
                                                    "reorder_level": "6"})
    assert resp.status_code == 303
    assert (store.products.get("TEA-20").price, store.products.get("TEA-20").reorder_level) == (395, 6)

    assert _form(owner, "/manage/products/TEA-20/receive", {"qty": "12", "note": "delivery"}).status_code == 303
    assert store.products.get("TEA-20").stock_qty == 12

    assert _form(owner, "/manage/products/TEA-20/active", {"active": "0"}).status_code == 303
    assert store.products.get("TEA-20").active is False
    listing = owner.get("/manage/products?status=inactive").get_data(as_text=True)
    assert "TEA-20" in listing and first.sku not in listing

    # a refused edit shows the page again with the message and what was typed
    resp = _form(owner, "/manage/products/TEA-20", {"name": "Green tea", "price": "3.999", "barcode": "",
                                                    "category": "Drinks", "reorder_level": "6"})
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'id="form-error"' in html and "price:" in html and 'value="3.999"' in html
    assert store.products.get("TEA-20").price == 395


def test_catalogue_search_filters_the_table(login_as, store):
    owner = login_as("owner")
    target = store.products.list()[5]
    html = owner.get(f"/manage/products?q={target.sku}").get_data(as_text=True)
    rows = re.findall(r'<tr data-sku="([^"]+)"', html)
    assert rows == [target.sku]
    cat = target.category
    html = owner.get(f"/manage/products?category={cat}").get_data(as_text=True)
    rows = re.findall(r'<tr data-sku="([^"]+)"', html)
    assert set(rows) == {p.sku for p in store.products.list() if p.category == cat}


def test_cashier_reads_the_catalogue_but_cannot_change_it(login_as, store):
    cashier = login_as("cashier")
    resp = cashier.get("/api/products")
    assert resp.status_code == 200 and len(resp.get_json()["products"]) == len(store.products.list())
    assert cashier.post("/api/products", json={"sku": "X-1", "name": "x", "price": "1.00"}).status_code == 403
    assert store.products.find("X-1") is None


# -- staff ---------------------------------------------------------------------------------------
def test_add_a_cashier_who_logs_in_with_the_new_pin(app, login_as, store):
    owner = login_as("owner")
    resp = owner.post("/api/staff", json={"id": "pedro", "name": "Pedro", "role": "cashier", "pin": "4826"})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_data(as_text=True)
    assert "scrypt" not in body and "4826" not in body and "hash" not in body
    assert resp.get_json()["user"] == {"id": "pedro", "name": "Pedro", "role": "cashier", "active": True,
                                       "has_pin": True, "has_password": False, "failed_attempts": 0,
                                       "locked": False, "locked_until": None, "language": None}
    client = app.test_client()
    token = csrf_token(client)
    login = client.post("/api/login", json={"user_id": "pedro", "pin": "4826"}, headers={"X-CSRFToken": token})
    assert login.status_code == 200 and login.get_json()["user"]["role"] == "cashier"
    assert "scrypt$" not in owner.get("/api/staff").get_data(as_text=True)
    assert "scrypt$" not in owner.get("/manage/staff").get_data(as_text=True)


def test_staff_pages_add_then_change_pin_and_role(app, login_as, store):
    owner = login_as("owner")
    assert "Add a staff member" in owner.get("/manage/staff").get_data(as_text=True)
    resp = _form(owner, "/manage/staff", {"id": "Carla", "name": "Carla", "role": "supervisor", "pin": "5820",
                                          "password": ""})
    assert resp.status_code == 303
    assert store.users.get("carla").role == "supervisor"  # ids are lower case
    resp = _form(owner, "/manage/staff/carla", {"name": "Carla R.", "role": "cashier", "pin": "6391", "password": ""})
    assert resp.status_code == 303
    carla = store.users.get("carla")
    assert (carla.name, carla.role) == ("Carla R.", "cashier")
    client = app.test_client()
    token = csrf_token(client)
    old = client.post("/api/login", json={"user_id": "carla", "pin": "5820"}, headers={"X-CSRFToken": token})
    new = client.post("/api/login", json={"user_id": "carla", "pin": "6391"}, headers={"X-CSRFToken": token})
    assert old.status_code == 401 and new.status_code == 200
    # the form never echoes a PIN back
    page = _form(owner, "/manage/staff/carla", {"name": "Carla", "role": "cashier", "pin": "1111"})
    assert page.status_code == 400 and "1111" not in page.get_data(as_text=True)
    assert "pin:" in page.get_data(as_text=True)


WEAK_STAFF = [
    ({"id": "x1", "name": "X", "role": "cashier"}, "pin"),
    ({"id": "x1", "name": "X", "role": "cashier", "pin": "1111"}, "pin"),
    ({"id": "x1", "name": "X", "role": "cashier", "pin": "3456"}, "pin"),
    ({"id": "x1", "name": "X", "role": "cashier", "pin": "12a4"}, "pin"),
    ({"id": "x1", "name": "X", "role": "owner", "pin": "4826"}, "password"),
    ({"id": "x1", "name": "X", "role": "owner", "password": "short"}, "password"),
    ({"id": "x1", "name": "X", "role": "admin", "pin": "4826"}, "role"),
    ({"id": "X 1", "name": "X", "role": "cashier", "pin": "4826"}, "id"),
]


def test_weak_or_missing_secrets_are_refused(login_as, store):
    owner = login_as("owner")
    for body, field in WEAK_STAFF:
        resp = owner.post("/api/staff", json=body)
        assert resp.status_code == 400, body
        assert resp.get_json()["error"].startswith(f"{field}:"), (body, resp.get_json())
        assert store.users.find("x1") is None and store.users.find("x 1") is None


def test_existing_staff_id_is_a_conflict(login_as, store):
    owner = login_as("owner")
    resp = owner.post("/api/staff", json={"id": "ana", "name": "Other Ana", "role": "cashier", "pin": "4826"})
    assert resp.status_code == 409
    assert store.users.get("ana").name == "Ana"


def test_the_last_active_owner_cannot_be_demoted_or_deactivated(login_as, store):
    owner = login_as("owner")
    for change in ({"role": "supervisor"}, {"active": False}, {"role": "cashier", "active": False}):
        resp = owner.put("/api/staff/owner", json=change)
        assert resp.status_code == 409 and "last active owner" in resp.get_json()["error"], change
    assert store.users.get("owner").role == "owner" and store.users.get("owner").active
    page = _form(owner, "/manage/staff/owner", {"active": "0"})
    assert page.status_code == 409 and "last active owner" in page.get_data(as_text=True)
    # with a second owner, the first may step down
    resp = owner.post("/api/staff",
                      json={"id": "boss", "name": "Boss", "role": "owner", "password": "another-owner-pw"})
    assert resp.status_code == 201
    resp = owner.put("/api/staff/owner", json={"role": "supervisor"})
    assert resp.status_code == 200 and store.users.get("owner").role == "supervisor"
    # ...which ends the old owner's session: the role in the cookie is not trusted
    assert owner.get("/api/staff").status_code == 401
    # and now "boss" is the last owner
    boss = store.users.get("boss")
    assert boss.role == "owner" and store.users.count_owners() == 1


def test_deactivated_staff_cannot_log_in(app, login_as, store):
    owner = login_as("owner")
    cashier = login_as("cashier")
    assert owner.put("/api/staff/ana", json={"active": False}).status_code == 200
    assert cashier.get("/api/me").status_code == 401
    client = app.test_client()
    token = csrf_token(client)
    resp = client.post("/api/login", json={"user_id": "ana", "pin": "1357"}, headers={"X-CSRFToken": token})
    assert resp.status_code == 401


def test_unlock_resets_the_lock_out(app, login_as, store):
    client = app.test_client()
    token = csrf_token(client)
    for _ in range(5):
        client.post("/api/login", json={"user_id": "luis", "pin": "0000"}, headers={"X-CSRFToken": token})
    right = client.post("/api/login", json={"user_id": "luis", "pin": "2468"}, headers={"X-CSRFToken": token})
    assert right.status_code == 401 and "locked out" in right.get_json()["error"]
    owner = login_as("owner")
    luis = next(u for u in owner.get("/api/staff").get_json()["staff"] if u["id"] == "luis")
    assert luis["locked"] is True and luis["failed_attempts"] == 5
    assert "locked out" in owner.get("/manage/staff").get_data(as_text=True)
    resp = owner.post("/api/staff/luis/unlock")
    assert resp.status_code == 200
    assert resp.get_json()["user"]["locked"] is False and resp.get_json()["user"]["failed_attempts"] == 0
    right = client.post("/api/login", json={"user_id": "luis", "pin": "2468"}, headers={"X-CSRFToken": token})
    assert right.status_code == 200


def test_unlock_through_the_page(app, login_as, store):
    store.users.record_failure("maria", "2999-01-01T00:00:00Z")
    owner = login_as("owner")
    assert "locked out until" in owner.get("/manage/staff/maria").get_data(as_text=True)
    assert _form(owner, "/manage/staff/maria/unlock", {}).status_code == 303
    maria = store.users.get("maria")
    assert maria.locked_until is None and maria.failed_attempts == 0


# -- settings ------------------------------------------------------------------------------------
def test_settings_round_trip_reaches_the_till(login_as, store, web_context):
    calls = []
    web_context.on_settings_changed = lambda: calls.append(1)
    owner = login_as("owner")
    assert owner.get("/api/settings").get_json()["settings"]["tax_rate_percent"] == "18.00"
    resp = owner.put("/api/settings", json={"store_name": "Colmado Nuevo", "tax_rate": "16", "currency": "usd",
                                            "timezone": "America/New_York", "receipt_footer": "Gracias",
                                            "address": "Calle 5, Santiago", "low_stock_default": 7})
    assert resp.status_code == 200, resp.get_json()
    s = store.settings.get()
    assert (s.store_name, s.tax_rate_bp, s.currency, s.timezone, s.receipt_footer, s.address, s.low_stock_default) == \
        ("Colmado Nuevo", 1600, "USD", "America/New_York", "Gracias", "Calle 5, Santiago", 7)
    assert web_context.checkout.session.tax_rate_bp == 1600 and web_context.checkout.session.currency == "USD"
    assert calls
    assert owner.put("/api/settings", json={"tax_rate": "7.25"}).get_json()["settings"]["tax_rate_bp"] == 725
    # a new product starts with the default reorder level
    owner.post("/api/products", json={"sku": "NEW-DEF", "name": "Defaulted", "price": "1.00"})
    assert store.products.get("NEW-DEF").reorder_level == 7


BAD_SETTINGS = [
    ({"tax_rate": "18.555"}, "tax_rate"), ({"tax_rate": "51"}, "tax_rate"), ({"tax_rate": "-1"}, "tax_rate"),
    ({"tax_rate": "eighteen"}, "tax_rate"), ({"tax_rate_bp": 9000}, "tax_rate_bp"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"), ({"timezone": ""}, "timezone"),
    ({"currency": "US"}, "currency"), ({"currency": "DOLLAR"}, "currency"), ({"currency": "1A2"}, "currency"),
    ({"currency": "JPY"}, "currency"),  # 0 decimals: every stored price would change meaning
    ({"store_name": ""}, "store_name"), ({"low_stock_default": -3}, "low_stock_default"),
    ({"colour": "red"}, "colour"),
]


def test_settings_errors_name_the_field(login_as, store):
    before = store.settings.get()
    owner = login_as("owner")
    for change, field in BAD_SETTINGS:
        resp = owner.put("/api/settings", json=change)
        assert resp.status_code == 400, change
        assert resp.get_json()["error"].startswith(f"{field}:"), (change, resp.get_json())
        assert store.settings.get() == before


def test_settings_page_form(login_as, store):
    owner = login_as("owner")
    html = owner.get("/manage/settings").get_data(as_text=True)
    assert 'value="18.00"' in html and '<option value="America/Santo_Domingo" selected>' in html
    form = {"store_name": "La Esquina", "address": "", "currency": "DOP", "tax_rate": "18", "timezone": "UTC",
            "receipt_footer": "Vuelva pronto", "low_stock_default": "5"}
    assert _form(owner, "/manage/settings", form).status_code == 303
    assert store.settings.get().timezone == "UTC" and store.settings.get().store_name == "La Esquina"
    bad = _form(owner, "/manage/settings", {**form, "timezone": "Atlantis/Capital"})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "timezone:" in html and 'class="field invalid"' in html
    assert store.settings.get().timezone == "UTC"


# -- credit customers ----------------------------------------------------------------------------
def _owe(store, customer_id: str, amount: int) -> None:
    with store.db.transaction() as conn:  # what a credit sale does to the balance
        conn.execute("UPDATE customers SET balance = ? WHERE id = ?", (amount, customer_id))


def test_customer_round_trip_and_repayments(login_as, store):
    owner = login_as("owner")
    resp = owner.post("/api/manage/customers", json={"name": "Ferretería Luz", "phone": "809-555-0199",
                                                     "credit_limit": "1500.00"})
    assert resp.status_code == 201
    c = resp.get_json()["customer"]
    assert (c["credit_limit"], c["balance"], c["available_credit"]) == (150000, 0, 150000)
    cid = c["id"]
    resp = owner.put(f"/api/manage/customers/{cid}", json={"credit_limit": "2000", "phone": "829-555-0100"})
    assert resp.status_code == 200
    _owe(store, cid, 50000)
    listed = next(x for x in owner.get("/api/manage/customers").get_json()["customers"] if x["id"] == cid)
    assert (listed["credit_limit"], listed["balance"], listed["available_credit"], listed["phone"]) == \
        (200000, 50000, 150000, "829-555-0100")

    resp = owner.post(f"/api/manage/customers/{cid}/repayment", json={"amount": "120.00"})
    assert resp.status_code == 200 and resp.get_json()["customer"]["balance"] == 38000
    over = owner.post(f"/api/manage/customers/{cid}/repayment", json={"amount": "380.01"})
    assert over.status_code == 400 and over.get_json()["error"].startswith("amount:")
    assert store.customers.get(cid).balance == 38000
    assert owner.post(f"/api/manage/customers/{cid}/repayment", json={"amount": "380.00"}).status_code == 200
    assert store.customers.get(cid).balance == 0
    assert owner.post(f"/api/manage/customers/{cid}/repayment", json={"amount": "1.00"}).status_code == 400

    assert owner.put(f"/api/manage/customers/{cid}", json={"active": False}).status_code == 200
    assert cid not in {x["id"] for x in owner.get("/api/manage/customers").get_json()["customers"]}
    assert cid in {x["id"] for x in owner.get("/api/manage/customers?all=1").get_json()["customers"]}
    assert owner.put("/api/manage/customers/cust-nope", json={"name": "x"}).status_code == 404


def test_customer_pages(login_as, store):
    owner = login_as("owner")
    _owe(store, "cust-02", 120000)
    html = owner.get("/manage/customers").get_data(as_text=True)
    assert "Pedro Martínez" in html and "RD$1,200.00" in html
    resp = _form(owner, "/manage/customers", {"name": "Bodega Rosa", "phone": "", "credit_limit": "250"})
    assert resp.status_code == 303
    new = next(c for c in store.customers.list() if c.name == "Bodega Rosa")
    assert new.credit_limit == 25000
    assert _form(owner, "/manage/customers/cust-02/repayment", {"amount": "200.00"}).status_code == 303
    assert store.customers.get("cust-02").balance == 100000
    too_much = _form(owner, "/manage/customers/cust-02/repayment", {"amount": "5000"})
    assert too_much.status_code == 400 and "more than" in too_much.get_data(as_text=True)
    assert store.customers.get("cust-02").balance == 100000
    assert _form(owner, "/manage/customers/cust-02", {"name": "Pedro M.", "phone": "809-555-0102",
                                                      "credit_limit": "6000.00"}).status_code == 303
    assert (store.customers.get("cust-02").name, store.customers.get("cust-02").credit_limit) == ("Pedro M.", 600000)
    assert _form(owner, "/manage/customers/cust-02", {"active": "0"}).status_code == 303
    assert store.customers.get("cust-02").active is False


# -- stock count ---------------------------------------------------------------------------------
def test_stock_count_posts_movements_and_book_equals_count(login_as, store):
    supervisor = login_as("supervisor")
    a, b, c = _first_products(store)
    sheet = supervisor.get("/api/stock-count/sheet").get_json()
    sheet_skus = [p["sku"] for g in sheet["categories"] for p in g["products"]]
    assert len(sheet_skus) == len(store.products.list())
    counts = {a.sku: a.stock_qty - 3, b.sku: b.stock_qty + 2, c.sku: c.stock_qty}
    resp = supervisor.post("/api/stock-count", json={"counts": counts, "reason": "damage", "note": "wet boxes"})
    assert resp.status_code == 200, resp.get_json()
    out = resp.get_json()
    by_sku = {x["sku"]: x for x in out["adjustments"]}
    assert by_sku[a.sku]["delta"] == -3 and by_sku[a.sku]["value"] == -3 * a.cost  # at cost, not the shelf price
    assert by_sku[b.sku]["delta"] == 2 and by_sku[c.sku]["delta"] == 0
    assert (out["counted"], out["changed"], out["units"], out["uncosted"]) == (3, 2, -1, 0)
    assert out["value"] == -3 * a.cost + 2 * b.cost
    for sku, qty in counts.items():
        assert store.products.get(sku).stock_qty == qty
    ma = store.stock.movements(a.sku)[0]
    assert (ma.delta, ma.reason, ma.note, ma.user_id) == (-3, "damage", "wet boxes", "maria")
    assert store.stock.movements(c.sku) == []  # no movement where the count matched


def test_movement_reasons_are_recorded(login_as, store):
    supervisor = login_as("supervisor")
    p = store.products.list()[0]
    for reason, qty in (("count", p.stock_qty - 1), ("theft", p.stock_qty - 2), ("correction", p.stock_qty)):
        assert supervisor.post("/api/stock-count", json={"counts": {p.sku: qty}, "reason": reason}).status_code == 200
    moves = supervisor.get(f"/api/stock/movements?sku={p.sku}").get_json()["movements"]
    assert [(m["reason"], m["delta"]) for m in moves] == [("correction", 2), ("theft", -1), ("count", -1)]
    assert moves[0]["name"] == p.name and moves[0]["user_name"] == "María"
    only_theft = supervisor.get("/api/stock/movements?reason=theft").get_json()["movements"]
    assert [m["reason"] for m in only_theft] == ["theft"]
    html = supervisor.get(f"/manage/stock-movements?sku={p.sku}").get_data(as_text=True)
    assert html.count(f'<tr data-sku="{p.sku}"') == 3


def test_a_bad_line_posts_nothing(login_as, store):
    supervisor = login_as("supervisor")
    a, b = _first_products(store, 2)
    resp = supervisor.post("/api/stock-count", json={"counts": {a.sku: 1, b.sku: -4}, "reason": "count"})
    assert resp.status_code == 400 and resp.get_json()["error"].startswith(f"counts.{b.sku}:")
    assert store.products.get(a.sku).stock_qty == a.stock_qty and store.stock.movements() == []
    resp = supervisor.post("/api/stock-count", json={"counts": {a.sku: 1, "NO-SUCH": 3}, "reason": "count"})
    assert resp.status_code == 400 and store.stock.movements() == []


def test_zero_is_a_valid_count(login_as, store):
    supervisor = login_as("supervisor")
    p = store.products.list()[0]
    assert supervisor.post("/api/stock-count", json={"counts": {p.sku: 0}}).status_code == 200
    assert store.products.get(p.sku).stock_qty == 0


def test_stock_count_page_form_and_result(login_as, store):
    supervisor = login_as("supervisor")
    page = supervisor.get("/manage/stock-count")
    assert page.status_code == 200
    a, b = _first_products(store, 2)
    html = page.get_data(as_text=True)
    assert f'name="count-{a.sku}"' in html and f'data-book="{a.stock_qty}"' in html
    resp = _form(supervisor, "/manage/stock-count",
                 {f"count-{a.sku}": str(a.stock_qty + 5), f"book-{a.sku}": str(a.stock_qty),
                  f"count-{b.sku}": "", f"book-{b.sku}": str(b.stock_qty),
                  "reason": "correction", "note": "found a box"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Stock count posted" in html and f'<tr data-sku="{a.sku}"' in html and f'<tr data-sku="{b.sku}"' not in html
    assert "+5" in html
    assert store.products.get(a.sku).stock_qty == a.stock_qty + 5
    assert store.products.get(b.sku).stock_qty == b.stock_qty
    assert store.stock.movements(a.sku)[0].reason == "correction"
    # nothing typed: the sheet again with a message, nothing posted
    empty = _form(supervisor, "/manage/stock-count", {f"count-{a.sku}": "", "reason": "count"})
    assert empty.status_code == 400 and "at least one" in empty.get_data(as_text=True)


def test_cashier_cannot_count_stock(login_as, store):
    cashier = login_as("cashier")
    p = store.products.list()[0]
    assert cashier.get("/manage/stock-count").status_code == 403
    assert cashier.post("/api/stock-count", json={"counts": {p.sku: 1}}).status_code == 403
    assert store.products.get(p.sku).stock_qty == p.stock_qty


def test_every_manage_page_renders_for_the_owner(login_as, store):
    owner = login_as("owner")
    p = store.products.list()[0]
    for path in ("/manage/products", "/manage/products?status=low", f"/manage/products/{p.sku}", "/manage/staff",
                 "/manage/staff/ana", "/manage/settings", "/manage/customers", "/manage/customers?show=owing",
                 "/manage/customers/cust-01", "/manage/stock-count", "/manage/stock-movements"):
        resp = owner.get(path)
        assert resp.status_code == 200, path
        html = resp.get_data(as_text=True)
        assert "manage.js" in html and "manage.css" in html and 'style="' not in html and "onclick" not in html, path
