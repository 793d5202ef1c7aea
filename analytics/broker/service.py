"""Operator actions on the broker's credentials, each one registry change plus the broker files it
implies: register a device (with a new password shown once), rotate its password, remove it, set a
hub user's password, and re-render everything from the registry.

Device password hashes live only in the broker folder's password file; the hub database holds
the registry (who, which group, which username) and never a password.  The files are rewritten
inside the database transaction, so a failed write leaves the registry as it was; a failed commit
undoes the file changes."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine

from analytics.broker import registry
from analytics.broker.acl import render_acl
from analytics.broker.files import BrokerDir, read_optional
from analytics.broker.passwords import MIN_PASSWORD_CHARS, hash_password, new_password, render_password_file
from analytics.broker.registry import RegisteredDevice, StoreDefaults
from firmware_config.schema import TillsightConfig

T = TypeVar("T")

RELOAD_TIMEOUT_S = 30.0


class ReloadError(RuntimeError):
    pass


@dataclass(frozen=True)
class BrokerSettings:
    dir: Path
    prefix: str
    hub_users: tuple[str, ...]
    file_group: str | None = None
    iterations: int = 1000
    reload_command: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, cfg: TillsightConfig, broker_dir: Path | None = None) -> BrokerSettings:
        b = cfg.hub.broker
        return cls(Path(broker_dir or b.dir), cfg.mqtt.topic_prefix, tuple(b.hub_users), b.file_group,
                   b.password_iterations, tuple(b.reload_command))

    @property
    def folder(self) -> BrokerDir:
        return BrokerDir(self.dir, self.file_group)


@dataclass
class SyncReport:
    """What a rewrite of the password file and ACL found and did."""

    changed: list[Path] = field(default_factory=list)
    dropped_users: list[str] = field(default_factory=list)  # password entries of no registered device or hub user
    devices_without_password: list[str] = field(default_factory=list)
    hub_users_without_password: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        out = [f"removed the password of {u}: neither a registered device nor a hub user" for u in self.dropped_users]
        out += [f"device {u} has no password yet: run `tillsight hub device rotate` for it"
                for u in self.devices_without_password]
        out += [f"hub user {u} has no password yet: run `tillsight hub broker passwd --user {u}`"
                for u in self.hub_users_without_password]
        return out


@dataclass(frozen=True)
class Issued:
    device: RegisteredDevice
    password: str  # shown to the operator once, never stored
    store_created: bool = False


def _render(conn: Connection, settings: BrokerSettings,
            passwords: dict[str, str]) -> tuple[dict[Path, str], SyncReport]:
    devices = registry.list_devices(conn)
    device_users = {d.mqtt_username for d in devices}
    allowed = device_users | set(settings.hub_users)
    report = SyncReport(dropped_users=sorted(set(passwords) - allowed),
                        devices_without_password=sorted(device_users - set(passwords)),
                        hub_users_without_password=sorted(set(settings.hub_users) - set(passwords)))
    kept = {u: h for u, h in passwords.items() if u in allowed}
    folder = settings.folder
    texts = {folder.passwords: render_password_file(kept),
             folder.acl: render_acl(settings.prefix, [d.grant for d in devices], settings.hub_users)}
    return texts, report


def _apply(engine: Engine, settings: BrokerSettings, change: Callable[[Connection], T],
           updates: dict[str, str] | None = None, remove: Iterable[str] = ()) -> tuple[T, SyncReport]:
    """Run ``change(conn)`` and rewrite the files from the registry it leaves, in one transaction:
    a failed write rolls the change back, a failed commit puts the old files back."""
    folder = settings.folder
    with folder.locked(), engine.connect() as conn:
        trans = conn.begin()
        try:
            result = change(conn)
            passwords = folder.read_passwords()
            for user in remove:
                passwords.pop(user, None)
            passwords.update(updates or {})
            texts, report = _render(conn, settings, passwords)
            old = {p: read_optional(p) for p in texts}
            report.changed = folder.write(texts)
        except BaseException:
            trans.rollback()
            raise
        try:
            trans.commit()
        except BaseException:
            _restore(folder, old)
            raise
    return result, report


def _restore(folder: BrokerDir, old: dict[Path, str | None]) -> None:
    for path, text in old.items():
        if text is None:
            path.unlink(missing_ok=True)
        else:
            folder.write({path: text})


def add_device(engine: Engine, settings: BrokerSettings, store_id: str, device_id: str,
               group_id: str = registry.DEFAULT_GROUP, note: str | None = None,
               store: StoreDefaults | None = None) -> tuple[Issued, SyncReport]:
    registry.check_ids(store_id, device_id)
    password = new_password()
    username = registry.device_username(store_id, device_id)
    added, report = _apply(engine, settings,
                           lambda conn: registry.add_device(conn, store_id, device_id, group_id, note=note,
                                                            store=store),
                           updates={username: hash_password(password, settings.iterations)})
    return Issued(added.device, password, added.store_created), report


def rotate_device(engine: Engine, settings: BrokerSettings, store_id: str, device_id: str) -> tuple[Issued, SyncReport]:
    """A new password for a registered device; the old one stops working when the broker reloads
    (Mosquitto then also disconnects a client still logged in with it)."""
    password = new_password()
    username = registry.device_username(store_id, device_id)
    device, report = _apply(engine, settings, lambda conn: registry.require_device(conn, store_id, device_id),
                            updates={username: hash_password(password, settings.iterations)})
    return Issued(device, password), report


def remove_device(engine: Engine, settings: BrokerSettings, store_id: str,
                  device_id: str) -> tuple[RegisteredDevice, SyncReport]:
    username = registry.device_username(store_id, device_id)
    device, report = _apply(engine, settings, lambda conn: registry.remove_device(conn, store_id, device_id),
                            remove=[username])
    return device, report


def set_group(engine: Engine, settings: BrokerSettings, store_id: str, device_id: str,
              group_id: str) -> tuple[RegisteredDevice, SyncReport]:
    device, report = _apply(engine, settings, lambda conn: registry.set_group(conn, store_id, device_id, group_id))
    return device, report


def set_hub_password(engine: Engine, settings: BrokerSettings, user: str,
                     password: str | None = None) -> tuple[str, SyncReport]:
    """Set (or generate, when ``password`` is None) the password of one of ``hub_users``."""
    if user not in settings.hub_users:
        raise registry.RegistryError(f"{user!r} is not a hub user: add it to hub.broker.hub_users first "
                                     f"(now: {', '.join(settings.hub_users)})")
    if password is not None and len(password) < MIN_PASSWORD_CHARS:
        raise registry.RegistryError(f"a hub user's password needs at least {MIN_PASSWORD_CHARS} characters")
    secret = password if password is not None else new_password()
    _, report = _apply(engine, settings, lambda conn: None, updates={user: hash_password(secret, settings.iterations)})
    return secret, report


def sync_files(engine: Engine, settings: BrokerSettings) -> SyncReport:
    """Rewrite the password file and ACL from the registry (e.g. after groups changed elsewhere)."""
    _, report = _apply(engine, settings, lambda conn: None)
    return report


def rendered_files(engine: Engine, settings: BrokerSettings) -> tuple[dict[str, str], SyncReport]:
    """The password file and ACL as they should be, by file name, without writing anything."""
    folder = settings.folder
    with engine.connect() as conn:
        texts, report = _render(conn, settings, folder.read_passwords())
    return {path.name: text for path, text in texts.items()}, report


def reload_broker(settings: BrokerSettings) -> bool:
    """Run ``hub.broker.reload_command``; False when none is configured.  Mosquitto re-reads the
    password file and ACL on SIGHUP (``systemctl reload mosquitto``) without dropping clients
    whose credentials still hold."""
    if not settings.reload_command:
        return False
    try:
        done = subprocess.run(list(settings.reload_command), capture_output=True, text=True, timeout=RELOAD_TIMEOUT_S,
                              check=False)  # the exit status is reported below, with the command's own words
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ReloadError(f"reload command {' '.join(settings.reload_command)!r} failed: {exc}") from None
    if done.returncode != 0:
        raise ReloadError(f"reload command {' '.join(settings.reload_command)!r} exited {done.returncode}: "
                          f"{(done.stderr or done.stdout).strip()}")
    return True
