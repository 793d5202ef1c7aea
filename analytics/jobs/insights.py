"""The store's morning insights document, built from its newest analytics run, in the shape the
device dashboard shows (``edge/web/dashboard.py``: ``headline``, ``items`` of ``{title, text}``,
``generated_at``, ``source``).  The structured parts (``forecast``, ``staffing``, ``reorder``,
``segments``) ride along for clients that want numbers; the dashboard ignores them.  ``source`` is
``computed``: the text is written from the figures, not by a language model.

Two more parts for the dashboard: ``narrative`` (``{period, title, text, source, generated_at}``,
the store's daily narrative, ``analytics.narratives``: written by the language model when one is
given and configured, else computed, and marked so) and ``collections`` (credit customers to
remind, from ``analytics.credit.reminders.device_reminders``; empty when that is not installed).
The device treats both as optional, so older documents keep working.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from analytics.jobs import results as rs
from analytics.jobs.data import store_info
from contracts.money import format_money
from contracts.timestamps import format_utc

log = logging.getLogger(__name__)

SCHEMA = "tillsight.insights/1"
MAX_BYTES = 256 * 1024  # what the device accepts
REORDER_ITEMS = 10
COLLECTION_ITEMS = 10
_REMINDER_KEYS = ("customer_id", "name", "balance", "currency", "priority", "predicted_payment_date", "message")


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 product``, ``3 products`` (``many`` when the plural is not ``one`` + s)."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _hour(h: int) -> str:
    return f"{h:02d}:00"


def _staff_text(hours: list[dict[str, Any]]) -> str:
    if not hours:
        return "No trading expected."
    spans: list[tuple[int, int, int]] = []
    for h in hours:
        if spans and spans[-1][2] == h["staff"] and spans[-1][1] == h["hour"]:
            spans[-1] = (spans[-1][0], h["hour"] + 1, h["staff"])
        else:
            spans.append((h["hour"], h["hour"] + 1, h["staff"]))
    parts = [f"{n} {'person' if n == 1 else 'people'} {_hour(a)}-{_hour(b)}" for a, b, n in spans]
    return "; ".join(parts) + "."


def daily_narrative(engine: Engine, store_id: str, now: datetime, ai: Any = None) -> dict[str, Any] | None:
    """The store's daily narrative at ``now`` for the device (None when it cannot be written)."""
    try:
        from analytics.narratives.narrative import current

        return current(engine, store_id, "daily", ai=ai, now=now).for_device()
    except Exception:  # the morning document goes out without it rather than not at all
        log.exception("daily narrative for %s failed", store_id)
        return None


def collection_reminders(engine: Engine, store_id: str, as_of: datetime,
                         limit: int = COLLECTION_ITEMS) -> list[dict[str, Any]]:
    """Credit customers to remind at ``as_of`` (``analytics.credit.reminders``); [] when that part is absent."""
    try:
        from analytics.credit.reminders import device_reminders
    except ImportError:
        return []
    try:
        found = device_reminders(engine, store_id, as_of, limit=limit)
    except Exception:
        log.exception("collection reminders for %s failed", store_id)
        return []
    out = []
    for r in list(found or [])[:limit]:
        if isinstance(r, dict):
            out.append({k: r.get(k) for k in _REMINDER_KEYS})
    return out


