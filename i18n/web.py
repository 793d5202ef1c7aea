"""Languages in a Flask app: the request's language, ``_()`` in templates, and the JavaScript catalogue.

``install(app, choose)`` wires one app (the device's and the hub's call it the same way):

* before every request, ``choose()`` names the request's :class:`RequestLocale` (the logged-in
  user's language, else the store's; the store's zone and currency) and it becomes current, so
  ``i18n.gettext`` in views and error handlers answers in it;
* Jinja gets ``_()``, ``gettext`` and ``ngettext`` (``{{ _("Pay %(amount)s", amount=total) }}``,
  ``{{ ngettext("%(num)d line", "%(num)d lines", n) }}``) and the filters ``money``, ``number``,
  ``decimal``, ``percent``, ``datetime``, ``date`` and ``time`` (store zone, request locale);
* templates get ``i18n_language`` (for ``<html lang>``), ``i18n_languages`` (for a picker) and
  ``i18n_head()``: a JSON data block with the translations of every message the app's JavaScript
  marks, plus ``<script src=".../i18n.js">``, which gives scripts ``_()``, ``ngettext()`` and
  ``I18n.money()`` / ``I18n.number()`` / ``I18n.datetime()`` (the same catalogues, the same formats).

The script is served by the ``i18n`` blueprint (endpoint ``i18n.static``: name it public in the app's
login guard).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.extract import extract_javascript
from flask import Blueprint, Flask, g, url_for
from markupsafe import Markup

from i18n.catalogues import DEFAULT_LANGUAGE, LANGUAGE_NAMES, SUPPORTED_LANGUAGES, normalize_language, translations
from i18n.formatting import (
    format_date,
    format_datetime,
    format_decimal,
    format_money,
    format_number,
    format_percent,
    format_time,
    money_digits,
)
from i18n.translate import current_language, current_locale, gettext, ngettext, reset_language, set_language

JS_KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


@dataclass(frozen=True)
class RequestLocale:
    """What one request is shown in: the language, the store's IANA zone and its currency."""

    language: str | None = None
    timezone: str | None = None
    currency: str | None = None


def _raw_gettext(message: str) -> str:  # Jinja fills the placeholders itself (newstyle gettext)
    return translations(current_language()).gettext(message)


def _raw_ngettext(singular: str, plural: str, num: int) -> str:
    return translations(current_language()).ngettext(singular, plural, num)


def js_messages(sources: Iterable[Path]) -> list[str | tuple[str, str]]:
    """The messages the JavaScript files in ``sources`` (files or folders) mark with ``_()`` or ``ngettext()``."""
    found: dict[str | tuple[str, str], None] = {}
    for source in sources:
        files = sorted(source.rglob("*.js")) if source.is_dir() else [source]
        for path in files:
            if "vendor" in path.parts:
                continue
            with path.open("rb") as f:
                for _line, func, message, _comments in extract_javascript(f, JS_KEYWORDS, [], {}):
                    if isinstance(message, tuple) and JS_KEYWORDS.get(func) is not None:  # ngettext(one, many, n)
                        if len(message) >= 2 and message[0] and message[1]:
                            found[(str(message[0]), str(message[1]))] = None
                        continue
                    # _("%(a)s %(b)s", {a: x, b: y}): the extractor reads the object's comma as more arguments
                    text = message[0] if isinstance(message, tuple) else message
                    if text:
                        found[str(text)] = None
    return list(found)


@functools.cache
def js_catalogue(language: str, messages: tuple[str | tuple[str, str], ...]) -> str:
    """The JSON the page embeds for its scripts: each message's translation in ``language`` (plural
    messages: the list of forms), only where it differs from the English."""
    trans = translations(language)
    table: dict[str, str | list[str]] = {}
    for message in messages:
        if isinstance(message, tuple):
            singular, plural = message
            forms = [trans.ngettext(singular, plural, n) for n in (1, 2)]
            if forms != [singular, plural]:
                table[singular] = forms
        else:
            text = trans.gettext(message)
            if text != message:
                table[message] = text
    return json.dumps(table, ensure_ascii=False, sort_keys=True)


