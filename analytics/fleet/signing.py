"""The fleet operator's Ed25519 key: generate, load, sign a manifest, verify.

The private key signs every manifest; devices hold only the public key.  The private key file is
PEM (PKCS#8, unencrypted) with mode 0600 and is never overwritten; a key file that others can read
is refused, like ``ssh`` refuses one.  The signature is base64 Ed25519 over
``contracts.canonical_bytes(manifest)`` (the manifest without ``signature``), and ``key_id`` is
``contracts.key_id(raw public key)`` — both part of the contract (docs/contracts.md).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

import contracts
from analytics.fleet.errors import FleetError

log = logging.getLogger(__name__)

PRIVATE_KEY_NAME = "fleet-signing.key"
PUBLIC_KEY_NAME = "fleet-signing.pub"


@dataclass(frozen=True)
class KeyFiles:
    private_key: Path
    public_key: Path
    key_id: str


def public_key_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return contracts.key_id(public_key_raw(public))


def generate_keypair(out_dir: str | Path) -> KeyFiles:
    """Write ``fleet-signing.key`` (0600) and ``fleet-signing.pub`` into ``out_dir``.  Refuses to
    overwrite either file: replacing the key would orphan every device that trusts the old one."""
    folder = Path(out_dir)
    private_path, public_path = folder / PRIVATE_KEY_NAME, folder / PUBLIC_KEY_NAME
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise FleetError(f"{path} already exists; not overwriting a signing key (devices trust the "
                             "existing one). Choose another --out folder, or move the old files away first.")
    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    _write_new(private_path, private_pem, 0o600)
    try:
        _write_new(public_path, public_pem, 0o644)
    except BaseException:
        private_path.unlink(missing_ok=True)
        raise
    kid = key_id_of(key)
    log.info("fleet signing key %s written to %s", kid, private_path)
    return KeyFiles(private_path, public_path, kid)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise FleetError(f"{path} already exists; not overwriting a signing key") from None
    try:
        os.fchmod(fd, mode)  # the umask may have narrowed it; make it exactly this
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    key_path = Path(path)
    try:
        mode = key_path.stat().st_mode
        data = key_path.read_bytes()
    except FileNotFoundError:
        raise FleetError(f"signing key {key_path} not found (create one with `tillsight hub fleet keygen "
                         "--out DIR`, then set hub.fleet_signing_key or pass --key)") from None
    except OSError as exc:
        raise FleetError(f"cannot read signing key {key_path}: {exc.strerror or exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise FleetError(f"signing key {key_path} is accessible by other users (mode {stat.S_IMODE(mode):04o}); "
                         f"run `chmod 600 {key_path}`")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise FleetError(f"{key_path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise FleetError(f"{key_path} is not an Ed25519 key (it is {type(key).__name__})")
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    key_path = Path(path)
    try:
        data = key_path.read_bytes()
    except OSError as exc:
        raise FleetError(f"cannot read public key {key_path}: {exc.strerror or exc}") from None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise FleetError(f"{key_path} is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise FleetError(f"{key_path} is not an Ed25519 public key")
    return key


def sign_manifest(manifest: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """A copy of ``manifest`` with ``key_id`` set and ``signature`` over everything else."""
    signed = {k: v for k, v in manifest.items() if k != "signature"}
    signed["key_id"] = key_id_of(key)
    signature = key.sign(contracts.canonical_bytes(signed))
    signed["signature"] = base64.b64encode(signature).decode("ascii")
    return signed


def verify_manifest(manifest: dict[str, Any], key: Ed25519PublicKey) -> bool:
    """True when ``signature`` is a valid signature of this exact manifest by ``key``."""
    try:
        signature = base64.b64decode(str(manifest.get("signature", "")), validate=True)
        key.verify(signature, contracts.canonical_bytes(manifest))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return manifest.get("key_id") == key_id_of(key)
