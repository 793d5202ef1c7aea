"""PIN and password hashing with scrypt (memory-hard; in the standard library, so a Pi needs nothing more).

Stored form: ``scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>``; the parameters travel with the
hash, so they can be raised later without breaking existing logins.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

from i18n import gettext as _

LOG2_N = 14  # n = 16384, r = 8: 16 MiB of memory per attempt
R = 8
P = 1
PIN_RE = re.compile(r"^[0-9]{4,8}$")
MIN_PASSWORD = 8


class WeakSecretError(ValueError):
    pass


def check_pin(pin: str) -> None:
    if not PIN_RE.match(pin or ""):
        raise WeakSecretError(_("a PIN is 4 to 8 digits"))
    if len(set(pin)) == 1 or pin in "0123456789" or pin in "9876543210":
        raise WeakSecretError(_("that PIN is too easy to guess (all the same digit or a run)"))


def check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD or len(password) > 200:
        raise WeakSecretError(_("a password needs at least %(count)s characters", count=MIN_PASSWORD))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_secret(secret: str, log2_n: int = LOG2_N) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=2**log2_n, r=R, p=P,
                            maxmem=2**log2_n * R * 256, dklen=32)
    return f"scrypt${log2_n}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str | None) -> bool:
    """Constant-time check; a malformed stored hash never verifies."""
    if not stored or secret is None:
        return False
    try:
        scheme, log2_n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        n_log, r_i, p_i = int(log2_n), int(r), int(p)
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(secret.encode("utf-8"), salt=base64.b64decode(salt), n=2**n_log, r=r_i, p=p_i,
                             maxmem=2**n_log * r_i * 256, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


# a hash to verify against when the user does not exist, so timing does not reveal user ids
DUMMY_HASH = "scrypt$14$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
