"""Management pages and their JSON API (the ``manage`` blueprint).

| module | pages | API |
|---|---|---|
| ``manage_products`` | ``/manage/products`` catalogue: add, edit, (de)activate, receive stock | ``/api/products`` |
| ``manage_staff`` | ``/manage/staff`` cashiers, supervisors, owners: PINs, passwords, roles, unlock | ``/api/staff`` |
| ``manage_settings`` | ``/manage/settings`` store name, currency, tax rate, time zone, receipt | ``/api/settings`` |
| ``manage_customers`` | ``/manage/customers`` credit customers: limits, balance, payments | ``/api/manage/customers`` |
| ``manage_stock`` | ``/manage/stock-count``, ``/manage/stock-movements`` | ``/api/stock-count``, |
|  |  | ``/api/stock/movements`` |
| ``manage_candidates`` | ``/manage/candidates`` corrections' crops for the gallery | ``/api/manage/candidates`` |
| ``manage_receiving`` | ``/manage/receiving`` deliveries with unit cost and supplier | ``/api/receiving`` |
| ``manage_suppliers`` | ``/manage/suppliers`` suppliers, their products and lead times | ``/api/suppliers`` |

Everything is owner-only except the stock count, the movement history, receiving and suppliers (supervisor
and up) and
the product list (any logged-in staff member may read it).  Each action is one function that takes
the submitted fields as a dict, so an HTML form post and a JSON call run the same checks; a form
post that fails is shown again with the error and the values typed, and answers 400.

This module holds the blueprint and the helpers the page modules share; importing it registers
every route.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, get_flashed_messages, redirect, render_template, url_for
from werkzeug.exceptions import Conflict
from werkzeug.wrappers import Response

import i18n
from contracts.money import exponent
from edge.store.errors import ValidationError
from edge.store.settings import StoreSettings
from edge.web.context import ctx
from edge.web.forms import BadInput, get_money

log = logging.getLogger(__name__)

manage_blueprint = Blueprint("manage", __name__)

_TRUE = ("1", "true", "on", "yes")
_FALSE = ("0", "false", "off", "no")


def settings() -> StoreSettings:
    return ctx().store.settings.get()


def fmt_money(minor: int, currency: str | None = None) -> str:
    return i18n.format_money(int(minor), currency or settings().currency)  # the request's locale


def plain_amount(minor: int, currency: str) -> str:
    """Minor units as an amount someone can type back: ``1250`` -> ``"12.50"`` (no symbol, no commas)."""
    exp = exponent(currency)
    whole, frac = divmod(int(minor), 10**exp)
    return f"{whole}.{frac:0{exp}d}" if exp else str(whole)


def local_time(iso_utc: str | None, tz_name: str | None = None) -> str:
    """``2026-11-21T14:03:11Z`` -> ``2026-11-21 10:03`` in the store's time zone ("" for none)."""
    if not iso_utc:
        return ""
    try:
        at = datetime.strptime(iso_utc[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return iso_utc
    return at.astimezone(ZoneInfo(tz_name or settings().timezone)).strftime("%Y-%m-%d %H:%M")


def money_field(data: dict[str, Any], key: str, lo: int = 0, hi: int = 10**11,
                default: int | None = None) -> int:
    """Money in minor units ("12.50" typed, or a JSON integer of minor units); range errors in money."""
    cur = settings().currency
    try:
        return get_money(data, key, cur, lo, hi, default)
    except BadInput as exc:
        if "between" in str(exc):
            raise BadInput(key, i18n.gettext("must be between %(low)s and %(high)s", low=fmt_money(lo, cur),
                                             high=fmt_money(hi, cur))) from None
        raise


def strict_bool(data: dict[str, Any], key: str) -> bool:
    """A yes/no field: JSON true/false or "1"/"0"/"true"/"false"/"on"/"off"; anything else is a 400."""
    value = data.get(key)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise BadInput(key, i18n.gettext("must be true or false"))


def conflict(message: str) -> Conflict:
    return Conflict(description=message)


def catalogue_changed() -> None:
    """Tell the appliance the catalogue changed (caches of names and prices)."""
    try:
        ctx().on_settings_changed()
    except Exception:  # the change is stored; a failing cache refresh must not undo the page
        log.exception("on_settings_changed failed after a catalogue change")


def settings_changed() -> None:
    catalogue_changed()
    try:
        ctx().checkout.settings_changed()
    except Exception:
        log.exception("checkout could not take the new settings")


def render(template: str, **values: Any) -> str:
    """Render a management template with the helpers every one of them uses."""
    s = settings()
    return render_template(f"manage/{template}", money=lambda m: fmt_money(m, s.currency),
                           local=lambda iso: local_time(iso, s.timezone), settings=s,
                           messages=get_flashed_messages(with_categories=True), **values)


def done(message: str, endpoint: str, **url_values: Any) -> Response:
    """After a successful form post: a notice, then back to a page (303, so a reload does not re-post)."""
    flash(message, "notice")
    return redirect(url_for(endpoint, **url_values), code=303)


# what a management page's form post answers: a redirect (``done``), the page, or the page again with a status
PageAnswer = Response | str | tuple[str, int]


def form_action(action: Callable[[], Response | str], on_error: Callable[[str], str]) -> PageAnswer:
    """Run a form post's action; on a refused value show the page again with the message (400/409)."""
    try:
        return action()
    except Conflict as exc:
        return on_error(str(exc.description)), 409
    except (BadInput, ValidationError) as exc:
        return on_error(str(exc)), 400


# importing the page modules registers their routes on the blueprint
from edge.web import (  # noqa: E402,F401
    manage_candidates,
    manage_customers,
    manage_products,
    manage_receiving,
    manage_settings,
    manage_staff,
    manage_stock,
    manage_suppliers,
)
