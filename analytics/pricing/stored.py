"""A store's pricing report, computed once and stored, so the Pricing page never computes it on a request.

Computing a report (``suggest.pricing_report``) fits every product's elasticity and prices every option
inside the rails: seconds for a shop, ten or more for a 3,600-product store.  The nightly job
(``analytics/jobs/runner.py``) calls :func:`compute_and_store` after the forecasts; an owner may ask for
it again from the page ("recompute now", and after changing the guard rails).  The page and
``GET /api/stores/<id>/pricing`` read :func:`load_report`, which says when it was computed.

The report is stored whole (``pricing_reports``, one row per store): :func:`encode_report` turns the
report's dataclasses into JSON and :func:`decode_report` builds them back from their type hints, so
an approval on the page has every figure it had when it was computed (the price, the cost in shelf
terms, the elasticity and its uncertainty).  Decisions made since the report was computed are laid
over it when it is read (:func:`with_decisions`): a product approved or rejected shows as such at
once, and an offer decided on leaves the list.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
import types
import typing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Engine, select

from analytics.jobs.data import StoreData
from analytics.pricing import changes as ch
from analytics.pricing.suggest import QUIET_DAYS, PricingReport, ProductAdvice, pricing_report
from analytics.pricing.tables import pricing_reports
from contracts.timestamps import format_utc

log = logging.getLogger(__name__)

FORMAT = 1  # the encoding's version: a report stored in another is computed again


@dataclass(frozen=True)
class StoredReport:
    report: PricingReport
    computed_at: str  # UTC, ...Z
    computed_by: str  # "nightly" or a user id
    seconds: float


# -- the codec -------------------------------------------------------------------------------------

def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decode(inner[0], value)
    if value is None:
        return None
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        return tp(**{f.name: _decode(hints[f.name], value[f.name])
                     for f in dataclasses.fields(tp) if f.init and f.name in value})
    if origin is list:
        (item,) = typing.get_args(tp)
        return [_decode(item, v) for v in value]
    if origin is tuple:
        args = typing.get_args(tp)
        return tuple(_decode(args[0], v) for v in value)
    if origin is dict:
        _key, item = typing.get_args(tp)
        return {k: _decode(item, v) for k, v in value.items()}
    if tp is date:
        return date.fromisoformat(value)
    if tp is float:
        return float(value)
    if tp is int:
        return int(value)
    return value


def encode_report(report: PricingReport) -> dict[str, Any]:
    return {"format": FORMAT, "report": _encode(report)}


def decode_report(doc: dict[str, Any]) -> PricingReport | None:
    """The report, or None when it was stored in another format (compute it again)."""
    if doc.get("format") != FORMAT:
        return None
    report = _decode(PricingReport, doc["report"])
    assert isinstance(report, PricingReport)
    return report


# -- storing and reading ---------------------------------------------------------------------------

def save_report(engine: Engine, report: PricingReport, computed_at: datetime, by: str, seconds: float) -> None:
    values = {"computed_at": format_utc(computed_at), "computed_by": by[:120],
              "as_of": report.as_of.isoformat() if report.as_of else None, "seconds": round(seconds, 2),
              "report": encode_report(report)}
    with engine.begin() as conn:
        done = conn.execute(pricing_reports.update().where(pricing_reports.c.store_id == report.store_id)
                            .values(**values))
        if not done.rowcount:
            conn.execute(pricing_reports.insert().values(store_id=report.store_id, **values))


def compute_and_store(engine: Engine, store_id: str, now: datetime, by: str,
                      data: StoreData | None = None) -> StoredReport:
    """Compute the store's report as of ``now`` and store it in place of the last one."""
    started = time.perf_counter()
    report = pricing_report(engine, store_id, now=now, data=data)
    seconds = time.perf_counter() - started
    save_report(engine, report, now, by, seconds)
    log.info("pricing report of %s computed in %.1f s (%s)", store_id, seconds, by)
    return StoredReport(report, format_utc(now), by, round(seconds, 2))


def load_report(engine: Engine, store_id: str) -> StoredReport | None:
    """The store's stored report as it was computed (None: never computed, or in an older format)."""
    with engine.connect() as conn:
        row = conn.execute(select(pricing_reports).where(pricing_reports.c.store_id == store_id)).mappings().first()
    if row is None:
        return None
    report = decode_report(row["report"])
    if report is None:
        return None
    return StoredReport(report, str(row["computed_at"]), str(row["computed_by"]), float(row["seconds"]))


def with_decisions(engine: Engine, report: PricingReport, now: datetime) -> PricingReport:
    """The report with the decisions made since it was computed laid over it: a product decided on
    shows as pending or rejected, and an offer touching it leaves the list."""
    decided = ch.recent_decisions(engine, report.store_id, now.astimezone(UTC) - timedelta(days=QUIET_DAYS))
    if not decided:
        return report
    products = []
    for a in report.products:
        recent = decided.get(a.position.sku)
        if recent is None or a.kind in ("pending", "rejected"):
            products.append(a)
            continue
        kind = "pending" if recent["status"] in ("approved", "sent") else "rejected"
        products.append(ProductAdvice(a.position, a.elasticity, kind, None, None,
                                      ch.describe(recent, report.currency, report.timezone), [],
                                      [ch.describe_phrase(recent)]))
    offers = [o for o in report.offers if not any(s in decided for s in o.offer.skus)]
    return dataclasses.replace(report, products=products, offers=offers)
