"""A small certificate authority for the broker's TLS, for operators without a PKI and for tests:
a CA, a server certificate for the broker's host names / IP addresses, and client certificates
for devices (when the broker requires one).  ECDSA P-256 keys, SHA-256 signatures.

Private keys are written 0600 (0640 with ``group``, e.g. the group Mosquitto runs as, for the
server key) and never overwritten unless asked: a CA key replaced by accident would orphan every
certificate it signed.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT = "ca.crt"
CA_KEY = "ca.key"
CA_DAYS = 3650
LEAF_DAYS = 825


class CertError(ValueError):
    """A certificate request or file that cannot be used; the message says why."""


@dataclass(frozen=True)
class CertFiles:
    cert: Path
    key: Path


@dataclass(frozen=True)
class CertAuthority:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    files: CertFiles


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write(path: Path, data: bytes, mode: int, group: str | None, force: bool) -> None:
    if path.exists() and not force:
        raise CertError(f"{path} exists; refusing to overwrite it (pass force to replace it)")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if group:
            shutil.chown(tmp, group=group)
            mode |= 0o040 if mode & 0o400 else 0
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except (OSError, LookupError) as exc:
        tmp.unlink(missing_ok=True)
        raise CertError(f"cannot write {path}: {exc}") from None


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _check_days(days: int) -> None:
    if not 1 <= days <= 36500:
        raise CertError(f"validity of {days} days: use 1-36500")


def create_ca(out_dir: Path, common_name: str = "Tillsight MQTT CA", days: int = CA_DAYS,
              force: bool = False) -> CertAuthority:
    """Write ``ca.crt`` and ``ca.key`` (0600) into ``out_dir``."""
    _check_days(days)
    out_dir = Path(out_dir)
    files = CertFiles(out_dir / CA_CERT, out_dir / CA_KEY)
    for path in (files.cert, files.key):
        if path.exists() and not force:
            raise CertError(f"{path} exists; refusing to replace the CA (every certificate it signed would "
                            "stop working); pass --force to replace it anyway")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = _now()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    _write(files.key, _key_pem(key), 0o600, None, force)
    _write(files.cert, _cert_pem(cert), 0o644, None, force)
    return CertAuthority(cert, key, files)


def load_ca(ca_dir: Path) -> CertAuthority:
    ca_dir = Path(ca_dir)
    files = CertFiles(ca_dir / CA_CERT, ca_dir / CA_KEY)
    for path in (files.cert, files.key):
        if not path.is_file():
            raise CertError(f"{path} not found (make a CA with `tillsight hub broker ca --out {ca_dir}`)")
    try:
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise CertError(f"cannot read the CA in {ca_dir}: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        raise CertError(f"{files.key} is not the private key of {files.cert}")
    return CertAuthority(cert, key, files)


def _subject_alt_names(hosts: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for raw in hosts:
        host = raw.strip()
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
            continue
        except ValueError:
            pass
        labels = host.rstrip(".").split(".")
        if not host or not all(labels) or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789-.*"
                                              for c in host.lower()):
            raise CertError(f"invalid host name {host!r} (a DNS name or an IP address)")
        names.append(x509.DNSName(host.lower()))
    return names


def issue_cert(ca: CertAuthority, name: str, out_dir: Path, server: bool = False,
               hosts: Sequence[str] = (), days: int = LEAF_DAYS, group: str | None = None,
               force: bool = False) -> CertFiles:
    """Write ``{name}.crt`` and ``{name}.key`` (0600; 0640 and the given group with ``group``).

    A server certificate needs ``hosts`` (DNS names and/or IP addresses clients dial: hostname
    checking is on); a client certificate's common name is ``name``, e.g. the device's broker
    username ``s-001.till-1``."""
    _check_days(days)
    if not name or "/" in name or name.startswith("."):
        raise CertError(f"invalid certificate name {name!r}")
    if server and not hosts:
        raise CertError("a server certificate needs at least one host name or IP address (--host)")
    out_dir = Path(out_dir)
    files = CertFiles(out_dir / f"{name}.crt", out_dir / f"{name}.key")
    for path in (files.cert, files.key):
        if path.exists() and not force:
            raise CertError(f"{path} exists; refusing to overwrite it (pass --force to replace it)")
    sans = _subject_alt_names(hosts)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    not_after = min(now + dt.timedelta(days=days), ca.cert.not_valid_after_utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(ca.cert.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False, key_agreement=True,
                                            key_cert_sign=False, crl_sign=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server
                                                     else ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                              critical=False))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca.key, hashes.SHA256())
    _write(files.key, _key_pem(key), 0o600, group, force)
    _write(files.cert, _cert_pem(cert), 0o644, None, force)
    return files


def check_pair(cert_file: Path, key_file: Path, ca_file: Path | None = None) -> x509.Certificate:
    """Read a certificate and key; CertError unless they match (and the CA signed the certificate)."""
    for path in (cert_file, key_file, *([ca_file] if ca_file else [])):
        if not Path(path).is_file():
            raise CertError(f"{path} not found")
    try:
        cert = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise CertError(f"cannot read {cert_file} / {key_file}: {exc}") from None
    if key.public_key() != cert.public_key():
        raise CertError(f"{key_file} is not the private key of {cert_file}")
    if ca_file is not None:
        try:
            ca = x509.load_pem_x509_certificate(Path(ca_file).read_bytes())
        except ValueError as exc:
            raise CertError(f"cannot read {ca_file}: {exc}") from None
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            raise CertError(f"{cert_file} is not signed by the CA in {ca_file}") from None
    if cert.not_valid_after_utc <= _now():
        raise CertError(f"{cert_file} expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    return cert
