"""Backlog health: raise a local health alert once when the outbox grows too large or too old,
and again only after the condition has cleared and come back."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

BACKLOG_COUNT = "backlog_count"
BACKLOG_AGE = "backlog_age"


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
        now_true: dict[str, str] = {}
        if backlog >= self.max_count:
            now_true[BACKLOG_COUNT] = (f"{backlog} messages wait to be sent to the hub "
                                       f"(threshold {self.max_count})")
        if oldest_age_s is not None and oldest_age_s >= self.max_age_s:
            now_true[BACKLOG_AGE] = (f"the oldest unsent message is {int(oldest_age_s)} s old "
                                     f"(threshold {int(self.max_age_s)} s): the hub has not received sales")
        cleared = self.active - now_true.keys()
        for name in cleared:
            log.info("backlog condition %s cleared", name)
        self.active -= cleared
        new = [BacklogCondition(name, reason) for name, reason in now_true.items() if name not in self.active]
        self.active |= {c.name for c in new}
        return new
