"""What the store dashboard reads about the till's activity that no report computes: when the
last sale was made and how many alerts wait for the owner."""

from __future__ import annotations

from dataclasses import dataclass

from edge.store.database import StoreDB


@dataclass(frozen=True)
class StoreActivity:
    last_sale_at: str | None  # completion time (UTC, ``...Z``) of the newest sale, voids and refunds included
    open_alerts: int  # alerts nobody has acknowledged yet


class DashboardQueries:
    def __init__(self, db: StoreDB) -> None:
        self.db = db

    def activity(self) -> StoreActivity:
        last_sale_at = self.db.scalar("SELECT max(completed_at) FROM sales")
        open_alerts = self.db.scalar("SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL")
        return StoreActivity(last_sale_at=last_sale_at, open_alerts=int(open_alerts))
