"""Receiving and suppliers (supervisor and up): deliveries booked in with a unit cost move the product's
weighted average cost; suppliers with lead times per product; bad input is refused naming the field."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.demo.seed import seed_store
from edge.store import Store


@pytest.fixture(scope="session")
def seeded_store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seeded-receiving") / "store.db"
    s = Store(path)
    seed_store(s)
    s.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    return path


@pytest.fixture
def store(seeded_store_file: Path, tmp_path: Path) -> Iterator[Store]:
    target = tmp_path / "store.db"
    shutil.copyfile(seeded_store_file, target)
    s = Store(target)
    yield s
    s.close()


def _form(session, path: str, data: dict, follow: bool = False):
    """A browser-style form post: the CSRF token travels as the hidden ``csrf_token`` field."""
    return session.client.post(path, data={"csrf_token": session.token, **data}, follow_redirects=follow)


def test_two_deliveries_at_different_costs_move_the_average_cost(login_as, store: Store) -> None:
    supervisor = login_as("supervisor")
    sku = "COFFEE-227"
    store.costs.set_cost(sku, None, "owner")
    stock = store.products.get(sku).stock_qty
    page = supervisor.get("/manage/receiving").get_data(as_text=True)
    assert 'id="receiving-form"' in page and sku in page

    resp = _form(supervisor, "/manage/receiving", {"sku": sku, "qty": "10", "unit_cost": "90.00", "note": "inv 1"},
                 follow=True)
    assert resp.status_code == 200
    assert store.products.get(sku).cost == 9000
    resp = _form(supervisor, "/manage/receiving", {"sku": sku, "qty": "30", "unit_cost": "100", "note": "inv 2"},
                 follow=True)
    average = round(((stock + 10) * 9000 + 30 * 10000) / (stock + 40))
    assert store.products.get(sku).cost == average
    assert store.products.get(sku).stock_qty == stock + 40
    html = resp.get_data(as_text=True)
    assert "the average cost is now" in html  # the notice after the post
    receipts = supervisor.get(f"/api/receiving?sku={sku}").get_json()["receipts"]
    assert [(r["qty"], r["unit_cost"], r["cost_after"]) for r in receipts] == [(30, 10000, average), (10, 9000, 9000)]


@pytest.mark.parametrize("data, field", [
    ({"sku": "COFFEE-227", "qty": "0", "unit_cost": "1.00"}, "qty:"),
    ({"sku": "COFFEE-227", "qty": "2", "unit_cost": "a lot"}, "unit_cost:"),
    ({"sku": "COFFEE-227", "qty": "2", "unit_cost": "-3"}, "unit_cost:"),
    ({"sku": "NO-SUCH-SKU", "qty": "2", "unit_cost": "1.00"}, "sku:"),
    ({"sku": "COFFEE-227", "qty": "2", "supplier_id": "9999"}, "supplier_id:"),
])
def test_a_bad_delivery_is_refused_naming_the_field_and_changes_nothing(login_as, store: Store, data: dict,
                                                                        field: str) -> None:
    supervisor = login_as("supervisor")
    before = store.products.get("COFFEE-227")
    resp = _form(supervisor, "/manage/receiving", data)
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    assert 'id="form-error"' in html and field in html
    assert store.products.get("COFFEE-227") == before and store.costs.receipts() == []


def test_receiving_and_suppliers_are_for_supervisors_and_owners(login_as) -> None:
    cashier = login_as("cashier")
    for path in ("/manage/receiving", "/manage/suppliers", "/api/suppliers"):
        assert cashier.get(path).status_code == 403, path
    assert login_as("owner").get("/manage/suppliers").status_code == 200


def test_suppliers_with_lead_times_and_their_deliveries(login_as, store: Store) -> None:
    supervisor = login_as("supervisor")
    resp = _form(supervisor, "/manage/suppliers", {"name": "Almacén Central", "contact": "Julio",
                                                   "phone": "809-555-0199", "email": "ventas@central.example"})
    assert resp.status_code == 303
    [supplier] = [s for s in store.suppliers.list() if s.name == "Almacén Central"]
    assert resp.headers["Location"].endswith(f"/manage/suppliers/{supplier.id}")
    again = _form(supervisor, "/manage/suppliers", {"name": "almacén central"})
    assert again.status_code == 400 and "name:" in again.get_data(as_text=True)
    bad_mail = _form(supervisor, "/manage/suppliers", {"name": "Otro", "email": "not-an-address"})
    assert bad_mail.status_code == 400 and "email" in bad_mail.get_data(as_text=True)

    path = f"/manage/suppliers/{supplier.id}/products"
    assert _form(supervisor, path, {"sku": "RICE-LG-5LB", "lead_time_days": "3"}).status_code == 303
    assert _form(supervisor, path, {"sku": "RICE-LG-5LB", "lead_time_days": "2"}).status_code == 303  # changed
    late = _form(supervisor, path, {"sku": "RICE-LG-5LB", "lead_time_days": "400"})
    assert late.status_code == 400 and "lead_time_days:" in late.get_data(as_text=True)
    [link] = [x for x in store.suppliers.links(sku="RICE-LG-5LB") if x.supplier_id == supplier.id]
    assert (link.supplier_name, link.lead_time_days) == ("Almacén Central", 2)

    receiving = supervisor.get("/manage/receiving?sku=RICE-LG-5LB").get_data(as_text=True)
    assert "Almacén Central delivers it in 2 days" in receiving
    assert _form(supervisor, "/manage/receiving", {"sku": "RICE-LG-5LB", "qty": "20", "unit_cost": "140.00",
                                                   "supplier_id": str(supplier.id)}).status_code == 303
    page = supervisor.get(f"/manage/suppliers/{supplier.id}").get_data(as_text=True)
    assert 'data-sku="RICE-LG-5LB"' in page and "Deliveries from Almacén Central" in page
    api = supervisor.get(f"/api/suppliers/{supplier.id}").get_json()
    assert [(r["sku"], r["qty"], r["unit_cost"]) for r in api["receipts"]] == [("RICE-LG-5LB", 20, 14000)]


def test_the_product_page_shows_cost_margin_and_history_and_the_owner_sets_a_cost(login_as, store: Store) -> None:
    owner = login_as("owner")
    store.costs.set_cost("SUGAR-2LB", None, "owner")
    page = owner.get("/manage/products/SUGAR-2LB").get_data(as_text=True)
    assert "no cost" in page and "not known until the product has a cost" in page
    product = store.products.get("SUGAR-2LB")
    resp = _form(owner, "/manage/products/SUGAR-2LB", {"name": product.name, "price": "60.00", "barcode":
                                                       product.barcode or "", "category": product.category,
                                                       "reorder_level": str(product.reorder_level), "cost": "40.00"})
    assert resp.status_code == 303
    assert store.products.get("SUGAR-2LB").cost == 4000
    page = owner.get("/manage/products/SUGAR-2LB").get_data(as_text=True)
    # 60.00 with 18 % tax inside is 50.85 before tax: 10.85 a unit over the cost, 21.3 % of it
    assert "21.3 %" in page and 'id="cost-history-table"' in page and "set by hand" in page
    api = owner.get("/api/products?q=SUGAR-2LB").get_json()["products"][0]
    assert (api["cost"], api["unit_profit"], api["margin_pct"]) == (4000, 1085, 21.3)
    listing = owner.get("/manage/products?q=SUGAR-2LB").get_data(as_text=True)
    assert "21.3 %" in listing  # the catalogue list shows each product's margin too
    below = _form(owner, "/manage/products/SUGAR-2LB", {"cost": "55.00"})
    assert below.status_code == 303
    assert "sold below cost" in owner.get("/manage/products/SUGAR-2LB").get_data(as_text=True)


def test_the_product_is_found_from_a_typed_barcode_sku_or_exact_name_without_a_pick(login_as, store: Store) -> None:
    """Without JavaScript (or a barcode scanned and posted at once) the text typed in the picker is enough when it
    names exactly one product; anything else is refused naming the field and nothing is booked."""
    supervisor = login_as("supervisor")
    rice = store.products.get("RICE-LG-5LB")
    assert rice.barcode
    for typed in (rice.barcode, "rice-lg-5lb", rice.name.upper()):
        resp = _form(supervisor, "/manage/receiving", {"product": typed, "qty": "2", "unit_cost": ""})
        assert resp.status_code == 303, (typed, resp.get_data(as_text=True))
    assert [r.qty for r in store.costs.receipts(sku="RICE-LG-5LB")] == [2, 2, 2]
    before = len(store.costs.receipts())
    unknown = _form(supervisor, "/manage/receiving", {"product": "arroz que no existe", "qty": "2"})
    html = unknown.get_data(as_text=True)
    assert unknown.status_code == 400 and "product: no product matches arroz que no existe" in html
    assert 'value="arroz que no existe"' in html  # the typed text is kept to correct
    empty = _form(supervisor, "/manage/receiving", {"product": "", "qty": "2"})
    assert empty.status_code == 400 and "sku: choose a product" in empty.get_data(as_text=True)
    assert len(store.costs.receipts()) == before
    page = supervisor.get("/manage/receiving?sku=RICE-LG-5LB").get_data(as_text=True)
    assert f'value="{rice.name}"' in page and 'name="sku" id="f-sku" value="RICE-LG-5LB"' in page
