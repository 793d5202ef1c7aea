"""The "Ask" chat history: each question and its shown answer, per store (and who asked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from analytics.assistant.answer import Answer
from analytics.db.assistant_tables import assistant_messages

MAX_HISTORY = 200


@dataclass(frozen=True)
class Exchange:
    id: int
    store_id: str
    user_id: str | None
    asked_at: str
    answer: Answer

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "user_id": self.user_id, "asked_at": self.asked_at, **self.answer.as_dict()}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def save(engine: Engine, store_id: str, user_id: str | None, answer: Answer, asked_at: datetime) -> int:
    with engine.begin() as conn:
        result = conn.execute(insert(assistant_messages).values(
            store_id=store_id, user_id=user_id, asked_at=_iso(asked_at), question=answer.question[:2000],
            source=answer.source, answer=answer.as_dict()))
        key = result.inserted_primary_key
        if key is None:
            raise RuntimeError("the assistant message was not inserted")
        return int(key[0])


def recent(engine: Engine, store_id: str, limit: int = 50, user_id: str | None = None) -> list[Exchange]:
    """The store's newest exchanges, oldest first (as a chat reads); ``user_id`` keeps one person's."""
    m = assistant_messages.c
    q = select(assistant_messages).where(m.store_id == store_id)
    if user_id is not None:
        q = q.where(m.user_id == user_id)
    q = q.order_by(m.asked_at.desc(), m.id.desc()).limit(max(1, min(limit, MAX_HISTORY)))
    with engine.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [Exchange(int(r["id"]), r["store_id"], r["user_id"], r["asked_at"], Answer.from_dict(r["answer"]))
            for r in reversed(rows)]
