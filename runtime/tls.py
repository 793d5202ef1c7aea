"""HTTPS for the web apps on the shop LAN: which transport a bind gets, and the certificate it uses.

:func:`web_tls` decides, from the bind address and ``web.tls`` / ``hub_web.tls``
(:class:`firmware_config.schema.WebTlsConfig`), whether a web app serves HTTPS:

* ``auto`` (the default): HTTPS on any address but loopback; plain HTTP on ``127.0.0.1``/``::1``/
  ``localhost`` only (a browser on the device itself, an SSH tunnel, a TLS proxy in front);
* ``on``: HTTPS everywhere; ``off``: plain HTTP, refused (:class:`PlainHttpRefused`) on any address
  but loopback, so PINs and session cookies never cross the LAN in clear.

Without a configured pair, :func:`ensure_self_signed` makes a self-signed certificate (ECDSA P-256,
``cryptography``) at first start in the given folder and keeps it, so a browser that trusted it once
keeps trusting it; it is made again only when it expired, is unreadable, or lacks a host name the
server is now reached by.  Its SHA-256 fingerprint is logged, to compare with what the browser shows.
A pair issued by the hub's CA (``tillsight hub broker cert``) is used as it is.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from firmware_config.schema import WebTlsConfig

log = logging.getLogger(__name__)

CERT_DAYS = 825  # what browsers accept for a server certificate
RENEW_BEFORE = dt.timedelta(days=30)
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class PlainHttpRefused(ValueError):
    """A plain-HTTP bind to an address other people's machines can reach."""


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1``, ``localhost``: only this machine can connect.  ``0.0.0.0`` is not."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_names(host: str) -> list[str]:
    """The names and addresses a browser may dial to reach a server bound to ``host``."""
    names = ["localhost", "127.0.0.1", "::1"]
    hostname = socket.gethostname()
    if hostname:
        names += [hostname.lower(), f"{hostname.lower()}.local"]
    if host not in ("0.0.0.0", "::", ""):
        names.append(host)
    else:
        try:
            names += [str(info[4][0]) for info in socket.getaddrinfo(hostname, None)]
        except OSError:
            pass
    seen: dict[str, None] = {}
    for name in names:
        seen.setdefault(name.split("%")[0], None)
    return list(seen)


def _general_names(names: Iterable[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            if name and all(c.isalnum() or c in "-." for c in name):
                out.append(x509.DNSName(name))
    return out


def _covers(cert: x509.Certificate, names: Iterable[str]) -> bool:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have = set(san.get_values_for_type(x509.DNSName)) | {str(a) for a in san.get_values_for_type(x509.IPAddress)}
    return all(str(g.value) in have for g in _general_names(names))


def _usable(files: TlsFiles, names: list[str], now: dt.datetime) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return False
    return (key.public_key() == cert.public_key() and cert.not_valid_after_utc - RENEW_BEFORE > now
            and _covers(cert, names))


def _write_private(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def ensure_self_signed(folder: Path, name: str, names: list[str], now: dt.datetime | None = None) -> TlsFiles:
    """``{folder}/{name}.crt`` and ``.key`` (0600): kept when still good for ``names``, else made anew."""
    now = now or dt.datetime.now(dt.UTC)
    folder = Path(folder)
    files = TlsFiles(folder / f"{name}.crt", folder / f"{name}.key")
    if _usable(files, names, now):
        return files
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Tillsight {name} ({names[0]})"[:64])])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=CERT_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(_general_names(names)), critical=False)
            .sign(key, hashes.SHA256()))
    _write_private(files.key, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()), 0o600)
    _write_private(files.cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    log.info("made a self-signed HTTPS certificate %s for %s (SHA-256 %s)", files.cert, ", ".join(names),
             fingerprint(files.cert))
    return files


def fingerprint(cert_file: Path) -> str:
    """The certificate's SHA-256 fingerprint as a browser shows it (``AB:CD:...``)."""
    cert = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def web_tls(host: str, cfg: WebTlsConfig, folder: Path, name: str) -> TlsFiles | None:
    """The certificate and key a web app bound to ``host`` serves HTTPS with, or None for plain HTTP
    (loopback only).  Raises :class:`PlainHttpRefused` for plain HTTP on a LAN address, and
    ``ValueError`` for a configured pair that is missing or does not match."""
    wants_tls = cfg.mode == "on" or (cfg.mode == "auto" and not is_loopback(host))
    if not wants_tls:
        if not is_loopback(host):
            raise PlainHttpRefused(
                f"plain HTTP on {host} would send PINs and session cookies across the LAN in clear: "
                "set tls.mode to auto (HTTPS), or bind to 127.0.0.1 behind a TLS proxy")
        return None
    if cfg.cert_file is not None and cfg.key_file is not None:
        files = TlsFiles(Path(cfg.cert_file), Path(cfg.key_file))
        context(files)  # raises ValueError naming the file if it cannot be used
        return files
    return ensure_self_signed(folder, name, server_names(host))


def context(files: TlsFiles) -> ssl.SSLContext:
    """The server side's TLS context (TLS 1.2 or newer)."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(files.cert, files.key)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"cannot use the HTTPS certificate {files.cert} / {files.key}: {exc}") from None
    return ctx
