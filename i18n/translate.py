"""Translating a message into the current language.

The current language is a context variable: the web apps set it for each request (:mod:`i18n.web`),
and other code sets it for a block with :func:`use_language`, e.g. to print a receipt in the store's
language or write a reminder in the customer's. Outside both it is English.

Messages use Python's ``%(name)s`` placeholders, filled *after* translation, so a translator can
move them: ``gettext("%(count)d items left", count=n)``. ``ngettext`` adds ``num`` itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from babel.support import LazyProxy

from i18n.catalogues import DEFAULT_LANGUAGE, normalize_language, translations
from i18n.formatting import formatting_locale

# the current formatting locale ("es_DO"); its language part picks the catalogue
_locale: ContextVar[str] = ContextVar("tillsight_locale", default=DEFAULT_LANGUAGE)


def current_language() -> str:
    """The language messages are translated into now: "en", "es" or "fr"."""
    return normalize_language(_locale.get())


def current_locale() -> str:
    """The Babel locale numbers and dates are formatted for now ("es_DO")."""
    return _locale.get()


def set_language(language: str | None, timezone: str | None = None) -> Token[str]:
    """Make ``language`` (read in the country of ``timezone``) current in this context; returns a token
    for :func:`reset_language`. The web apps call it once per request."""
    return _locale.set(formatting_locale(normalize_language(language), timezone))


def reset_language(token: Token[str]) -> None:
    _locale.reset(token)


@contextmanager
def use_language(language: str | None, timezone: str | None = None) -> Iterator[str]:
    """``with use_language("es", store_zone):`` every message inside is Spanish and numbers are written
    as the store's country writes them; the previous language comes back after. Yields the locale."""
    token = set_language(language, timezone)
    try:
        yield _locale.get()
    finally:
        _locale.reset(token)


def _fill(text: str, variables: dict[str, Any]) -> str:
    return text % variables if variables else text


def gettext(message: str, **variables: Any) -> str:
    """``message`` in the current language, with ``%(name)s`` placeholders filled from ``variables``."""
    return _fill(translations(current_language()).gettext(message), variables)


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """The form of ``singular`` / ``plural`` that ``num`` takes in the current language ("1 línea",
    "2 líneas"); ``%(num)d`` in the message is ``num``."""
    text = translations(current_language()).ngettext(singular, plural, num)
    return text % {"num": num, **variables}


def pgettext(context: str, message: str, **variables: Any) -> str:
    """``message`` told apart by ``context`` (the same English word translated two ways)."""
    return _fill(str(translations(current_language()).pgettext(context, message)), variables)


def translate_in(language: str | None, message: str, **variables: Any) -> str:
    """``message`` in ``language``, whatever the current one is."""
    return _fill(translations(normalize_language(language)).gettext(message), variables)


def lazy_gettext(message: str, **variables: Any) -> LazyProxy:
    """A message translated when it is used, not when the module is imported (module-level constants)."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


def N_(message: str) -> str:  # the gettext convention: marks, does not translate
    """Marks ``message`` for extraction only; translate it with ``gettext(value)`` where it is shown."""
    return message


_ = gettext
