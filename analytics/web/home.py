"""The home page: the stores the user may see, with today's and the last 7 days' sales and how many
of their devices are online.  ``/api/stores`` is the same table as JSON, CSV or Excel."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from analytics.web.context import hub, now
from analytics.web.datatable import Col, Link, TableSpec, table_response
from analytics.web.pages import NavItem, Page
from analytics.web.queries.stores import store_rows
from analytics.web.security import require
from analytics.web.tenancy import current_scope
from i18n import N_

blueprint = Blueprint("home", __name__)

STORE_LINK = Link("stores.store_page", {"store_id": "store_id"})
STORES = TableSpec("stores", N_("Stores"), (
    Col("store_id", N_("Store"), "code", link=STORE_LINK),
    Col("name", N_("Name"), link=STORE_LINK),
    Col("sales_today", N_("Sales today"), "money"),
    Col("transactions_today", N_("Sales count today"), "int"),
    Col("sales_7d", N_("Sales, last 7 days"), "money"),
    Col("transactions_7d", N_("Sales count, 7 days"), "int"),
    Col("devices", N_("Devices"), "int"),
    Col("online", N_("Online"), "int"),
    Col("last_heard", N_("Last heard"), "ago"),
    Col("currency", N_("Currency")),
    Col("timezone", N_("Time zone")),
))


def _rows() -> list:
    with hub().connect() as conn:
        return store_rows(conn, current_scope(), now())


@blueprint.get("/")
@require("viewer")
def index() -> str:
    rows = _rows()
    totals = {"stores": len(rows), "devices": sum(r.devices for r in rows), "online": sum(r.online for r in rows),
              "transactions_today": sum(r.transactions_today for r in rows)}
    return render_template("home.html", spec=STORES, rows=rows, totals=totals)


@blueprint.get("/api/stores")
@require("viewer")
def api_stores() -> Response:
    return table_response(STORES, _rows())


page = Page(blueprint, nav=(NavItem("Stores", "home.index", "viewer", order=10),))
