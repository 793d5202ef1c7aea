"""Staff management: cashiers and supervisors (PIN), owners (password); roles, deactivation, unlock.

Only hashes are stored (``Authenticator.set_staff``) and nothing here ever shows one.  The last
active owner can be neither deactivated nor demoted, so the shop can never lock itself out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import jsonify, request
from werkzeug.wrappers import Response  # what redirect() is typed to return; flask's Response is one

from edge.auth.hashing import WeakSecretError, check_password, check_pin
from edge.auth.service import ROLE_NAMES
from edge.store.records import ROLES, User
from edge.store.users import USER_ID_RE
from edge.web.context import ctx
from edge.web.forms import BadInput, get_text
from edge.web.manage import PageAnswer, conflict, done, form_action, local_time, render, strict_bool
from edge.web.manage import manage_blueprint as bp
from edge.web.security import current_user, json_body, login, require
from i18n import gettext as _
from i18n.web import language_choice

PIN_ROLES = ("cashier", "supervisor")


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_locked(user: User) -> bool:
    return bool(user.locked_until and user.locked_until > _now_iso())


def staff_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "role": user.role, "active": user.active,
            "language": ctx().store.users.language(user.id),
            "has_pin": user.has_pin, "has_password": user.has_password,
            "failed_attempts": user.failed_attempts, "locked": is_locked(user),
            "locked_until": user.locked_until if is_locked(user) else None}


def _role(data: dict[str, Any]) -> str:
    role = data.get("role")
    if not isinstance(role, str) or role not in ROLES:
        raise BadInput("role", _("must be one of %(choices)s", choices=", ".join(ROLES)))
    return role


def _secret(data: dict[str, Any], key: str) -> str | None:
    """A new PIN or password, checked for strength; ``None`` when left empty (keep the old one)."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadInput(key, _("must be text (a PIN is typed as digits in quotes)"))
    try:
        (check_pin if key == "pin" else check_password)(value)
    except WeakSecretError as exc:
        raise BadInput(key, str(exc)) from None
    return value


def _save(user_id: str, name: str, role: str, pin: str | None, password: str | None, active: bool) -> User:
    try:
        return ctx().auth.set_staff(user_id, name, role, pin=pin, password=password, active=active)
    except WeakSecretError as exc:  # checked above already; kept so a stricter rule still answers 400
        raise BadInput("pin" if pin else "password", str(exc)) from None


# -- actions -----------------------------------------------------------------------------------
def create_staff(data: dict[str, Any]) -> User:
    users = ctx().store.users
    user_id = get_text(data, "id", 32).lower()
    if not USER_ID_RE.match(user_id):
        raise BadInput("id", _("must be 1-32 lowercase letters, digits, '_' or '-'"))
    name = get_text(data, "name", 80)
    role = _role(data)
    pin = _secret(data, "pin")
    password = _secret(data, "password")
    if role in PIN_ROLES and not pin:
        raise BadInput("pin", _("a %(role)s needs a PIN (4-8 digits) to log in at the till", role=_(ROLE_NAMES[role])))
    if role == "owner" and not password:
        raise BadInput("password", _("an owner needs a password (8 characters or more)"))
    if users.find(user_id) is not None:
        raise conflict(_("there is already a staff member with the id %(id)r", id=user_id))
    return _save(user_id, name, role, pin, password, True)


def update_staff(user_id: str, data: dict[str, Any]) -> User:
    users = ctx().store.users
    user = users.get(user_id)
    name = get_text(data, "name", 80) if "name" in data else user.name
    role = _role(data) if "role" in data else user.role
    active = strict_bool(data, "active") if "active" in data else user.active
    pin = _secret(data, "pin")
    password = _secret(data, "password")
    if user.role == "owner" and user.active and (role != "owner" or not active) and users.count_owners() <= 1:
        signed_in = current_user()
        if signed_in is not None and signed_in.id == user.id:
            raise conflict(_("you are the last active owner: add another owner before demoting or deactivating"))
        raise conflict(_("%(name)s is the last active owner: add another owner before demoting or deactivating",
                         name=user.name))
    if role in PIN_ROLES and not (pin or user.has_pin):
        raise BadInput("pin", _("a %(role)s needs a PIN: set one with the role change", role=_(ROLE_NAMES[role])))
    if role == "owner" and not (password or user.has_password):
        raise BadInput("password", _("an owner needs a password: set one with the role change"))
    saved = _save(user_id, name, role, pin, password, active)
    if "language" in data:
        try:
            users.set_language(user_id, language_choice(str(data.get("language") or "")))
        except ValueError as exc:
            raise BadInput("language", str(exc)) from None
    me = current_user()
    if me is not None and me.id == saved.id and saved.active and saved.role == me.role:
        login(saved)  # a new PIN or password ends the user's other sessions, not this one (a role change ends all)
    return saved


