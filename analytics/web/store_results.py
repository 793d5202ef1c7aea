"""What the analytics pages (trend, customers, products) share: one store's results as the signed-in
user may see them.

:func:`open_store` checks the store against the user's scope (404 outside it, exactly as for a store
that does not exist), reads the store (name, time zone, currency) and its newest successful run.
:meth:`StoreResults.get` calls a function of :mod:`analytics.jobs.results` with the store and the
user's allowed stores, and turns its :class:`~analytics.jobs.results.StoreNotAllowed` into the same
404, so no page or API ever tells one tenant about another's store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from flask import Response, abort

from analytics.jobs import results as rs
from analytics.web.context import hub
from analytics.web.datatable import TableSpec, as_dict, table_response
from analytics.web.queries import stores as sq
from analytics.web.tenancy import StoreScope, current_scope, require_store
from i18n import gettext as _

T = TypeVar("T")
NO_RUN = "No analytics for this store yet. Run `tillsight hub jobs` on the hub (a timer runs it nightly)."


@dataclass(frozen=True)
class StoreResults:
    info: sq.StoreInfo
    scope: StoreScope  # the one-store scope of this store
    run: dict[str, Any] | None = None  # the newest succeeded run, or None before the first

    @property
    def store_id(self) -> str:
        return self.info.store_id

    @property
    def allowed(self) -> frozenset[str]:
        return self.scope.store_ids

    @property
    def currency(self) -> str | None:
        return self.info.currency

    @property
    def as_of(self) -> date | None:
        return date.fromisoformat(self.run["as_of"]) if self.run and self.run.get("as_of") else None

    def get(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(engine, store_id, allowed, *args, **kwargs)`` of ``analytics.jobs.results``."""
        try:
            return fn(hub().engine, self.store_id, self.allowed, *args, **kwargs)
        except rs.StoreNotAllowed:
            abort(404, description=_("no store %(store)s", store=repr(self.store_id)))

    def with_currency(self, rows: Iterable[Any]) -> list[dict[str, Any]]:
        """The rows as dicts carrying the store's currency (money columns and exports read it)."""
        return [{**as_dict(r), "currency": self.currency} for r in rows]

    def table(self, spec: TableSpec, rows: Sequence[Any], file_stem: str, /, **extra: Any) -> Response:
        """The API answer for one table, with the store and the run it comes from."""
        return table_response(spec, rows, filename=f"{self.store_id}-{file_stem}", store_id=self.store_id,
                              currency=self.currency, run_id=self.run["run_id"] if self.run else None,
                              as_of=self.run["as_of"] if self.run else None, **extra)


def open_store(store_id: str) -> StoreResults:
    scope = require_store(store_id)
    with hub().connect() as conn:
        info = sq.store_info(conn, current_scope(), store_id)
    if info is None:
        abort(404, description=_("no store %(store)s", store=repr(store_id)))
    res = StoreResults(info=info, scope=scope)
    return replace(res, run=res.get(rs.latest_run))


def local_day(value: str | None, tz_name: str) -> str | None:
    """An ISO-8601 UTC instant as the store-local day."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)[:10]
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(sq.zone(tz_name)).date().isoformat()


def run_info(res: StoreResults) -> dict[str, Any] | None:
    """What a page says about the run it shows: analysis date, data range (store-local days), sales
    used and when it was computed."""
    run = res.run
    if run is None:
        return None
    return {"run_id": run["run_id"], "as_of": run["as_of"], "sales": run["sales"],
            "data_from": local_day(run.get("data_from"), res.info.timezone),
            "data_to": local_day(run.get("data_to"), res.info.timezone),
            "started_at": run.get("started_at"), "finished_at": run.get("finished_at"),
            "published_at": run.get("published_at")}


def share_text(items: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None, key: str = "category") -> str:
    """``[{category: grocery, share: 0.72}, ...]`` or ``{cash: 0.5, ...}`` -> ``grocery 72%, ...``."""
    if not items:
        return ""
    if isinstance(items, Mapping):
        pairs = list(items.items())
    else:
        pairs = [(i.get(key), i.get("share")) for i in items]
    return ", ".join(f"{name} {float(share) * 100:.0f}%" for name, share in pairs if name is not None)


def head_context(res: StoreResults, tab: str) -> dict[str, Any]:
    """What ``analytics_store_head.html`` needs: the store, the run, the current tab, and the newest
    run when it failed (so an owner sees why the page is empty or old)."""
    history = res.get(rs.run_history, 1)
    failed = history[0] if history and history[0]["status"] == "failed" else None
    return {"res": res, "run": run_info(res), "tab": tab, "failed_run": failed}
