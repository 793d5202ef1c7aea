"""What the hub web app's views share: the database engine, the users, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import Connection, Engine

from analytics.web.accounts import HubUsers, utc_now

if TYPE_CHECKING:
    from analytics.llm import AIService


@dataclass
class HubWebContext:
    engine: Engine
    users: HubUsers
    clock: Callable[[], datetime] = field(default=utc_now)  # tests pin "now"
    ai: AIService | None = None  # the language layer (None or not configured: computed answers only)

    def connect(self) -> Connection:
        return self.engine.connect()


def hub() -> HubWebContext:
    return current_app.extensions["tillsight.hub"]


def now() -> datetime:
    return hub().clock()
