"""The device's store: one SQLite file (WAL) through sqlite-utils, with versioned migrations.

``Store`` groups the repositories; each is a small class over the same :class:`StoreDB`.
"""

from __future__ import annotations

from pathlib import Path

from edge.store.alerts import Alerts
from edge.store.costs import Costs
from edge.store.credit_events import DeviceIdentity
from edge.store.customers import Customers
from edge.store.dashboard import DashboardQueries, StoreActivity
from edge.store.database import StoreDB, utc_now
from edge.store.errors import (
    NotFoundError,
    StoreCorruptError,
    StoreError,
    StoreFullError,
    StoreReadOnlyError,
    StoreUnavailableError,
    ValidationError,
)
from edge.store.gap_repair import GapRepair, Requeued
from edge.store.insights import HubInsights
from edge.store.outbox import Outbox
from edge.store.products import Products
from edge.store.promotions import Promotions
from edge.store.sales import Sales
from edge.store.settings import Settings, StoreSettings
from edge.store.shifts import Shift, Shifts
from edge.store.stock import Stock
from edge.store.suppliers import Suppliers
from edge.store.users import Users


class Store:
    def __init__(self, path: str | Path, check: bool = True, identity: DeviceIdentity | None = None,
                 drawers: str = "shared") -> None:
        """``identity`` (the configured store and device id) lets credit-customer changes be queued
        for the hub; the appliance and the sync agent pass it (see ``edge.store.credit_events``).
        ``drawers`` is the configured ``till.drawers`` (one open shift per till, or per cashier)."""
        self.db = StoreDB(path, check=check)
        self.products = Products(self.db)
        self.stock = Stock(self.db)
        self.costs = Costs(self.db)
        self.suppliers = Suppliers(self.db)
        self.customers = Customers(self.db, identity)
        self.users = Users(self.db)
        self.settings = Settings(self.db)
        self.sales = Sales(self.db)
        self.alerts = Alerts(self.db)
        self.outbox = Outbox(self.db)
        self.shifts = Shifts(self.db, drawers)
        self.insights = HubInsights(self.db)
        self.dashboard = DashboardQueries(self.db)
        self.gap_repair = GapRepair(self.db)
        self.promotions = Promotions(self.db)  # the hub's multi-buy/bundle offers (edge/fleet/prices.py writes)

    @property
    def path(self) -> Path:
        return self.db.path

    def close(self) -> None:
        self.db.close()


__all__ = ["DeviceIdentity", "NotFoundError", "Requeued", "Shift", "Store", "StoreActivity", "StoreCorruptError",
           "StoreDB", "StoreError", "StoreFullError", "StoreReadOnlyError", "StoreSettings", "StoreUnavailableError",
           "ValidationError", "utc_now"]
