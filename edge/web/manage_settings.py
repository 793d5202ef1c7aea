"""Store settings: name and address on the receipt, currency, tax rate, time zone, low-stock default.

The tax rate is typed as a percentage with up to two decimals ("18", "7.25") and kept in basis
points (1800, 725).  Every refusal names its field.
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict
from typing import Any
from zoneinfo import available_timezones

from flask import jsonify, request
from werkzeug.wrappers import Response  # what redirect() is typed to return; flask's Response is one

from contracts.money import exponent
from edge.store.settings import StoreSettings
from edge.web.context import ctx
from edge.web.forms import BadInput, get_int, get_text
from edge.web.manage import PageAnswer, done, form_action, render, settings, settings_changed
from edge.web.manage import manage_blueprint as bp
from edge.web.security import json_body, require
from i18n import _
from i18n.web import language_choice

_PERCENT_RE = re.compile(r"^(\d{1,2})(?:[.,](\d{1,2}))?$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
MAX_TAX_BP = 5000
FIELDS = ("store_name", "address", "currency", "tax_rate", "tax_rate_bp", "timezone", "receipt_footer",
          "low_stock_default", "language")


@functools.lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


def percent_text(bp_value: int) -> str:
    return f"{bp_value // 100}.{bp_value % 100:02d}"


def settings_json(s: StoreSettings) -> dict[str, Any]:
    return {**asdict(s), "tax_rate_percent": percent_text(s.tax_rate_bp)}


def _tax_bp(data: dict[str, Any]) -> int:
    if "tax_rate" in data and "tax_rate_bp" in data:
        raise BadInput("tax_rate_bp", _("give the tax rate once: tax_rate (percent) or tax_rate_bp, not both"))
    if "tax_rate" in data:
        value = data["tax_rate"]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise BadInput("tax_rate", _("must be a percentage such as 18 or 7.25"))
        m = _PERCENT_RE.match(str(value).strip())
        if not m:
            raise BadInput("tax_rate",
                           _("must be a percentage from 0 to 50 with at most 2 decimals, such as 18 or 7.25"))
        bp_value = int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0"))
        if bp_value > MAX_TAX_BP:
            raise BadInput("tax_rate", _("must be between 0 and 50 %"))
        return bp_value
    return get_int(data, "tax_rate_bp", 0, MAX_TAX_BP)


def _currency(data: dict[str, Any], current: StoreSettings) -> str:
    code = get_text(data, "currency", 3).upper()
    if not _CURRENCY_RE.match(code):
        raise BadInput("currency", _("must be a three-letter ISO 4217 code such as DOP, USD or EUR"))
    if exponent(code) != exponent(current.currency) and ctx().store.products.count():
        raise BadInput("currency", _("%(code)s has %(digits)s decimals but %(current)s has %(current_digits)s: "
                                     "every stored price would change meaning", code=code, digits=exponent(code),
                                     current=current.currency, current_digits=exponent(current.currency)))
    return code


def _timezone(data: dict[str, Any]) -> str:
    zone = get_text(data, "timezone", 64)
    if zone not in time_zones():
        raise BadInput("timezone", _("unknown time zone %(zone)r; pick one from the list (e.g. America/Santo_Domingo)",
                                     zone=zone))
    return zone


def _language(data: dict[str, Any]) -> str:
    try:
        language = language_choice(str(data.get("language") or ""))
    except ValueError as exc:
        raise BadInput("language", str(exc)) from None
    if language is None:
        raise BadInput("language", _("pick the language the store speaks"))
    return language


def update_settings(data: dict[str, Any]) -> StoreSettings:
    unknown = sorted(set(data) - set(FIELDS) - {"csrf_token"})
    if unknown:
        raise BadInput(unknown[0], _("is not a setting"))
    current = settings()
    changes: dict[str, Any] = {}
    if "store_name" in data:
        changes["store_name"] = get_text(data, "store_name", 120)
    if "address" in data:
        changes["address"] = get_text(data, "address", 200, required=False)
    if "currency" in data:
        changes["currency"] = _currency(data, current)
    if "tax_rate" in data or "tax_rate_bp" in data:
        changes["tax_rate_bp"] = _tax_bp(data)
    if "timezone" in data:
        changes["timezone"] = _timezone(data)
    if "receipt_footer" in data:
        changes["receipt_footer"] = get_text(data, "receipt_footer", 200, required=False)
    if "low_stock_default" in data:
        changes["low_stock_default"] = get_int(data, "low_stock_default", 0, 1_000_000)
    if "language" in data:
        changes["language"] = _language(data)
    new = ctx().store.settings.update(**changes)
    settings_changed()
    return new


# -- page --------------------------------------------------------------------------------------
def _settings_page(error: str | None = None, form: dict[str, Any] | None = None) -> str:
    s = settings()
    form = form or {**asdict(s), "tax_rate": percent_text(s.tax_rate_bp)}
    field = error.split(":", 1)[0] if error else ""
    return render("settings.html", form=form, error=error, error_field=field, zones=time_zones())


@bp.get("/manage/settings")
@require("owner")
def settings_page() -> str:
    return _settings_page()


@bp.post("/manage/settings")
@require("owner")
def settings_update() -> PageAnswer:
    data = request.form.to_dict()

    def action() -> Response:
        update_settings(data)
        return done(_("Settings saved; the till uses them from its next sale"), "manage.settings_page")

    return form_action(action, lambda msg: _settings_page(error=msg, form=data))


# -- API ---------------------------------------------------------------------------------------
@bp.get("/api/settings")
@require("owner")
def api_settings() -> Response:
    return jsonify(settings=settings_json(settings()))


@bp.put("/api/settings")
@require("owner")
def api_settings_update() -> Response:
    return jsonify(settings=settings_json(update_settings(json_body())))
