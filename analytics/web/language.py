"""The language each hub page is shown in (issue 28): the logged-in user's (their account setting), else
the language of the store the page is about (its settings ``language``, else the language its devices
report), else of the first store the user
may see; before login, the browser's preferred one.  Numbers, money and times follow that language and the
store's country and zone (:mod:`i18n`); the store's currency is the page's."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy import select

from analytics.db import tables as t
from analytics.llm.language import reported_language, resolve_language
from analytics.web.context import hub
from analytics.web.security import current_user
from analytics.web.tenancy import current_scope
from i18n import N_, SUPPORTED_LANGUAGES
from i18n.web import RequestLocale

# the labels of the hub's navigation (NavItem labels are data; the template translates them)
NAV_LABELS = (N_("Stores"), N_("Fleet"), N_("Trend"), N_("Products"), N_("Customers"), N_("Insights"), N_("Ask"),
              N_("Credit"), N_("AI usage"), N_("Overview"), N_("Dead letters"))
ROLE_LABELS = (N_("viewer"), N_("owner"), N_("operator"))


def _store_row(store_id: str | None) -> tuple[Any, str]:
    """The store's row and its language (the hub's setting, else the one its devices report)."""
    s = t.stores.c
    scope = current_scope()
    with hub().connect() as conn:
        q = select(s.store_id, s.timezone, s.currency, s.settings).where(scope.where(s.store_id))
        row = conn.execute(q.where(s.store_id == store_id) if store_id else q.order_by(s.store_id).limit(1)).first()
        if row is None:
            return None, "en"
        return row, resolve_language(row.settings, reported_language(conn, row.store_id))


def request_locale() -> RequestLocale:
    """The :class:`RequestLocale` of the current request (``i18n.web.install`` calls it first thing)."""
    user = current_user()
    if user is None:
        return RequestLocale(request.accept_languages.best_match(SUPPORTED_LANGUAGES) or "en")
    store_id = (request.view_args or {}).get("store_id") or request.args.get("store")
    row, store_lang = _store_row(store_id if isinstance(store_id, str) else None)
    if row is None and store_id:
        row, store_lang = _store_row(None)
    return RequestLocale(user.language or store_lang, row.timezone if row is not None else None,
                         row.currency if row is not None else None)
