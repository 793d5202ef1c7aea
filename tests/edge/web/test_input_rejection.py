"""Hostile input is refused and changes nothing: bad quantities and amounts, script injection,
missing CSRF tokens, forged roles and cookies; a cashier reaches no owner page or API.

The quantity table is per field because zero is meaningful in some places (a counted quantity of
0, a credit limit of 0, a reorder level of 0) and nonsense in others (receiving 0, a repayment of 0,
a price of 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from edge.store import Store
from tests.edge.web import test_manage
from tests.edge.web.conftest import csrf_token

# the fast seeded store of the manage tests, as fixtures of this module too
seeded_store_file = test_manage.seeded_store_file
store = test_manage.store

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
INJECTION = [SCRIPT, IMG]
# whole quantities that must be at least 1
QTY = [-1, 0, 10**12, 1.5, "abc", True, False, None, "", "1e3", "0x10", [], {}]
# quantities where 0 is a real answer (a count, a level)
LEVEL = [-1, 10**12, 1.5, "abc", True, None, "", "1e3", []]
# money: "12.50" typed, or an integer of minor units
MONEY = [-1, "-5.00", 10**12, "9999999999999", 1.5, "abc", True, "12.345", "1e3", "12,50.0", []]
POSITIVE_MONEY = [0, "0.00", *MONEY]
TABLES = ("products", "users", "customers", "settings", "stock_movements", "sales", "events", "shifts")


def snapshot(store: Store) -> dict[str, list[dict[str, Any]]]:
    return {t: store.db.query(f"SELECT * FROM {t} ORDER BY rowid") for t in TABLES}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    base: dict[str, Any]  # a body that is accepted, so each 400 below comes from the one bad field
    bad: dict[str, list[Any]] = field(default_factory=dict)
    role: str = "owner"


def cases(sku: str) -> list[Case]:
    product = {"sku": "NEW-ITEM", "name": "New item", "price": "5.00", "barcode": "7709990000011",
               "category": "Snacks", "reorder_level": 2, "stock": 3}
    return [
        Case("POST", "/api/products", product, {
            "sku": ["", "a b", "-lead", "x" * 65, *INJECTION], "name": ["", "x" * 121, 42, *INJECTION],
            "price": POSITIVE_MONEY, "barcode": ["12345", "123456789012345", "abcdefgh", 77012345, *INJECTION],
            "category": ["x" * 61, *INJECTION], "reorder_level": [v for v in LEVEL if v not in (None, "")],
            "stock": [-1, 10**12, 1.5, "abc", True]}),  # reorder level left out or null: the store's default
        Case("PUT", f"/api/products/{sku}", {"name": "Renamed", "price": "7.25", "reorder_level": 4}, {
            "name": ["", *INJECTION], "price": POSITIVE_MONEY, "barcode": ["1", *INJECTION],
            "category": INJECTION, "reorder_level": LEVEL}),
        Case("POST", f"/api/products/{sku}/receive", {"qty": 6, "note": "delivery 42"},
             {"qty": QTY, "note": ["x" * 201, *INJECTION]}),
        Case("POST", f"/api/products/{sku}/active", {"active": True},
             {"active": ["abc", 1.5, 2, None, [], *INJECTION]}),
        Case("POST", "/api/staff", {"id": "newbie", "name": "Newbie", "role": "cashier", "pin": "4826"}, {
            "id": ["", "Has Space", "x" * 33, *INJECTION], "name": ["", *INJECTION],
            "role": ["admin", "", True, *INJECTION], "pin": ["1111", "1234", "12", "123456789", 4826, SCRIPT],
            "password": ["short", 12345678]}),
        Case("PUT", "/api/staff/ana", {"name": "Ana B.", "role": "cashier"}, {
            "name": INJECTION, "role": ["root", *INJECTION], "active": ["abc", 3, *INJECTION],
            "pin": ["0000", "9876", 1357]}),
        Case("PUT", "/api/settings", {"store_name": "Colmado", "tax_rate": "16.5", "timezone": "UTC"}, {
            "store_name": ["", "x" * 121, *INJECTION], "address": INJECTION, "receipt_footer": INJECTION,
            "tax_rate": [-1, "-1", "50.01", 10**12, "abc", True, "1.555", [], *INJECTION],
            "tax_rate_bp": [1800], "low_stock_default": LEVEL,
            "timezone": ["Nowhere/City", "", *INJECTION], "currency": ["US", "EURO", "12A", *INJECTION],
            "colour": ["red"]}),
        Case("PUT", "/api/settings", {"tax_rate_bp": 1750},
             {"tax_rate_bp": [-1, 5001, 10**12, 1.5, True, "abc", None]}),
        Case("POST", "/api/manage/customers",
             {"name": "Cliente Nuevo", "phone": "809-555-0199", "credit_limit": "100.00"}, {
            "name": ["", *INJECTION], "phone": ["abc", "1" * 25, *INJECTION], "credit_limit": MONEY}),
        Case("PUT", "/api/manage/customers/cust-01", {"name": "Colmado Doña Carmen", "credit_limit": "0"}, {
            "name": INJECTION, "phone": INJECTION, "credit_limit": MONEY, "active": ["maybe", *INJECTION]}),
        Case("POST", "/api/manage/customers/cust-01/repayment", {"amount": "10.00"}, {"amount": POSITIVE_MONEY}),
        Case("POST", "/api/stock-count", {"counts": {sku: 0}, "reason": "count", "note": "shelf 2"}, {
            "counts": [{sku: v} for v in LEVEL] + [{SCRIPT: 1}, {IMG: 1}, {"NO-SUCH-SKU": 1}, {}, [], "abc", None],
            "reason": ["sale", "receiving", "refund", "", *INJECTION], "note": ["x" * 201, *INJECTION]},
             role="supervisor"),
    ]


@pytest.fixture
def sku(store: Store) -> str:
    return store.products.list()[0].sku


def _ids() -> list[str]:
    return [f"{c.method} {c.path}" for c in cases("SKU")]


@pytest.mark.parametrize("index", range(len(cases("SKU"))), ids=_ids())
def test_bad_values_are_refused_and_change_nothing(login_as, store, sku, index):
    case = cases(sku)[index]
    with store.db.transaction() as conn:  # cust-01 owes something, so a repayment can be valid
        conn.execute("UPDATE customers SET balance = 50000 WHERE id = 'cust-01'")
    session = login_as(case.role)
    before = snapshot(store)
    for name, values in case.bad.items():
        for value in values:
            body = {**case.base, name: value}
            resp = session.client.open(case.path, method=case.method, json=body,
                                       headers={"X-CSRFToken": session.token})
            assert resp.status_code == 400, (name, value, resp.status_code, resp.get_data(as_text=True))
            error = resp.get_json()["error"]
            assert error.startswith(name), (name, value, error)
            assert snapshot(store) == before, (name, value)
    # the same body without the bad field is accepted: the refusals above were the field's doing
    ok = session.client.open(case.path, method=case.method, json=case.base, headers={"X-CSRFToken": session.token})
    assert ok.status_code in (200, 201), ok.get_data(as_text=True)


def test_a_missing_field_is_refused(login_as, store):
    owner = login_as("owner")
    before = snapshot(store)
    for path, body, missing in (("/api/products", {"name": "No SKU", "price": "1.00"}, "sku"),
                                ("/api/products", {"sku": "NO-PRICE", "name": "No price"}, "price"),
                                ("/api/staff", {"name": "No id", "role": "cashier", "pin": "4826"}, "id"),
                                ("/api/manage/customers", {"phone": "809"}, "name")):
        resp = owner.post(path, json=body)
        assert resp.status_code == 400 and resp.get_json()["error"].startswith(missing), (path, resp.get_json())
    assert owner.post("/api/products", data="[1, 2]", content_type="application/json").status_code == 400
    assert owner.post("/api/products", data="{not json", content_type="application/json").status_code == 400
    assert snapshot(store) == before


def test_script_injection_through_the_page_forms_is_refused_and_escaped(login_as, store, sku):
    owner = login_as("owner")
    before = snapshot(store)
    forms = [("/manage/products", {"sku": "XSS-1", "name": SCRIPT, "price": "1.00"}),
             ("/manage/products", {"sku": "XSS-1", "name": "Fine", "price": "1.00", "category": IMG}),
             (f"/manage/products/{sku}", {"name": IMG, "price": "1.00", "reorder_level": "1"}),
             (f"/manage/products/{sku}/receive", {"qty": "3", "note": SCRIPT}),
             ("/manage/staff", {"id": "xss", "name": SCRIPT, "role": "cashier", "pin": "4826"}),
             ("/manage/staff/ana", {"name": IMG, "role": "cashier"}),
             ("/manage/settings", {"store_name": SCRIPT, "currency": "DOP", "tax_rate": "18", "timezone": "UTC",
                                   "low_stock_default": "5"}),
             ("/manage/customers", {"name": IMG, "credit_limit": "1.00"}),
             ("/manage/customers/cust-01", {"name": SCRIPT}),
             ("/manage/stock-count", {f"count-{sku}": "4", "reason": "count", "note": IMG}),
             ("/manage/stock-count", {f"count-{sku}": "4", "reason": SCRIPT})]
    for path, data in forms:
        resp = owner.client.post(path, data={"csrf_token": owner.token, **data})
        assert resp.status_code == 400, (path, data)
        html = resp.get_data(as_text=True)
        assert SCRIPT not in html and "<img src=x" not in html, path  # what was typed comes back escaped
        assert snapshot(store) == before, path
    # a search for a script is shown back escaped
    html = owner.get("/manage/products?q=" + SCRIPT).get_data(as_text=True)
    assert SCRIPT not in html and "&lt;script&gt;" in html


# -- CSRF ----------------------------------------------------------------------------------------
def _dummy_path(rule_text: str, values: dict[str, str] | None = None) -> str:
    values = values or {}

    def fill(m: re.Match) -> str:
        conv, name = m.group(1) or "default", m.group(2)
        if name in values:
            return values[name]
        return {"int": "1", "float": "1.0"}.get(conv, "x")

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", fill, rule_text)


def _unsafe_manage_rules(app: Flask) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("manage."):
            for method in sorted(rule.methods & {"POST", "PUT", "DELETE", "PATCH"}):
                out.append((method, rule.rule))
    return out


def test_requests_without_a_csrf_token_are_refused(app, login_as, store, sku):
    owner = login_as("owner")
    with store.db.transaction() as conn:
        conn.execute("UPDATE customers SET balance = 50000 WHERE id = 'cust-01'")
    valid = {f"{c.method} {c.path}": c.base for c in cases(sku)}
    values = {"sku": sku, "user_id": "luis", "customer_id": "cust-01"}
    rules = _unsafe_manage_rules(app)
    assert len(rules) >= 20
    before = snapshot(store)
    for method, rule_text in rules:
        path = _dummy_path(rule_text, values)
        body = valid.get(f"{method} {path}", {"name": "Changed", "qty": 5, "active": False, "amount": "1.00"})
        for headers in ({}, {"X-CSRFToken": "forged-token"}):
            if path.startswith("/api/"):
                resp = owner.client.open(path, method=method, json=body, headers=headers)
            else:  # a form without its hidden csrf_token field
                form = {k: str(v) for k, v in body.items()}
                resp = owner.client.open(path, method=method, data=form, headers=headers)
            assert resp.status_code == 400, (method, path, headers, resp.status_code)
            assert "security token" in resp.get_data(as_text=True), (method, path)
        assert snapshot(store) == before, (method, path)


# -- forged roles and cookies --------------------------------------------------------------------
def test_a_cashier_posting_to_owner_apis_is_forbidden_and_changes_nothing(login_as, store, sku):
    cashier = login_as("cashier")
    before = snapshot(store)
    for case in cases(sku):
        resp = cashier.client.open(case.path, method=case.method, json=case.base,
                                   headers={"X-CSRFToken": cashier.token})
        assert resp.status_code == 403, (case.method, case.path)
    assert snapshot(store) == before


def test_a_supervisor_is_kept_out_of_owner_apis(login_as, store, sku):
    supervisor = login_as("supervisor")
    before = snapshot(store)
    for case in cases(sku):
        if case.role == "owner":
            resp = supervisor.client.open(case.path, method=case.method, json=case.base,
                                          headers={"X-CSRFToken": supervisor.token})
            assert resp.status_code == 403, (case.method, case.path)
    assert snapshot(store) == before


def test_a_tampered_cookie_is_logged_out(login_as, store):
    owner = login_as("owner")
    assert owner.get("/api/staff").status_code == 200
    cookie = owner.client.get_cookie("tillsight_session")
    value = cookie.value[:-3] + ("AAA" if cookie.value[-3:] != "AAA" else "BBB")
    owner.client.set_cookie("tillsight_session", value)
    before = snapshot(store)
    assert owner.get("/api/staff").status_code == 401
    assert owner.post("/api/staff", json={"id": "evil", "name": "Evil", "role": "owner",
                                          "password": "evil-password"}).status_code in (400, 401)
    assert owner.get("/manage/staff").status_code == 302
    assert snapshot(store) == before


def test_a_cookie_claiming_a_role_is_not_trusted(app, store):
    """A cookie signed with another key, and a validly signed one naming a role the user lacks."""
    foreign = Flask("elsewhere")
    foreign.secret_key = "some-other-secret"
    forged = foreign.session_interface.get_signing_serializer(foreign).dumps({"uid": "owner", "stamp": "owner"})
    ours = app.session_interface.get_signing_serializer(app).dumps({"uid": "ana", "stamp": "owner"})
    for value in (forged, ours):
        client = app.test_client()
        client.set_cookie("tillsight_session", value)
        assert client.get("/api/staff").status_code == 401
        assert client.get("/api/me").status_code == 401
        assert client.get("/manage/products").status_code == 302


# -- every route: a login and a role -------------------------------------------------------------
def _guarded_rules(app: Flask) -> list[tuple[Any, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        role = getattr(app.view_functions[rule.endpoint], "required_role", None)
        out.append((rule, role))
    return out


def _public(endpoint: str) -> bool:
    # static files (the app's, and i18n.js that reads the page's catalogue), the home redirect, logging in
    return endpoint in ("static", "i18n.static", "home") or endpoint.startswith("auth.")


def test_every_lan_route_requires_a_login_and_a_role(app):
    missing = [rule.rule for rule, role in _guarded_rules(app) if not _public(rule.endpoint)
               and role not in ("cashier", "supervisor", "owner")]
    assert missing == []
    manage = [rule.endpoint for rule, role in _guarded_rules(app) if rule.endpoint.startswith("manage.")]
    assert len(manage) >= 30


def _methods(rule: Any) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def _call(session_client, token: str, method: str, path: str):
    if method == "GET":
        return session_client.get(path)
    return session_client.open(path, method=method, json={}, headers={"X-CSRFToken": token})


def test_a_cashier_reaches_no_owner_or_supervisor_route(app, login_as, store):
    cashier = login_as("cashier")
    supervisor = login_as("supervisor")
    before = snapshot(store)
    owner_rules = [rule for rule, role in _guarded_rules(app) if role == "owner"]
    supervisor_rules = [rule for rule, role in _guarded_rules(app) if role == "supervisor"]
    assert len(owner_rules) >= 25  # the management section alone has more; the check cannot pass empty
    assert {"manage.products_page", "manage.staff_page", "manage.settings_page", "manage.customers_page",
            "manage.api_staff_create", "manage.api_settings_update"} <= {r.endpoint for r in owner_rules}
    assert "manage.stock_count_page" in {r.endpoint for r in supervisor_rules}
    for rule in owner_rules + supervisor_rules:
        for method in _methods(rule):
            path = _dummy_path(rule.rule)
            resp = _call(cashier.client, cashier.token, method, path)
            assert resp.status_code == 403, (method, path, resp.status_code)
    for rule in owner_rules:
        for method in _methods(rule):
            path = _dummy_path(rule.rule)
            resp = _call(supervisor.client, supervisor.token, method, path)
            assert resp.status_code == 403, (method, path, resp.status_code)
    assert snapshot(store) == before


def test_nobody_logged_in_reaches_any_guarded_route(app, store):
    client = app.test_client()
    token = csrf_token(client)
    for rule, role in _guarded_rules(app):
        if role is None:
            continue
        for method in _methods(rule):
            path = _dummy_path(rule.rule)
            resp = _call(client, token, method, path)
            if path.startswith("/api/"):
                assert resp.status_code == 401, (method, path, resp.status_code)
            else:
                assert resp.status_code in (302, 401), (method, path, resp.status_code)
                if resp.status_code == 302:
                    assert "/login" in resp.headers["Location"]
