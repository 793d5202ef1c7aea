"""Login, roles and CSRF on the appliance's web app."""

from __future__ import annotations

from tests.edge.web.conftest import csrf_token


def test_pages_need_login(app):
    client = app.test_client()
    resp = client.get("/live")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert client.get("/api/basket").status_code == 401


def test_login_without_csrf_token_is_rejected(app):
    client = app.test_client()
    resp = client.post("/api/login", json={"user_id": "ana", "pin": "1357"})
    assert resp.status_code == 400
    assert "security token" in resp.get_json()["error"]


def test_wrong_pin_then_lockout(app):
    client = app.test_client()
    token = csrf_token(client)
    for _ in range(4):
        resp = client.post("/api/login", json={"user_id": "ana", "pin": "0000"}, headers={"X-CSRFToken": token})
        assert resp.status_code == 401
    resp = client.post("/api/login", json={"user_id": "ana", "pin": "0000"}, headers={"X-CSRFToken": token})
    assert resp.status_code == 401 and "locked out" in resp.get_json()["error"]
    # even the right PIN is refused while locked
    resp = client.post("/api/login", json={"user_id": "ana", "pin": "1357"}, headers={"X-CSRFToken": token})
    assert resp.status_code == 401 and "locked out" in resp.get_json()["error"]


def test_pins_and_passwords_are_stored_hashed(store):
    pin_hash, pw_hash = store.users.hashes("owner")
    assert pin_hash.startswith("scrypt$") and "9753" not in pin_hash
    assert pw_hash.startswith("scrypt$") and "tillsight-owner" not in pw_hash


def test_cashier_cannot_log_in_with_a_password_only_owner_has(app):
    client = app.test_client()
    token = csrf_token(client)
    resp = client.post("/api/login", json={"user_id": "ana", "password": "tillsight-owner"},
                       headers={"X-CSRFToken": token})
    assert resp.status_code == 401


def test_forged_session_cookie_is_ignored(app, login_as):
    cashier = login_as("cashier")
    # tamper with the signed session: flip a character; the app must treat it as logged out
    cookie = cashier.client.get_cookie("tillsight_session")
    value = cookie.value[:-2] + ("A" if cookie.value[-2] != "A" else "B") + cookie.value[-1]
    cashier.client.set_cookie("tillsight_session", value)
    assert cashier.get("/api/me").status_code == 401


def test_session_of_a_demoted_user_ends(app, login_as, store):
    owner = login_as("owner")
    assert owner.get("/api/me").get_json()["user"]["role"] == "owner"
    store.users.save("owner", "Rosa (owner)", "owner", active=True)
    store.db.conn.execute("UPDATE users SET role = 'cashier' WHERE id = 'owner'")
    assert owner.get("/api/me").status_code == 401


def test_a_pin_or_password_change_ends_the_old_sessions(app, login_as):
    till = login_as("cashier")  # ana, logged in at the till
    assert till.get("/api/me").get_json()["user"]["id"] == "ana"
    owner = login_as("owner")
    other_owner_session = login_as("owner")  # e.g. the owner's phone
    assert owner.put("/api/staff/ana", json={"pin": "8642"}).status_code == 200
    assert till.get("/api/me").status_code == 401  # the session made with the old PIN is refused
    assert till.get("/till").status_code == 302
    fresh = app.test_client()
    token = csrf_token(fresh)
    assert fresh.post("/api/login", json={"user_id": "ana", "pin": "1357"},
                      headers={"X-CSRFToken": token}).status_code == 401
    assert fresh.post("/api/login", json={"user_id": "ana", "pin": "8642"},
                      headers={"X-CSRFToken": token}).status_code == 200

    # the owner's own password change: this session goes on, the owner's other sessions end
    assert owner.put("/api/staff/owner", json={"password": "a-new-owner-secret"}).status_code == 200
    assert owner.get("/api/me").get_json()["user"]["id"] == "owner"
    assert other_owner_session.get("/api/me").status_code == 401


def test_logout(app, login_as):
    cashier = login_as("cashier")
    assert cashier.post("/api/logout").status_code == 200
    assert cashier.get("/api/me").status_code == 401
