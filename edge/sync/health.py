"""Backlog health: raise a local health alert once when the outbox grows too large or too old,
close it when the condition clears, and raise it again only if the condition comes back.

Closing sets the alert's acknowledgement to :data:`CLEARED_BY` at the time the condition was seen
cleared, so the dashboard shows it as done, not as an open alert at score 1.00.  Ages in the
reasons read like "3 h 20 min", never raw seconds.  Open health alerts left by an earlier run are
closed when :class:`HealthAlerts` starts (the monitor checks afresh and raises again if the
condition still holds)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from edge.store import Store
from edge.store.alerts import close_alert, close_open, raise_alert

log = logging.getLogger(__name__)

BACKLOG_COUNT = "backlog_count"
BACKLOG_AGE = "backlog_age"
CLEARED_BY = "the device (condition cleared)"
RESTARTED_BY = "the device (checked again after a restart)"


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h 20 min``, ``2 d 4 h``: an age as the owner reads it."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    minutes = s // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@dataclass(frozen=True)
class BacklogCondition:
    name: str
    reason: str


@dataclass
class BacklogMonitor:
    max_count: int
    max_age_s: float
    active: set[str] = field(default_factory=set)

    def check(self, backlog: int, oldest_age_s: float | None) -> list[BacklogCondition]:
        """Return the conditions that became true on this check (each only once until cleared)."""
        return self.update(backlog, oldest_age_s)[0]

    def update(self, backlog: int, oldest_age_s: float | None) -> tuple[list[BacklogCondition], list[str]]:
        """(conditions that became true, names of those that cleared) on this check."""
        now_true: dict[str, str] = {}
        if backlog >= self.max_count:
            now_true[BACKLOG_COUNT] = (f"{backlog} message{'s' if backlog != 1 else ''} wait to be sent to the "
                                       f"hub (threshold {self.max_count})")
        if oldest_age_s is not None and oldest_age_s >= self.max_age_s:
            now_true[BACKLOG_AGE] = (f"the oldest unsent message is {duration(oldest_age_s)} old "
                                     f"(threshold {duration(self.max_age_s)}): the hub has not received sales")
        cleared = sorted(self.active - now_true.keys())
        for name in cleared:
            log.info("backlog condition %s cleared", name)
        self.active -= set(cleared)
        new = [BacklogCondition(name, reason) for name, reason in now_true.items() if name not in self.active]
        self.active |= {c.name for c in new}
        return new, cleared


class HealthAlerts:
    """The device's open backlog health alerts: raised when a condition starts, closed when it clears."""

    def __init__(self, store: Store, store_id: str, device_id: str, monitor: BacklogMonitor, at: str) -> None:
        self.store, self.store_id, self.device_id, self.monitor = store, store_id, device_id, monitor
        self.open: dict[str, int] = {}  # condition name -> local alert id
        with store.db.transaction() as conn:
            stale = close_open(conn, "health", at, RESTARTED_BY)
        if stale:
            log.info("closed %d health alert(s) left open by an earlier run", stale)

    def check(self, backlog: int, oldest_age_s: float | None, at: str) -> tuple[list[BacklogCondition], list[str]]:
        """Check the backlog at ``at`` (UTC ``...Z``); returns (raised, closed) as the monitor saw them."""
        new, cleared = self.monitor.update(backlog, oldest_age_s)
        if not new and not cleared:
            return new, cleared
        with self.store.db.transaction() as conn:
            for name in cleared:
                alert_id = self.open.pop(name, None)
                if alert_id is not None:
                    close_alert(conn, alert_id, at, CLEARED_BY)
            for cond in new:
                log.warning("sync health: %s", cond.reason)
                self.open[cond.name] = raise_alert(conn, self.store_id, self.device_id, "health", 1.0,
                                                   [cond.reason], at, model=f"sync:{cond.name}")
        return new, cleared