def _money_shape(locale: str, currency: str) -> dict[str, Any]:
    """Where the sign and the symbol go around an amount (from the same format_money the server uses)."""
    probe = format_money(0, currency, locale)
    number = format_money(0, currency, locale, symbol=False)
    before, _, after = probe.partition(number)
    negative = format_money(-(10 ** money_digits(currency)), currency, locale)
    one = format_money(10 ** money_digits(currency), currency, locale, symbol=False)
    neg_before, _, neg_after = negative.partition(one)
    return {"currency": currency, "digits": money_digits(currency), "prefix": before, "suffix": after,
            "negPrefix": neg_before, "negSuffix": neg_after}


def install(app: Flask, choose: Callable[[], RequestLocale], js_sources: Iterable[Path] = ()) -> None:
    """Make ``app`` speak the language ``choose()`` names for each request (see the module docstring)."""
    sources = tuple(js_sources) or ((Path(app.static_folder),) if app.static_folder else ())
    messages = tuple(js_messages(sources))

    def _begin() -> None:
        chosen = choose()
        g.i18n_locale = chosen
        g.i18n_token = set_language(chosen.language, chosen.timezone)

    def _end(_exc: BaseException | None) -> None:
        token = g.pop("i18n_token", None)
        if token is not None:
            try:
                reset_language(token)
            except ValueError:  # made in another context (a streamed response): nothing to undo here
                pass

    # first, so a guard that answers early (a login redirect, a refusal) already answers in the language
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.teardown_request(_end)

    env = app.jinja_env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_raw_gettext, _raw_ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["_"] = env.globals["gettext"]

    def _request() -> RequestLocale:
        return g.get("i18n_locale") or RequestLocale()

    def money(minor: int | None, currency: str | None = None, symbol: bool = True) -> str:
        if minor is None:
            return "—"
        return format_money(minor, currency or _request().currency or "USD", symbol=symbol)

    def when(value: datetime | str | None, format: str = "medium") -> str:
        return "" if value in (None, "") else format_datetime(value, _request().timezone, format=format)

    def day(value: date | datetime | str | None, format: str = "medium") -> str:
        return "" if value in (None, "") else format_date(value, _request().timezone, format=format)

    def clock(value: datetime | str | None, format: str = "short") -> str:
        return "" if value in (None, "") else format_time(value, _request().timezone, format=format)

    def number(value: int | float | Decimal | None, digits: int | None = None) -> str:
        if value is None:
            return "—"
        return format_decimal(value, digits=digits) if digits is not None or not isinstance(value, int) \
            else format_number(value)

    def percent(value: float | Decimal | None, digits: int = 0) -> str:
        return "—" if value is None else format_percent(value, digits=digits)

    env.filters.update(money=money, datetime=when, date=day, time=clock, number=number, decimal=number,
                       percent=percent)

    def i18n_head() -> Markup:
        chosen = _request()
        locale = current_locale()
        data = {"language": current_language(), "locale": str(Locale.parse(locale)).replace("_", "-"),
                "timezone": chosen.timezone or "UTC",
                "money": _money_shape(locale, chosen.currency or "USD"),
                "messages": json.loads(js_catalogue(current_language(), messages))}
        text = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
        script = url_for("i18n.static", filename="i18n.js")
        return Markup(f'<script type="application/json" id="i18n-catalogue">{text}</script>\n'
                      f'  <script src="{script}"></script>')

    @app.context_processor
    def _languages() -> dict[str, Any]:
        return {"i18n_language": current_language(), "i18n_head": i18n_head,
                "i18n_languages": [(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LANGUAGES]}

    app.register_blueprint(Blueprint("i18n", __name__, static_folder="static", static_url_path="/i18n/static"))


def language_choice(value: str | None) -> str | None:
    """A language from a form ("" means "the store's"): a shipped code, or ``None``; unknown -> ValueError."""
    if value is None or not value.strip():
        return None
    code = value.strip().lower()
    if code not in SUPPORTED_LANGUAGES:
        raise ValueError(gettext("unknown language %(code)s (known: %(known)s)", code=value,
                                 known=", ".join(SUPPORTED_LANGUAGES)))
    return code


__all__ = ["DEFAULT_LANGUAGE", "RequestLocale", "install", "js_catalogue", "js_messages", "language_choice",
           "ngettext", "normalize_language"]
