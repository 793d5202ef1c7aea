"""Which devices the hub knows: only a device registered on the hub (``tillsight hub device add``,
the broker's device registry) may store anything.  A message from any other store or device is a
dead letter naming why, so a forged or misconfigured client never creates a store or a device on
the hub; the ACL keeps such clients off a production broker, and this keeps them out of the
database even where a broker lets them in."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select, tuple_

from analytics.db.fleet_tables import device_registry

DeviceKey = tuple[str, str]  # (store_id, device_id)


def unknown_devices(conn: Connection, keys: Iterable[DeviceKey]) -> set[DeviceKey]:
    """The keys of ``keys`` that are not in the device registry (one query)."""
    wanted = set(keys)
    if not wanted:
        return set()
    r = device_registry.c
    found = {(row.store_id, row.device_id) for row in conn.execute(
        select(r.store_id, r.device_id).where(tuple_(r.store_id, r.device_id).in_(sorted(wanted))))}
    return wanted - found


def unknown_reason(store_id: str, device_id: str) -> str:
    return (f"unknown device {store_id}/{device_id}: not registered on this hub "
            "(register it with `tillsight hub device add`); nothing of it was stored")
