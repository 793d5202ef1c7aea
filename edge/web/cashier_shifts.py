"""Shifts: open with a counted float, see the running X report, close with a cash count; the close
report (a printable page and JSON) is read back from the database.

A cashier sees only their own shifts; the owner sees everyone's.  With one cash drawer on the till
(``till.drawers: shared``, the default) one shift is open at a time: opening a second is refused with
the name of the cashier whose shift holds the drawer, and a supervisor may count and close that shift
(``shift_id`` in the close request) when its cashier has gone.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, jsonify, render_template, request
from werkzeug.exceptions import Forbidden

from edge.checkout.errors import CheckoutError
from edge.checkout.receipt import method_name
from edge.store.records import PAYMENT_METHODS
from edge.store.shifts import Shift
from edge.web.cashier_common import (
    ACTIVE_STATES,
    local_text,
    may_see_shift,
    money,
    money_text,
    shift_report,
    shift_view,
    user_name,
    whole_number,
)
from edge.web.cashier_common import cashier_blueprint as bp
from edge.web.context import ctx
from edge.web.forms import get_int
from edge.web.security import json_body, me, require
from i18n import gettext as _

log = logging.getLogger(__name__)


def visible_shifts(limit: int = 20) -> list[Shift]:
    user = me()
    store = ctx().store
    if user.at_least("owner"):
        return store.shifts.recent(limit)
    return store.shifts.recent(limit, cashier_id=user.id)


def visible_shift(shift_id: int) -> Shift:
    shift = ctx().store.shifts.get(shift_id)  # NotFoundError -> 404
    if not may_see_shift(me(), shift):
        raise Forbidden(_("a cashier sees only their own shifts"))
    return shift


def _report_context(shift: Shift) -> dict[str, Any]:
    report = shift_report(shift)
    return {"shift": shift, "report": report, "cashier_name": user_name(shift.cashier_id),
            "money": money_text, "local": local_text,
            "method_names": {m: method_name(m) for m in PAYMENT_METHODS}}


# -- pages ---------------------------------------------------------------------------------------
@bp.get("/shift")
@require("cashier")
def shift_page() -> str:
    user = me()
    shifts = ctx().store.shifts
    shift = shifts.open_for(user.id)
    context = _report_context(shift) if shift else {"shift": None, "report": None, "money": money_text,
                                                    "local": local_text, "method_names": {}}
    # one drawer: whose open shift holds it (a supervisor may count and close it here)
    holder = next(iter(shifts.open_on_till()), None) if shift is None and shifts.drawers == "shared" else None
    return render_template("cashier/shift.html", history=visible_shifts(), user_name=user_name,
                           drawer_holder=holder, **context)


@bp.get("/shift/<int:shift_id>/report")
@require("cashier")
def shift_report_page(shift_id: int) -> str:
    shift = visible_shift(shift_id)
    return render_template("cashier/shift_report.html", **_report_context(shift))


# -- API -----------------------------------------------------------------------------------------
@bp.get("/api/shift")
@require("cashier")
def shift_current() -> Response:
    shift = ctx().store.shifts.open_for(me().id)
    return jsonify(shift=shift_view(shift) if shift else None)


@bp.post("/api/shift/open")
@require("cashier")
def shift_open() -> Response:
    user = me()
    data = json_body()
    opening_float = money(data, "opening_float", ctx().store.settings.get().currency)
    names = {u.id: u.name for u in ctx().store.users.list(include_inactive=True)}
    shift = ctx().store.shifts.open(user.id, opening_float, names=names)  # a second open shift is a 400
    log.info("shift %s opened by %s with a float of %s", shift.id, user.id, opening_float)
    return jsonify(shift=shift_view(shift))


@bp.post("/api/shift/close")
@require("cashier")
def shift_close() -> Response:
    user = me()
    data = json_body()
    counted = money(data, "counted_cash", ctx().store.settings.get().currency)
    if data.get("shift_id") is not None:  # a supervisor closes the shift that holds the drawer
        shift = ctx().store.shifts.get(whole_number(data, "shift_id", lo=1, hi=2**62))
        if shift.cashier_id != user.id and not user.at_least("supervisor"):
            raise Forbidden(_("only a supervisor closes another cashier's shift"))
        if not shift.is_open:
            raise CheckoutError(_("shift #%(shift)s is already closed", shift=shift.id))
    else:
        found = ctx().store.shifts.open_for(user.id)
        if found is None:
            raise CheckoutError(_("you have no open shift to close"))
        shift = found
    session = ctx().checkout.session
    if session.state in ACTIVE_STATES and session.cashier is not None and session.cashier.id == shift.cashier_id:
        raise CheckoutError(_("finish or void the sale in progress before closing the shift"))
    closed = ctx().store.shifts.close(shift.id, counted)
    log.info("shift %s closed by %s: counted %s, expected %s", closed.id, user.id, counted, closed.expected_cash)
    return jsonify(shift=shift_view(closed))


@bp.get("/api/shifts")
@require("cashier")
def shift_list() -> Response:
    limit = get_int(request.args, "limit", 1, 200, default=20)
    return jsonify(shifts=[shift_view(s, with_report=False) for s in visible_shifts(limit)])


@bp.get("/api/shifts/<int:shift_id>")
@require("cashier")
def shift_get(shift_id: int) -> Response:
    return jsonify(shift=shift_view(visible_shift(shift_id)))
