"""Collection reminders for the device dashboard, published with the morning insights.

:func:`device_reminders` lists the store's collections priority (highest first) with each
customer's predicted payment date and the friendly SMS text in the customer's language (set on the
hub's Credit tab), else the store's (settings ``language``; English when unset).  Computed templates
only: the nightly publish never calls an LLM and never spends AI credits.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine

from analytics.credit.languages import customer_languages
from analytics.credit.report import credit_report
from analytics.credit.templates import render


def device_reminders(engine: Engine, store_id: str, as_of: datetime, limit: int = 10) -> list[dict[str, Any]]:
    """Up to ``limit`` reminders at ``as_of`` (the insights' time) ``{customer_id, name, balance, currency, priority,
    predicted_payment_date, message}``, highest priority first (``balance`` in minor units,
    ``predicted_payment_date`` store-local ``YYYY-MM-DD`` or None).  A store with no credit
    customers gives an empty list; an unknown store raises ``LookupError``."""
    if limit <= 0:
        return []
    report = credit_report(engine, store_id, as_of=as_of)
    own = customer_languages(engine, store_id)
    out: list[dict[str, Any]] = []
    for row in report.priority[:limit]:
        h = report.histories[row.customer_id]
        since = date.fromisoformat(h.oldest_unpaid_day) if h.oldest_unpaid_day else None
        language = own.get(row.customer_id, report.store.language)
        text = render("friendly", language, name=h.name, amount=h.balance, currency=h.currency,
                      shop=report.store.name, since=since).sms
        out.append({"customer_id": row.customer_id, "name": row.name, "balance": row.balance,
                    "currency": row.currency, "priority": row.priority,
                    "predicted_payment_date": row.predicted_payment_date, "message": text})
    return out