def unlock_staff(user_id: str) -> User:
    users = ctx().store.users
    users.get(user_id)
    ctx().auth.unlock(user_id)
    return users.get(user_id)


# -- pages -------------------------------------------------------------------------------------
def _staff_page(error: str | None = None, form: dict[str, Any] | None = None) -> str:
    staff = ctx().store.users.list(include_inactive=True)
    rank = {r: i for i, r in enumerate(reversed(ROLES))}
    staff.sort(key=lambda u: (not u.active, rank[u.role], u.name.lower()))
    form = {k: v for k, v in (form or {"role": "cashier"}).items() if k not in ("pin", "password")}
    return render("staff.html", staff=staff, locked={u.id: is_locked(u) for u in staff}, roles=ROLES,
                  error=error, form=form)


@bp.get("/manage/staff")
@require("owner")
def staff_page() -> str:
    return _staff_page()


@bp.post("/manage/staff")
@require("owner")
def staff_create() -> PageAnswer:
    data = request.form.to_dict()

    def action() -> Response:
        u = create_staff(data)
        return done(_("Added %(name)s (%(role)s); they can log in now", name=u.name, role=_(ROLE_NAMES[u.role])),
                    "manage.staff_page")

    return form_action(action, lambda msg: _staff_page(error=msg, form=data))


def _member_page(user_id: str, error: str | None = None, form: dict[str, Any] | None = None) -> str:
    users = ctx().store.users
    user = users.get(user_id)
    form = {k: v for k, v in (form or {"name": user.name, "role": user.role,
                                       "language": users.language(user.id) or ""}).items()
            if k not in ("pin", "password")}
    me = current_user()
    return render("staff_member.html", member=user, locked=is_locked(user), roles=ROLES, error=error, form=form,
                  is_me=bool(me and me.id == user.id), owners=users.count_owners(),
                  locked_until=local_time(user.locked_until) if is_locked(user) else "")


@bp.get("/manage/staff/<user_id>")
@require("owner")
def staff_member_page(user_id: str) -> str:
    return _member_page(user_id)


@bp.post("/manage/staff/<user_id>")
@require("owner")
def staff_update(user_id: str) -> PageAnswer:
    data = request.form.to_dict()
    ctx().store.users.get(user_id)

    def action() -> Response:
        before = ctx().store.users.get(user_id)
        language_before = ctx().store.users.language(user_id)
        u = update_staff(user_id, data)
        changes = []
        if u.name != before.name:
            changes.append(_("name"))
        if u.role != before.role:
            changes.append(_("role %(old)s → %(new)s (their open sessions end)", old=_(ROLE_NAMES[before.role]),
                             new=_(ROLE_NAMES[u.role])))
        if u.active != before.active:
            changes.append(_("reactivated") if u.active else _("deactivated (logged out, cannot log in)"))
        if data.get("pin"):
            changes.append(_("new PIN"))
        if data.get("password"):
            changes.append(_("new password"))
        if "language" in data and (data.get("language") or None) != language_before:
            changes.append(_("language"))
        return done(_("Saved %(name)s: %(changes)s", name=u.name, changes=", ".join(changes) or _("no changes")),
                    "manage.staff_member_page",
                    user_id=u.id)

    return form_action(action, lambda msg: _member_page(user_id, error=msg, form=data))


@bp.post("/manage/staff/<user_id>/unlock")
@require("owner")
def staff_unlock(user_id: str) -> Response:
    u = unlock_staff(user_id)
    return done(_("%(name)s is unlocked and can log in again", name=u.name), "manage.staff_member_page", user_id=u.id)


# -- API ---------------------------------------------------------------------------------------
@bp.get("/api/staff")
@require("owner")
def api_staff() -> Response:
    return jsonify(staff=[staff_json(u) for u in ctx().store.users.list(include_inactive=True)])


@bp.post("/api/staff")
@require("owner")
def api_staff_create() -> tuple[Response, int]:
    return jsonify(user=staff_json(create_staff(json_body()))), 201


@bp.put("/api/staff/<user_id>")
@require("owner")
def api_staff_update(user_id: str) -> Response:
    return jsonify(user=staff_json(update_staff(user_id, json_body())))


@bp.post("/api/staff/<user_id>/unlock")
@require("owner")
def api_staff_unlock(user_id: str) -> Response:
    return jsonify(user=staff_json(unlock_staff(user_id)))
