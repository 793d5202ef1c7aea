"""Logging staff in and approving supervisor actions, with throttling of repeated failures.

* Cashiers and supervisors log in with their PIN; an owner logs in only with the password (an owner's
  PIN, if set, still approves actions at the till, as a supervisor's does).
* Wrong PINs and passwords are slowed by :class:`runtime.throttle.LoginThrottle`: per person *and*
  client (the till's address; for an approval also the session it is typed into), growing delays,
  counters that reset on success and after a quiet hour, a high per-person ceiling that the device
  itself (loopback: its own browser or an SSH tunnel) is exempt from.  Nobody can lock a person out
  by typing wrong PINs for them, and the message never names the person.  Times are shown in the store's time zone.
* The users table mirrors the counters for the owner's staff page (``failed_attempts``, ``locked_until``
  = the latest wait); logins never read them back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from edge.auth.hashing import DUMMY_HASH, check_password, check_pin, hash_secret, verify_secret
from edge.store.records import User
from edge.store.settings import Settings
from edge.store.users import Users
from i18n import N_
from i18n import gettext as _
from runtime.throttle import LoginThrottle, Throttled, ThrottlePolicy

log = logging.getLogger(__name__)

LoginPolicy = ThrottlePolicy  # the old name, kept for callers that pass a policy
LOCAL_CLIENT = "127.0.0.1"  # the caller when none is named: the appliance itself
REFUSED = N_("unknown user or wrong PIN/password")  # translated where raised
# each role as a message names it
ROLE_NAMES = {"cashier": N_("cashier"), "supervisor": N_("supervisor"), "owner": N_("owner")}


class AuthError(Exception):
    """Login or approval refused; the message is safe to show (it never says which part was wrong)."""


class LockedOutError(AuthError):
    """Too many failures from this client: wait (the message says until when, in store time)."""


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Authenticator:
    def __init__(self, users: Users, policy: ThrottlePolicy | None = None, *, throttle: LoginThrottle | None = None,
                 clock: Callable[[], datetime] = _utc_now, zone: Callable[[], str] | None = None) -> None:
        self.users = users
        self.throttle = throttle or LoginThrottle(policy or ThrottlePolicy())
        self.policy = self.throttle.policy
        self.clock = clock
        self._zone = zone or (lambda: Settings(users.db).get().timezone)

    def _store_time(self, at: datetime) -> str:
        try:
            return at.astimezone(ZoneInfo(self._zone())).strftime("%H:%M")
        except (KeyError, ValueError):
            return at.astimezone(UTC).strftime("%H:%M UTC")

    def _locked(self, exc: Throttled) -> LockedOutError:
        return LockedOutError(_("too many failed attempts from here: locked out until %(time)s (%(wait)s)",
                                time=self._store_time(exc.retry_at), wait=exc.wait_text))

    def _check(self, user_id: str, secret: str, kind: str, client: str, approving: bool = False) -> User:
        now = self.clock()
        uid = (user_id or "").strip().lower()
        user = self.users.find(uid)
        if user is None or not user.active:
            verify_secret(secret or "", DUMMY_HASH)
            raise AuthError(_(REFUSED))
        if kind == "pin" and user.role == "owner" and not approving:
            raise AuthError(_("an owner logs in with the password, not a PIN"))
        try:
            self.throttle.check(user.id, client, now)
        except Throttled as exc:
            raise self._locked(exc) from None
        pin_hash, password_hash = self.users.hashes(user.id)
        stored = pin_hash if kind == "pin" else password_hash
        if not verify_secret(secret or "", stored):
            self.throttle.failed(user.id, client, now)
            until = self.throttle.blocked_until(user.id, now)
            failures = self.users.record_failure(user.id, _iso(until) if until else None)
            log.warning("failed %s for %s from %s (%d since the last success)", kind, user.id, client, failures)
            try:
                self.throttle.check(user.id, client, now)
            except Throttled as exc:
                raise self._locked(exc) from None
            raise AuthError(_(REFUSED))
        self.throttle.succeeded(user.id, client)
        if user.failed_attempts or user.locked_until:
            self.users.record_success(user.id)
        return self.users.get(user.id)

    def login_pin(self, user_id: str, pin: str, client: str = LOCAL_CLIENT) -> User:
        """Cashiers and supervisors; an owner is refused (owners log in with the password)."""
        return self._check(user_id, pin, "pin", client)

    def login_password(self, user_id: str, password: str, client: str = LOCAL_CLIENT) -> User:
        return self._check(user_id, password, "password", client)

    def approve(self, user_id: str, pin: str, role: str = "supervisor", client: str = LOCAL_CLIENT,
                session_user: str = "") -> User:
        """A supervisor (or owner) approves an action with their PIN; raises AuthError otherwise.

        Failures are counted for (approver, client, the session the PIN is typed into): a cashier
        who types wrong PINs slows only approvals in their own session, never the approver's login."""
        user = self._check(user_id, pin, "pin", f"approval:{client}:{session_user}", approving=True)
        if not user.at_least(role):
            raise AuthError(_("%(name)s is a %(role)s: a %(needed)s must approve this", name=user.name,
                              role=_(ROLE_NAMES.get(user.role, user.role)), needed=_(ROLE_NAMES.get(role, role))))
        return user

    def set_staff(self, user_id: str, name: str, role: str, pin: str | None = None,
                  password: str | None = None, active: bool = True) -> User:
        if pin:
            check_pin(pin)
        if password:
            check_password(password)
        return self.users.save(user_id, name, role, pin_hash=hash_secret(pin) if pin else None,
                               password_hash=hash_secret(password) if password else None, active=active)

    def unlock(self, user_id: str) -> None:
        """Forget a person's failures (every client's) and the staff page's mirror of them."""
        self.throttle.clear_user(user_id)
        self.users.record_success(user_id)
