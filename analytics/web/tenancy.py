"""Tenant isolation: which stores the current user may see, as a value every query takes.

Every query function of the hub web app takes a :class:`StoreScope` and filters with
``scope.where(table.c.store_id)``; a view gets the scope from :func:`current_scope` (operators:
every store; owners and viewers: the stores listed for them) and checks a store named in the URL
with :func:`require_store`, which answers 404 for a store outside the scope, exactly as for a
store that does not exist, so a URL never tells one tenant about another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import abort, g
from sqlalchemy import ColumnElement, false, true

from i18n import gettext as _


@dataclass(frozen=True)
class StoreScope:
    """``all_stores`` (operators) or exactly ``store_ids``; an empty scope sees nothing."""

    all_stores: bool = False
    store_ids: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def everything(cls) -> StoreScope:
        return cls(all_stores=True)

    @classmethod
    def only(cls, store_ids: Iterable[str]) -> StoreScope:
        return cls(all_stores=False, store_ids=frozenset(store_ids))

    def allows(self, store_id: str) -> bool:
        return self.all_stores or store_id in self.store_ids

    def where(self, column: ColumnElement) -> ColumnElement[bool]:
        """A WHERE clause limiting ``column`` (a store id column) to this scope."""
        if self.all_stores:
            return true()
        if not self.store_ids:
            return false()
        return column.in_(sorted(self.store_ids))

    def narrow(self, store_id: str) -> StoreScope:
        """The scope of one store inside this one (empty when the store is outside it)."""
        return StoreScope.only([store_id] if self.allows(store_id) else [])

    def to_json(self) -> dict[str, object]:
        return {"all_stores": self.all_stores, "store_ids": sorted(self.store_ids)}


def scope_for(user: object) -> StoreScope:
    """The scope of a :class:`~analytics.web.accounts.HubUser` (or nothing for no user)."""
    if user is None:
        return StoreScope.only([])
    if getattr(user, "all_stores", False):
        return StoreScope.everything()
    return StoreScope.only(getattr(user, "stores", ()))


def current_scope() -> StoreScope:
    """The logged-in user's scope, for this request."""
    if "hub_scope" not in g:
        from analytics.web.security import current_user

        g.hub_scope = scope_for(current_user())
    return g.hub_scope


def require_store(store_id: str) -> StoreScope:
    """The one-store scope of ``store_id`` for the current user, or a 404 (never a hint that the
    store exists elsewhere)."""
    scope = current_scope()
    if not scope.allows(store_id):
        abort(404, description=_("no store %(store)s", store=repr(store_id)))
    return scope.narrow(store_id)
