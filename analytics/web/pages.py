"""The hub web app's pages: each is a blueprint plus its navigation entries.

To add a page, write a module with a ``Blueprint`` and a ``page = Page(blueprint, nav=(...))``,
then add one ``"module:page"`` line to ``PAGES`` below.  ``create_app`` registers them in this
order, builds the top navigation (entries with ``per_store=False``, shown to users holding at
least the entry's role) and the per-store tabs of the store page (``per_store=True``: the
endpoint takes a ``store_id`` argument).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass

from flask import Blueprint

from analytics.web.accounts import ROLE_RANK


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    role: str = "viewer"  # the lowest role that sees the entry (and may open the page)
    per_store: bool = False  # a tab on the store page (endpoint(store_id=...)) instead of the top bar
    order: int = 100

    def __post_init__(self) -> None:
        if self.role not in ROLE_RANK:
            raise ValueError(f"nav item {self.label!r}: unknown role {self.role!r}")


@dataclass(frozen=True)
class Page:
    blueprint: Blueprint
    nav: tuple[NavItem, ...] = ()


# "module:attribute" of every page, in registration order.  Add your page here (one line).
PAGES: tuple[str, ...] = (
    "analytics.web.auth_views:page",
    "analytics.web.home:page",
    "analytics.web.stores:page",
    "analytics.web.fleet:page",
    "analytics.web.dead_letters:page",
    "analytics.web.trend:page",
    "analytics.web.customers:page",
    "analytics.web.products:page",
    "analytics.web.pricing:page",
    "analytics.web.ai_usage:page",
    "analytics.web.insights_page:page",
    "analytics.web.credit:page",
    "analytics.web.ask:page",
)


def load_pages(names: Iterable[str] = PAGES) -> list[Page]:
    out = []
    for name in names:
        module, _, attr = name.partition(":")
        page = getattr(importlib.import_module(module), attr or "page")
        if not isinstance(page, Page):
            raise TypeError(f"{name} is not an analytics.web.pages.Page")
        out.append(page)
    return out
