"""Staff accounts: cashiers (PIN), supervisors (PIN), owners (password, optionally PIN).

The store keeps only hashes (made by ``edge.auth.hashing``), a mirror of the login throttle's counters
for the owner's staff page (``failed_attempts``, ``locked_until``), and each person's *session epoch*
(a row ``session_epoch:<id>`` in ``counters``): logging out raises it, which ends every session made
before, on every browser, also after a restart (a copied session cookie stops working at logout).
A person may prefer another language than the store's (a row ``language:<id>`` in ``settings``; none:
they follow the store's).
"""

from __future__ import annotations

import builtins
import json
import re

from edge.store.database import StoreDB, utc_now
from edge.store.errors import NotFoundError, ValidationError
from edge.store.records import ROLES, User
from i18n import SUPPORTED_LANGUAGES
from i18n import gettext as _

USER_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def _row(r: dict) -> User:
    return User(id=r["id"], name=r["name"], role=r["role"], active=bool(r["active"]),
                has_pin=bool(r["pin_hash"]), has_password=bool(r["password_hash"]),
                failed_attempts=r["failed_attempts"], locked_until=r["locked_until"])


def _epoch_key(user_id: str) -> str:
    return f"session_epoch:{user_id}"


def _language_key(user_id: str) -> str:
    return f"language:{user_id}"


class Users:
    def __init__(self, db: StoreDB) -> None:
        self.db = db

    def get(self, user_id: str) -> User:
        r = self.db.query_one("SELECT * FROM users WHERE id = ?", (user_id,))
        if r is None:
            raise NotFoundError(_("no user %(user)s", user=repr(user_id)))
        return _row(r)

    def find(self, user_id: str) -> User | None:
        r = self.db.query_one("SELECT * FROM users WHERE id = ?", (user_id,))
        return _row(r) if r else None

    def list(self, include_inactive: bool = True) -> list[User]:
        where = "" if include_inactive else "WHERE active = 1"
        return [_row(r) for r in self.db.query(f"SELECT * FROM users {where} ORDER BY role DESC, name")]

    def hashes(self, user_id: str) -> tuple[str | None, str | None]:
        r = self.db.query_one("SELECT pin_hash, password_hash FROM users WHERE id = ?", (user_id,))
        if r is None:
            raise NotFoundError(_("no user %(user)s", user=repr(user_id)))
        return r["pin_hash"], r["password_hash"]

    def with_pin(self, role_at_least: tuple[str, ...] = ROLES) -> builtins.list[tuple[User, str]]:
        rows = self.db.query("SELECT * FROM users WHERE active = 1 AND pin_hash IS NOT NULL")
        return [(_row(r), r["pin_hash"]) for r in rows if r["role"] in role_at_least]

    def save(self, user_id: str, name: str, role: str, pin_hash: str | None = None,
             password_hash: str | None = None, active: bool = True) -> User:
        """Create or update; a ``None`` hash keeps the existing one."""
        if not USER_ID_RE.match(user_id or ""):
            raise ValidationError(_("user id must be 1-32 lowercase letters, digits, '_' or '-'"))
        if not name or not name.strip() or len(name) > 80:
            raise ValidationError(_("name must be 1-80 characters"))
        if role not in ROLES:
            raise ValidationError(_("role must be one of %(choices)s", choices=", ".join(ROLES)))
        existing = self.find(user_id)
        if existing is None and not (pin_hash or password_hash):
            raise ValidationError(_("a new user needs a PIN or a password"))
        if role == "owner" and not (password_hash or (existing and existing.has_password)):
            raise ValidationError(_("an owner needs a password"))
        with self.db.transaction() as c:
            if existing is None:
                c.execute("INSERT INTO users (id, name, role, pin_hash, password_hash, active, created_at)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (user_id, name.strip(), role, pin_hash, password_hash, int(active), utc_now()))
            else:
                c.execute("UPDATE users SET name = ?, role = ?, active = ?,"
                          " pin_hash = COALESCE(?, pin_hash), password_hash = COALESCE(?, password_hash)"
                          " WHERE id = ?", (name.strip(), role, int(active), pin_hash, password_hash, user_id))
        return self.get(user_id)

    def record_failure(self, user_id: str, locked_until: str | None) -> int:
        with self.db.transaction() as c:
            c.execute("UPDATE users SET failed_attempts = failed_attempts + 1,"
                      " locked_until = COALESCE(?, locked_until) WHERE id = ?", (locked_until, user_id))
            return int(c.execute("SELECT failed_attempts FROM users WHERE id = ?", (user_id,)).fetchone()[0])

    def record_success(self, user_id: str) -> None:
        with self.db.transaction() as c:
            c.execute("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = ?", (user_id,))

    def session_epoch(self, user_id: str) -> int:
        """The person's session epoch (0 until their first logout); part of every session's stamp."""
        value = self.db.scalar("SELECT value FROM counters WHERE name = ?", (_epoch_key(user_id),))
        return int(value or 0)

    def end_sessions(self, user_id: str) -> int:
        """Raise the person's session epoch: every session they hold now ends.  Returns the new epoch."""
        name = _epoch_key(user_id)
        with self.db.transaction() as c:
            c.execute("INSERT INTO counters(name, value) VALUES (?, 0) ON CONFLICT(name) DO NOTHING", (name,))
            c.execute("UPDATE counters SET value = value + 1 WHERE name = ?", (name,))
            return int(c.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0])

    def language(self, user_id: str) -> str | None:
        """The language ``user_id`` prefers, or ``None`` to follow the store's."""
        value = self.db.scalar("SELECT value FROM settings WHERE key = ?", (_language_key(user_id),))
        return json.loads(value) if value else None

    def set_language(self, user_id: str, language: str | None) -> None:
        """Prefer ``language`` for ``user_id`` (``None``: follow the store's)."""
        if language is not None and language not in SUPPORTED_LANGUAGES:
            raise ValidationError(_("language must be one of %(choices)s", choices=", ".join(SUPPORTED_LANGUAGES)))
        self.get(user_id)
        with self.db.transaction() as c:
            if language is None:
                c.execute("DELETE FROM settings WHERE key = ?", (_language_key(user_id),))
            else:
                c.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE"
                          " SET value = excluded.value", (_language_key(user_id), json.dumps(language)))

    def count_owners(self) -> int:
        return int(self.db.scalar("SELECT count(*) FROM users WHERE role = 'owner' AND active = 1"))
