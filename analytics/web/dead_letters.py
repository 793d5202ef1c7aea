"""The dead letters page (operators): every message the ingest could not store, newest first, with
the store and device its topic names, when it came (in that store's time), why it was refused and
what it held.  The fleet page and a store's overview count them and link here (``?store=`` for one
store's).  Only operators see them: a dead letter may be unreadable, so it cannot be trusted to say
which tenant it belongs to (see ``queries.fleet.dead_letter_count``).

| route | role | answer |
|---|---|---|
| ``GET /fleet/dead-letters?store=&limit=`` | operator | the page |
| ``GET /api/fleet/dead-letters?store=&limit=&format=json\\|csv\\|xlsx`` | operator | the table |
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from analytics.web.context import hub
from analytics.web.datatable import Col, Link, TableSpec, table_response
from analytics.web.pages import Page
from analytics.web.params import int_arg
from analytics.web.queries import fleet as fq
from analytics.web.security import require
from analytics.web.tenancy import current_scope
from i18n import N_
from i18n import gettext as _

blueprint = Blueprint("dead_letters", __name__)

SHOWN = 200
DEAD_LETTERS = TableSpec("dead-letters", N_("Dead letters"), (
    Col("received_at", N_("Received"), "time"),
    Col("store_id", N_("Store"), "code", link=Link("stores.store_page", {"store_id": "store_id"})),
    Col("device_id", N_("Device"), "code"),
    Col("message", N_("Message")),
    Col("reason", N_("Why it was not stored")),
    Col("payload", N_("What it held"), "code", css="payload"),
    Col("topic", N_("Topic"), html=False),
    Col("letter_id", N_("Id"), "int", html=False),
))


def _rows(limit: int) -> tuple[str | None, list[fq.DeadLetterRow]]:
    store = (request.args.get("store") or "").strip() or None
    if store is not None and len(store) > 64:
        abort(400, description=_("store: at most 64 characters"))
    with hub().connect() as conn:
        rows = fq.dead_letter_rows(conn, current_scope(), store, limit=limit)
    if rows is None:  # only an all-stores scope sees dead letters (require("operator") holds that)
        abort(403, description=_("dead letters are for operators"))
    return store, rows


@blueprint.get("/fleet/dead-letters")
@require("operator")
def dead_letters_page() -> str:
    store, rows = _rows(int_arg("limit", 1, 10_000, SHOWN))
    with hub().connect() as conn:
        total = fq.dead_letter_count(conn, current_scope(), store)
    return render_template("dead_letters.html", rows=rows, total=total, store=store, spec=DEAD_LETTERS)


@blueprint.get("/api/fleet/dead-letters")
@require("operator")
def api_dead_letters() -> Response:
    store, rows = _rows(int_arg("limit", 1, 100_000, 1000))
    return table_response(DEAD_LETTERS, rows, filename="dead-letters" + (f"-{store}" if store else ""),
                          store=store)


page = Page(blueprint)
