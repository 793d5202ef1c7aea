"""The language of the messages to each credit customer: the customer's own (set by the owner on the
hub's Credit tab, kept in ``credit_customers.language``, which the devices' updates never touch), else
the store's (its settings ``language``).  Collection reminders, the composer's default and the
device's morning reminders all read it here."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from analytics.credit.templates import LANGUAGES
from analytics.db.credit_tables import credit_customers


class CustomerLanguageError(ValueError):
    """An unknown customer or language; the message says which."""


def customer_languages(engine: Engine, store_id: str) -> dict[str, str]:
    """``{customer_id: language}`` of the store's customers that have one of their own."""
    c = credit_customers.c
    with engine.connect() as conn:
        rows = conn.execute(select(c.customer_id, c.language).where(c.store_id == store_id,
                                                                    c.language.is_not(None))).all()
    return {r.customer_id: r.language for r in rows if r.language in LANGUAGES}


def message_language(engine: Engine, store_id: str, customer_id: str, store_language: str) -> str:
    """The language a message to ``customer_id`` is written in."""
    return customer_languages(engine, store_id).get(customer_id, store_language)


def set_customer_language(engine: Engine, store_id: str, customer_id: str, language: str | None) -> None:
    """Set (or, with None / "", clear: the store's then applies) a customer's message language."""
    if language and language not in LANGUAGES:
        raise CustomerLanguageError(f"language must be one of {', '.join(LANGUAGES)} (or empty: the store's)")
    c = credit_customers.c
    with engine.begin() as conn:
        done = conn.execute(update(credit_customers).where(c.store_id == store_id, c.customer_id == customer_id)
                            .values(language=language or None)).rowcount
    if not done:
        raise CustomerLanguageError(f"no credit customer {customer_id!r} in store {store_id}")
