"""Hub users: who may log in to the hub web app, with which role, and which stores they see.

Passwords are hashed with scrypt (``werkzeug.security``).  Wrong passwords are slowed by
:class:`runtime.throttle.LoginThrottle` (the device uses the same one): per user *and* client address,
growing delays, counters that reset on success and after a quiet hour, and a high per-user ceiling
that the hub's own host (loopback) is exempt from, so nobody can keep the only operator out by typing
wrong passwords for them.  ``failed_attempts`` / ``locked_until`` in ``hub_users`` only mirror the
counters for ``tillsight hub web users``; logins never read them.  An unknown user id costs the same
hash check as a wrong password, so timing does not reveal which user ids exist.

Logout raises the user's *session epoch* (a row in ``hub_web_state``), which is part of the session
stamp: a copied session cookie is refused after logout, also after a restart.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Connection, Engine, delete, insert, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from analytics.db.web_tables import hub_user_stores, hub_users, hub_web_state
from runtime.throttle import LoginThrottle, Throttled, ThrottlePolicy
from runtime.web_guard import RoleRanking, session_stamp

log = logging.getLogger(__name__)

ROLES: tuple[str, ...] = ("viewer", "owner", "operator")
ROLE_RANK = RoleRanking(ROLES)
USER_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
STORE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 200
HASH_METHOD = "scrypt"


class AccountError(ValueError):
    """A user record that cannot be saved as asked; the message names the problem."""


class LoginRefused(Exception):
    """A login refused; the message is safe to show."""


class LockedOut(LoginRefused):
    pass


@dataclass(frozen=True)
class HubUser:
    user_id: str
    name: str
    role: str
    active: bool
    failed_attempts: int
    locked_until: str | None
    last_login_at: str | None
    stores: tuple[str, ...]  # assigned stores (operators see every store whatever this says)
    stamp: str  # changes when the role or password changes: sessions carrying the old one end
    language: str | None = None  # the pages' language (en | es | fr); None: the store's

    def at_least(self, role: str) -> bool:
        return ROLE_RANK.at_least(self.role, role)

    @property
    def all_stores(self) -> bool:
        return self.role == "operator"


# the throttle's settings; ``LoginPolicy(failures, minutes)`` from the hub config reads as the
# failures that cost nothing and the longest wait
LoginPolicy = ThrottlePolicy
LOCAL_CLIENT = "127.0.0.1"


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash("not-a-real-password", method=HASH_METHOD)


def _stamp(role: str, password_hash: str, epoch: int = 0) -> str:
    return session_stamp(role, password_hash, *([str(epoch)] if epoch else []))  # the one stamp both apps use


def _epoch_name(user_id: str) -> str:
    return "session_epoch:" + hashlib.sha256(user_id.encode()).hexdigest()[:32]  # fits the 64-character name


def check_password_strength(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AccountError(f"a hub password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"a hub password has at most {MAX_PASSWORD} characters")
    if len(set(password)) < 4:
        raise AccountError("that password is too easy to guess (too few different characters)")


class HubUsers:
    """The ``hub_users`` / ``hub_user_stores`` tables."""

    def __init__(self, engine: Engine, policy: ThrottlePolicy | None = None) -> None:
        self.engine = engine
        self.throttle = LoginThrottle(policy or ThrottlePolicy())
        self.policy = self.throttle.policy
        self._saved_at: dict[str, str] = {}  # each user's updated_at as last seen by a login here

    # -- reading ---------------------------------------------------------------------------------
    def _load(self, conn: Connection, user_id: str) -> tuple[HubUser, str] | None:
        row = conn.execute(select(hub_users).where(hub_users.c.user_id == user_id)).mappings().first()
        if row is None:
            return None
        stores = tuple(conn.execute(select(hub_user_stores.c.store_id).where(
            hub_user_stores.c.user_id == user_id).order_by(hub_user_stores.c.store_id)).scalars())
        epoch = conn.execute(select(hub_web_state.c.value).where(
            hub_web_state.c.name == _epoch_name(user_id))).scalar()
        user = HubUser(row["user_id"], row["name"], row["role"], bool(row["active"]), int(row["failed_attempts"] or 0),
                       row["locked_until"], row["last_login_at"], stores,
                       _stamp(row["role"], row["password_hash"], int(epoch or 0)), row.get("language"))
        return user, row["password_hash"]

    def find(self, user_id: str) -> HubUser | None:
        with self.engine.connect() as conn:
            found = self._load(conn, user_id)
        return found[0] if found else None

    def list(self) -> list[HubUser]:
        with self.engine.connect() as conn:
            ids = list(conn.execute(select(hub_users.c.user_id).order_by(hub_users.c.user_id)).scalars())
            return [found[0] for uid in ids if (found := self._load(conn, uid))]

    # -- writing ---------------------------------------------------------------------------------
    def save(self, user_id: str, name: str, role: str, password: str | None = None,
             stores: Iterable[str] | None = None, active: bool = True, now: datetime | None = None) -> HubUser:
        """Create or update a user.  A new user needs a password; ``stores=None`` keeps an existing
        user's stores.  Saving clears the user's failed-login counters."""
        user_id = (user_id or "").strip().lower()
        if not USER_ID_RE.fullmatch(user_id):
            raise AccountError("user id: 1-64 characters, lower-case letters, digits, '.', '_' or '-'")
        name = (name or "").strip()
        if not name or len(name) > 120 or re.search(r"[<>\x00-\x1f\x7f]", name):
            raise AccountError("name: 1-120 characters, no < > or control characters")
        if role not in ROLE_RANK:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        store_list = None if stores is None else sorted({s.strip() for s in stores if s.strip()})
        for store_id in store_list or ():
            if not STORE_ID_RE.fullmatch(store_id):
                raise AccountError(f"store id {store_id!r}: 1-32 lower-case letters, digits and '-'")
        if password is not None:
            check_password_strength(password)
        stamp = iso(now or utc_now())
        with self.engine.begin() as conn:
            exists = conn.execute(select(hub_users.c.user_id).where(hub_users.c.user_id == user_id)).first()
            values = {"name": name, "role": role, "active": active, "failed_attempts": 0, "locked_until": None,
                      "updated_at": stamp}
            if password is not None:
                values["password_hash"] = generate_password_hash(password, method=HASH_METHOD)
            if exists is None:
                if password is None:
                    raise AccountError("a new user needs a password")
                conn.execute(insert(hub_users).values(user_id=user_id, created_at=stamp, **values))
            else:
                conn.execute(update(hub_users).where(hub_users.c.user_id == user_id).values(**values))
            if store_list is not None:
                conn.execute(delete(hub_user_stores).where(hub_user_stores.c.user_id == user_id))
                if store_list:
                    conn.execute(insert(hub_user_stores), [{"user_id": user_id, "store_id": s} for s in store_list])
            assigned = conn.execute(select(hub_user_stores.c.store_id).where(
                hub_user_stores.c.user_id == user_id)).first()
        if role != "operator" and assigned is None:
            log.warning("hub user %s (%s) has no stores yet: they will see nothing", user_id, role)
        self.throttle.clear_user(user_id)
        log.info("hub user %s saved (%s)", user_id, role)
        found = self.find(user_id)
        assert found is not None
        return found

    def set_language(self, user_id: str, language: str | None, now: datetime | None = None) -> None:
        """The language the user's pages are shown in (``en``/``es``/``fr``; None or "" follows the store's)."""
        from i18n import SUPPORTED_LANGUAGES

        if language and language not in SUPPORTED_LANGUAGES:
            raise AccountError(f"language must be one of {', '.join(SUPPORTED_LANGUAGES)} (or empty: the store's)")
        with self.engine.begin() as conn:
            done = conn.execute(update(hub_users).where(hub_users.c.user_id == user_id).values(
                language=language or None, updated_at=iso(now or utc_now()))).rowcount
        if not done:
            raise AccountError(f"no hub user {user_id!r}")

    def end_sessions(self, user_id: str, now: datetime | None = None) -> None:
        """Logout: raise the user's session epoch, so every session made before it ends."""
        name = _epoch_name(user_id)
        with self.engine.begin() as conn:
            current = conn.execute(select(hub_web_state.c.value).where(hub_web_state.c.name == name)).scalar()
            if current is None:
                conn.execute(insert(hub_web_state).values(name=name, value="1", created_at=iso(now or utc_now())))
            else:
                conn.execute(update(hub_web_state).where(hub_web_state.c.name == name).values(
                    value=str(int(current) + 1)))

    # -- logging in ------------------------------------------------------------------------------
    def authenticate(self, user_id: str, password: str, now: datetime | None = None,
                     client: str = LOCAL_CLIENT) -> HubUser:
        """The user, or :class:`LoginRefused` (:class:`LockedOut` while ``client`` must wait)."""
        now = now or utc_now()
        user_id = (user_id or "").strip().lower()
        password = password if isinstance(password, str) else ""
        with self.engine.connect() as conn:
            found = self._load(conn, user_id) if USER_ID_RE.fullmatch(user_id) else None
        if found is None or not found[0].active:
            check_password_hash(_dummy_hash(), password)
            raise LoginRefused("unknown user or wrong password")
        user, password_hash = found
        self._forget_if_saved(user.user_id)
        try:
            self.throttle.check(user.user_id, client, now)
        except Throttled as exc:
            raise _locked(exc) from None
        if not check_password_hash(password_hash, password):
            failures = self.throttle.failed(user.user_id, client, now)
            until = self.throttle.blocked_until(user.user_id, now)
            with self.engine.begin() as conn:
                conn.execute(update(hub_users).where(hub_users.c.user_id == user.user_id).values(
                    failed_attempts=self.throttle.failures(user.user_id, now),
                    locked_until=iso(until) if until else None))
            log.warning("failed hub login for %s from %s (%d in a row)", user.user_id, client, failures)
            try:
                self.throttle.check(user.user_id, client, now)
            except Throttled as exc:
                raise _locked(exc) from None
            raise LoginRefused("unknown user or wrong password")
        self.throttle.succeeded(user.user_id, client)
        with self.engine.begin() as conn:
            conn.execute(update(hub_users).where(hub_users.c.user_id == user.user_id).values(
                failed_attempts=0, locked_until=None, last_login_at=iso(now)))
        log.info("hub login: %s (%s)", user.user_id, user.role)
        refreshed = self.find(user.user_id)
        assert refreshed is not None
        return refreshed


    def _forget_if_saved(self, user_id: str) -> None:
        """A save from another process (``tillsight hub user add``) clears this process's counters too:
        it changes ``updated_at``, which failed and successful logins never do."""
        with self.engine.connect() as conn:
            saved_at = conn.execute(select(hub_users.c.updated_at).where(hub_users.c.user_id == user_id)).scalar()
        seen = self._saved_at.get(user_id)
        if seen is not None and saved_at != seen:
            self.throttle.clear_user(user_id)
        self._saved_at[user_id] = str(saved_at)


def _locked(exc: Throttled) -> LockedOut:
    return LockedOut(f"too many failed attempts from here: locked out, try again {exc.wait_text}")
