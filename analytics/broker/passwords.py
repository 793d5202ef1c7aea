"""Mosquitto password files.

Mosquitto 2 reads ``username:$7$ITERATIONS$SALT$HASH`` lines: PBKDF2-HMAC-SHA512 over the password
with a 12-byte salt, salt and 64-byte hash in standard base64 (what ``mosquitto_passwd`` writes;
the broker accepts any iteration count).  The hashes are made here with ``hashlib``; the tests
prove that a real Mosquitto accepts them.  Plain passwords are never written anywhere: the hub
prints a new device password once and keeps only its hash, in this file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping

PBKDF2_TAG = "7"
SALT_BYTES = 12
HASH_BYTES = 64
DEFAULT_ITERATIONS = 1000
MIN_PASSWORD_CHARS = 16


class PasswordFileError(ValueError):
    """A password file that Mosquitto would not read as we mean it."""


def new_password() -> str:
    """A random password of 32 URL-safe characters (192 bits)."""
    return secrets.token_urlsafe(24)


def hash_password(password: str, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None) -> str:
    """The ``$7$`` PBKDF2-SHA512 hash Mosquitto 2 expects."""
    if not password:
        raise ValueError("empty password")
    if iterations < 1:
        raise ValueError("iterations must be >= 1")
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, HASH_BYTES)
    return f"${PBKDF2_TAG}${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def parse_hash(encoded: str) -> tuple[int, bytes, bytes]:
    """(iterations, salt, hash) of a ``$7$`` hash; ValueError for anything else."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[0] != "" or parts[1] != PBKDF2_TAG:
        raise ValueError("not a $7$ (PBKDF2-SHA512) hash")
    try:
        iterations = int(parts[2])
        salt = base64.b64decode(parts[3], validate=True)
        digest = base64.b64decode(parts[4], validate=True)
    except (ValueError, binascii.Error):
        raise ValueError("malformed $7$ hash") from None
    if iterations < 1 or not salt or len(digest) != HASH_BYTES:
        raise ValueError("malformed $7$ hash")
    return iterations, salt, digest


def verify_password(password: str, encoded: str) -> bool:
    try:
        iterations, salt, digest = parse_hash(encoded)
    except ValueError:
        return False
    candidate = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, len(digest))
    return hmac.compare_digest(candidate, digest)


def check_username(username: str) -> str:
    if not username or ":" in username or any(c.isspace() for c in username):
        raise ValueError(f"broker username {username!r} must be non-empty, without ':' or spaces")
    return username


def parse_password_file(text: str, source: str = "password file") -> dict[str, str]:
    """``{username: hash}`` in file order.  Blank lines and ``#`` comments are skipped; a line that
    is not ``user:$7$...``, or a user listed twice, is an error naming the line."""
    entries: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        username, sep, encoded = line.partition(":")
        if not sep or not username:
            raise PasswordFileError(f"{source}, line {number}: expected 'username:hash'")
        try:
            parse_hash(encoded)
        except ValueError as exc:
            raise PasswordFileError(f"{source}, line {number} ({username}): {exc}") from None
        if username in entries:
            raise PasswordFileError(f"{source}, line {number}: user {username!r} is listed twice")
        entries[username] = encoded
    return entries


def render_password_file(entries: Mapping[str, str]) -> str:
    """One ``username:hash`` line per user, sorted, so the file diffs cleanly."""
    lines = []
    for username in sorted(entries):
        check_username(username)
        parse_hash(entries[username])
        lines.append(f"{username}:{entries[username]}")
    return "\n".join(lines) + ("\n" if lines else "")
