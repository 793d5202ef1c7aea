"""The device registry (``device_registry`` in the hub database): which devices may connect to the
broker, under which username, and in which fleet group.  Registering a device also makes sure its
store has a ``stores`` row.  Functions take a ``Connection`` so that callers can put a registry
change and the broker files it implies in one transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from analytics.broker.acl import ARTIFACTS_GROUP, FLEET_SEGMENT, DeviceGrant
from analytics.db.fleet_tables import device_registry
from analytics.db.tables import stores
from firmware_config.schema import IDENT_PATTERN

_IDENT_RE = re.compile(IDENT_PATTERN)
GROUP_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"  # the device's fleet.group
_GROUP_RE = re.compile(GROUP_PATTERN)
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
RESERVED_STORE_IDS = frozenset({FLEET_SEGMENT})  # {prefix}/fleet/... is the hub's fleet namespace
RESERVED_GROUPS = frozenset({ARTIFACTS_GROUP})  # {prefix}/fleet/artifacts/# is every device's to read
DEFAULT_GROUP = "default"


class RegistryError(ValueError):
    """A registry request that cannot be done; the message says why, for the operator."""


class DeviceExists(RegistryError):
    pass


class DeviceNotRegistered(RegistryError):
    pass


@dataclass(frozen=True)
class RegisteredDevice:
    store_id: str
    device_id: str
    group_id: str
    mqtt_username: str
    created_at: str
    note: str | None = None

    @property
    def grant(self) -> DeviceGrant:
        return DeviceGrant(self.mqtt_username, self.store_id, self.device_id, self.group_id)


@dataclass(frozen=True)
class Added:
    device: RegisteredDevice
    store_created: bool


@dataclass(frozen=True)
class StoreDefaults:
    """Used only when the store has no ``stores`` row yet."""

    name: str | None = None
    timezone: str = "UTC"
    currency: str = "USD"


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def device_username(store_id: str, device_id: str) -> str:
    """``{store}.{device}``: ids never contain '.', so the name is unambiguous (and hub users, which
    may not contain '.', can never collide with a device)."""
    return f"{store_id}.{device_id}"


def check_ids(store_id: str, device_id: str) -> None:
    for value, what in ((store_id, "store id"), (device_id, "device id")):
        if not _IDENT_RE.fullmatch(value or ""):
            raise RegistryError(f"invalid {what} {value!r}: use 1-32 characters, lower-case letters, digits "
                                "and '-', starting with a letter or digit (e.g. 's-001', 'till-1')")
    if store_id in RESERVED_STORE_IDS:
        raise RegistryError(f"store id {store_id!r} is reserved (its topics are the hub's fleet namespace)")


def check_group(group_id: str) -> None:
    if not _GROUP_RE.fullmatch(group_id or ""):
        raise RegistryError(f"invalid group {group_id!r}: use 1-64 letters, digits, '_' or '-'")
    if group_id in RESERVED_GROUPS:
        raise RegistryError(f"group {group_id!r} is reserved (its topics hold the fleet's artifact chunks)")


def check_store_defaults(defaults: StoreDefaults) -> None:
    try:
        ZoneInfo(defaults.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise RegistryError(f"unknown time zone {defaults.timezone!r} (use an IANA name such as "
                            "'America/Santo_Domingo')") from None
    if not _CURRENCY_RE.fullmatch(defaults.currency):
        raise RegistryError(f"invalid currency {defaults.currency!r}: three upper-case letters (ISO 4217)")
    if defaults.name is not None and not 1 <= len(defaults.name) <= 120:
        raise RegistryError("store name must be 1-120 characters")


def _row(r: object) -> RegisteredDevice:
    m = r._mapping  # type: ignore[attr-defined]
    return RegisteredDevice(m["store_id"], m["device_id"], m["group_id"], m["mqtt_username"], m["created_at"],
                            m["note"])


def ensure_store(conn: Connection, store_id: str, defaults: StoreDefaults, now: str) -> bool:
    """Create the store's row if it has none; True when created."""
    if conn.execute(select(stores.c.store_id).where(stores.c.store_id == store_id)).first() is not None:
        return False
    conn.execute(insert(stores).values(store_id=store_id, name=defaults.name or store_id, timezone=defaults.timezone,
                                       currency=defaults.currency, settings={}, created_at=now, updated_at=now))
    return True


def get_device(conn: Connection, store_id: str, device_id: str) -> RegisteredDevice | None:
    r = conn.execute(select(device_registry).where(device_registry.c.store_id == store_id,
                                                   device_registry.c.device_id == device_id)).first()
    return _row(r) if r is not None else None


def list_devices(conn: Connection, group_id: str | None = None, store_id: str | None = None) -> list[RegisteredDevice]:
    q = select(device_registry).order_by(device_registry.c.store_id, device_registry.c.device_id)
    if group_id is not None:
        q = q.where(device_registry.c.group_id == group_id)
    if store_id is not None:
        q = q.where(device_registry.c.store_id == store_id)
    return [_row(r) for r in conn.execute(q)]


def add_device(conn: Connection, store_id: str, device_id: str, group_id: str = DEFAULT_GROUP,
               note: str | None = None, store: StoreDefaults | None = None, now: str | None = None) -> Added:
    """Register a device (and its store when new).  DeviceExists if it is registered already."""
    check_ids(store_id, device_id)
    check_group(group_id)
    store = store or StoreDefaults()
    check_store_defaults(store)
    if note is not None and len(note) > 200:
        raise RegistryError("note must be at most 200 characters")
    if get_device(conn, store_id, device_id) is not None:
        raise DeviceExists(f"device {store_id}/{device_id} is registered already "
                           "(use `tillsight hub device rotate` for a new password)")
    now = now or utc_now()
    username = device_username(store_id, device_id)
    store_created = ensure_store(conn, store_id, store, now)
    try:
        conn.execute(insert(device_registry).values(store_id=store_id, device_id=device_id, group_id=group_id,
                                                    mqtt_username=username, created_at=now, note=note))
    except IntegrityError:  # registered by someone else meanwhile; the caller's transaction is void
        raise DeviceExists(f"device {store_id}/{device_id} (broker user {username}) is registered already") from None
    return Added(RegisteredDevice(store_id, device_id, group_id, username, now, note), store_created)


def set_group(conn: Connection, store_id: str, device_id: str, group_id: str) -> RegisteredDevice:
    check_group(group_id)
    found = require_device(conn, store_id, device_id)
    conn.execute(update(device_registry).where(device_registry.c.store_id == store_id,
                                               device_registry.c.device_id == device_id).values(group_id=group_id))
    return RegisteredDevice(found.store_id, found.device_id, group_id, found.mqtt_username, found.created_at,
                            found.note)


def require_device(conn: Connection, store_id: str, device_id: str) -> RegisteredDevice:
    check_ids(store_id, device_id)
    found = get_device(conn, store_id, device_id)
    if found is None:
        raise DeviceNotRegistered(f"device {store_id}/{device_id} is not registered")
    return found


def remove_device(conn: Connection, store_id: str, device_id: str) -> RegisteredDevice:
    """Forget a device (its sales and the ``stores`` row stay)."""
    found = require_device(conn, store_id, device_id)
    conn.execute(delete(device_registry).where(device_registry.c.store_id == store_id,
                                               device_registry.c.device_id == device_id))
    return found
