"""The response cache of structured answers: key = SHA-256 of store, feature, model, messages,
schema, output mode and data version; an entry lives ``ttl_s`` seconds.  A hit sends nothing and
costs nothing (the service still writes a ledger row with ``cached=true``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from analytics.db.ai_tables import ai_cache
from analytics.llm.credits import utc_now, utc_text


def cache_key(*, store_id: str, feature: str, model: str, messages: Any, schema: Any, mode: str,
              data_version: Any) -> str:
    blob = json.dumps({"store": store_id, "feature": feature, "model": model, "messages": messages,
                       "schema": schema, "mode": mode, "data_version": data_version},
                      sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    def __init__(self, engine: Engine, ttl_s: float, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self.ttl_s = ttl_s
        self.clock = clock

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def get(self, key: str) -> tuple[dict[str, Any], str] | None:
        """``(data, model)`` of a live entry, or None."""
        if not self.enabled:
            return None
        now = utc_text(self.clock())
        with self.engine.connect() as conn:
            row = conn.execute(select(ai_cache.c.data, ai_cache.c.model).where(
                ai_cache.c.cache_key == key, ai_cache.c.expires_at > now)).first()
        return (row[0], row[1]) if row is not None and isinstance(row[0], dict) else None

    def put(self, key: str, *, store_id: str, feature: str, model: str, data: dict[str, Any]) -> None:
        if not self.enabled:
            return
        now = self.clock()
        values = dict(cache_key=key, store_id=store_id, feature=feature, model=model, data=data,
                      created_at=utc_text(now), expires_at=utc_text(now + timedelta(seconds=self.ttl_s)))
        with self.engine.begin() as conn:
            conn.execute(delete(ai_cache).where(ai_cache.c.expires_at <= utc_text(now)))
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(ai_cache).values(**values)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=[ai_cache.c.cache_key],
                set_={k: stmt.excluded[k] for k in ("data", "model", "created_at", "expires_at")}))

    def clear(self, store_id: str | None = None) -> int:
        with self.engine.begin() as conn:
            query = delete(ai_cache)
            if store_id is not None:
                query = query.where(ai_cache.c.store_id == store_id)
            return int(conn.execute(query).rowcount or 0)
