"""Logging staff in and approving supervisor actions, with lock-out after repeated failures."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from edge.auth.hashing import DUMMY_HASH, check_password, check_pin, hash_secret, verify_secret
from edge.store.records import User
from edge.store.users import Users

log = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=5)


class AuthError(Exception):
    """Login or approval refused; the message is safe to show (it never says which part was wrong)."""


class LockedOutError(AuthError):
    pass


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = MAX_FAILURES
    lockout: timedelta = LOCKOUT


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


class Authenticator:
    def __init__(self, users: Users, policy: LoginPolicy | None = None) -> None:
        self.users = users
        self.policy = policy or LoginPolicy()

    def _check(self, user_id: str, secret: str, kind: str) -> User:
        user = self.users.find((user_id or "").strip().lower())
        if user is None or not user.active:
            verify_secret(secret or "", DUMMY_HASH)
            raise AuthError("unknown user or wrong PIN/password")
        if user.locked_until and user.locked_until > _iso(_now()):
            raise LockedOutError(f"{user.name} is locked out after {self.policy.max_failures} failed attempts;"
                                 f" try again after {user.locked_until[11:16]} UTC or ask the owner")
        pin_hash, password_hash = self.users.hashes(user.id)
        stored = pin_hash if kind == "pin" else password_hash
        if not verify_secret(secret or "", stored):
            failures = user.failed_attempts + 1
            locked = _iso(_now() + self.policy.lockout) if failures >= self.policy.max_failures else None
            self.users.record_failure(user.id, locked)
            log.warning("failed %s login for %s (%d)", kind, user.id, failures)
            if locked:
                raise LockedOutError(f"too many failed attempts: {user.name} is locked out for"
                                     f" {int(self.policy.lockout.total_seconds() // 60)} minutes")
            raise AuthError("unknown user or wrong PIN/password")
        if user.failed_attempts or user.locked_until:
            self.users.record_success(user.id)
        return self.users.get(user.id)

    def login_pin(self, user_id: str, pin: str) -> User:
        return self._check(user_id, pin, "pin")

    def login_password(self, user_id: str, password: str) -> User:
        return self._check(user_id, password, "password")

    def approve(self, user_id: str, pin: str, role: str = "supervisor") -> User:
        """A supervisor (or owner) approves an action with their PIN; raises AuthError otherwise."""
        user = self._check(user_id, pin, "pin")
        if not user.at_least(role):
            raise AuthError(f"{user.name} is a {user.role}: a {role} must approve this")
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
        self.users.record_success(user_id)