def build_insights(engine: Engine, store_id: str, now: datetime, allowed: list[str] | None = None,
                   today: date | None = None, ai: Any = None, narrative: bool = True) -> dict[str, Any] | None:
    """The insights document for ``store_id`` as written at ``now`` (the caller reads the clock; None
    before the store's first successful run).  ``today`` is the store-local day to describe (default:
    the store's day at ``now`` when the forecast covers it, else the first forecast day); the
    narrative and the collection reminders are as of ``now`` too.  ``ai`` (an
    ``analytics.llm.AIService``) writes the narrative when configured; ``narrative=False`` leaves it out."""
    allowed = allowed if allowed is not None else [store_id]
    run = rs.latest_run(engine, store_id, allowed)
    if run is None:
        return None
    info = store_info(engine, store_id)
    cur = info.currency if info else "XXX"
    revenue = rs.store_forecast(engine, store_id, allowed, "revenue", run["run_id"])
    sales = rs.store_forecast(engine, store_id, allowed, "sales", run["run_id"])
    days = [r["day"] for r in revenue]
    local_today = now.astimezone(ZoneInfo(info.timezone)).date().isoformat() if info else None
    day = (today.isoformat() if today else None) or (
        local_today if local_today in days else (days[0] if days else None))
    rev = next((r for r in revenue if r["day"] == day), None)
    cnt = next((r for r in sales if r["day"] == day), None)
    staff = rs.staffing(engine, store_id, allowed, day, run["run_id"])
    order_now = rs.reorder_list(engine, store_id, allowed, only_order_now=True, limit=REORDER_ITEMS,
                                run_id=run["run_id"])
    stock_known = bool(order_now) or any(r["on_hand"] is not None for r in
                                         rs.reorder_list(engine, store_id, allowed, limit=50, run_id=run["run_id"]))
    top_reorder = order_now if stock_known else rs.reorder_list(engine, store_id, allowed, include_slow=False,
                                                                limit=REORDER_ITEMS, run_id=run["run_id"])
    rfm = rs.segments(engine, store_id, allowed, "rfm", run["run_id"])
    basket = rs.segments(engine, store_id, allowed, "basket", run["run_id"])
    churn = rs.churn_risk_list(engine, store_id, allowed, limit=5, run_id=run["run_id"])
    counts = rs.advice_counts(engine, store_id, allowed, run["run_id"])  # the whole lists, not what is shown

    items: list[dict[str, str]] = []
    weekday = date.fromisoformat(day).strftime("%A %d %B") if day else ""
    closed = rev is not None and rev["mean"] == 0 and (cnt or {}).get("mean", 0) == 0
    if rev and cnt and not closed:
        headline = (f"{weekday}: about {plural(cnt['mean'], 'sale')} and {format_money(rev['mean'], cur)} expected"
                    + (f"; busiest at {_hour(max(staff['hours'], key=lambda h: h['sales'])['hour'])}"
                       if staff["hours"] else "") + ".")
        # "Today" only when it is the store's today: a run from before midnight describes another day
        items.append({"title": "Today's forecast" if day == local_today else f"Forecast for {weekday}",
                      "text": f"{plural(cnt['mean'], 'sale')} (80% range {cnt['lo80']}-{cnt['hi80']}), revenue "
                              f"{format_money(rev['mean'], cur)} (80% range {format_money(rev['lo80'], cur)}-"
                              f"{format_money(rev['hi80'], cur)})."})
        items.append({"title": "Staffing", "text": _staff_text(staff["hours"])})
    else:
        headline = f"{weekday}: the store is expected to be closed." if day else "No forecast yet."
    if stock_known:
        if order_now:
            n = counts["order_now"]
            names = ", ".join(f"{r['name']} ({r['order_qty']})" for r in order_now[:5])
            which = "" if n <= 5 else ", the most urgent first"
            items.append({"title": "Reorder now", "text": f"{plural(n, 'product')} at or below the reorder point"
                                                           f"{which}: {names}."})
        outs = [r for r in order_now if r["stockout_date"]]
        if outs:
            first = min(outs, key=lambda r: r["stockout_date"])
            items.append({"title": "Stock-out risk",
                          "text": f"{first['name']} may run out on {first['stockout_date']}."})
    elif top_reorder:
        names = ", ".join(f"{r['name']} at {r['reorder_point']}" for r in top_reorder[:5])
        items.append({"title": "Reorder points", "text": "Stock levels are not reported yet; reorder when stock "
                                                          f"falls to: {names}."})
    if rfm:
        best = next((s for s in rfm if s["segment"] == "Champions"), rfm[0])
        risk = next((s for s in rfm if s["segment"] in ("At risk", "Can't lose")), None)
        m = int(best["members"])
        text = (f"{plural(m, 'customer')} in {best['segment']} bring{'s' if m == 1 else ''} "
                f"{round(100 * best['revenue_share'])}% of revenue")
        if risk:
            k = int(risk["members"])
            text += f"; {plural(k, 'customer')} {'is' if k == 1 else 'are'} {risk['segment']}"
        if churn:
            text += f"; most likely to lapse: {', '.join(c['customer_id'] for c in churn[:3])}"
        items.append({"title": "Customers", "text": text + "."})
    if basket:
        b = basket[0]
        items.append({"title": "Baskets", "text": f"Most sales are {b['segment'].lower()} ({round(100 * b['share'])}% "
                                                   f"of sales, {round(100 * b['revenue_share'])}% of revenue)."})
    if counts["slow"]:
        k = counts["slow"]
        items.append({"title": "Slow movers",
                      "text": f"{plural(k, 'product sells', 'products sell')} slowly or not at all; review "
                              f"{'it' if k == 1 else 'them'} before reordering."})
    doc = {
        "schema": SCHEMA, "store_id": store_id, "run_id": run["run_id"], "as_of": run["as_of"], "day": day,
        "generated_at": format_utc(now), "source": "computed", "headline": headline,
        "items": items,
        "forecast": {"day": day, "currency": cur, "sales": cnt, "revenue": rev},
        "staffing": staff,
        "reorder": [{k: r[k] for k in ("sku", "name", "reorder_point", "order_qty", "order_now", "on_hand",
                                       "stockout_date")} for r in top_reorder],
        "segments": [{k: s[k] for k in ("segment", "members", "share", "revenue_share")} for s in rfm],
    }
    if narrative:
        told = daily_narrative(engine, store_id, now, ai)
        if told is not None:
            doc["narrative"] = told
    doc["collections"] = collection_reminders(engine, store_id, now)
    while len(json.dumps(doc).encode()) > MAX_BYTES and doc["reorder"]:
        doc["reorder"] = doc["reorder"][: len(doc["reorder"]) // 2]
    while len(json.dumps(doc).encode()) > MAX_BYTES and doc["collections"]:
        doc["collections"] = doc["collections"][: len(doc["collections"]) // 2]
    if len(json.dumps(doc).encode()) > MAX_BYTES and "narrative" in doc:
        doc["narrative"]["text"] = doc["narrative"]["text"][:4000]
    return doc
