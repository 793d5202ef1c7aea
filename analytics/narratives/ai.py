"""The one way the written insights ask the language model: instructions in the system prompt (with
``DATA_RULES``), every piece of shop data as a quoted ``<data>`` block in the user message, a JSON
schema for the answer.  Any failure (no endpoint, budget, breaker, time-out, 5xx, malformed answer,
privacy) comes back as ``None`` with the plain-words reason, and the caller writes the computed
answer instead."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from analytics.llm import DATA_RULES, AIService, AIUnavailable, Pseudonymiser, data_block
from analytics.llm.language import write_in
from contracts.timestamps import utc_now_text

log = logging.getLogger(__name__)

NO_AI = "No AI endpoint is configured; computed from your figures (no AI)."
COMPUTED = "computed"


@dataclass(frozen=True)
class Asked:
    data: dict[str, Any] | None  # the validated answer, or None: write the computed one
    source: str  # llm | cache | computed
    model: str | None
    note: str | None  # why it is computed


def utc_stamp() -> str:
    return utc_now_text()


def messages(instructions: str, blocks: list[tuple[str, Any]], task: str, language: str = "en") -> list[dict[str, str]]:
    """System: the instructions, the language to write in and the data rules; user: the quoted data,
    then the task."""
    quoted = "\n\n".join(data_block(label, obj) for label, obj in blocks)
    return [{"role": "system", "content": f"{instructions}\n{write_in(language)}\n\n{DATA_RULES}"},
            {"role": "user", "content": f"{quoted}\n\n{task}"}]


def ask(ai: AIService | None, store_id: str, feature: str, instructions: str, blocks: list[tuple[str, Any]],
        task: str, schema: dict[str, Any], schema_name: str, data_version: str,
        pseudonymiser: Pseudonymiser | None = None, language: str = "en") -> Asked:
    """The model's validated answer, written in ``language`` (the store's), or the reason to compute it."""
    if ai is None or not ai.configured:
        return Asked(None, COMPUTED, None, NO_AI)
    try:
        reply = ai.structured(store_id, feature, messages(instructions, blocks, task, language), schema=schema,
                              schema_name=schema_name, pseudonymiser=pseudonymiser, data_version=data_version)
    except AIUnavailable as exc:
        log.info("%s for %s answered from computed figures: %s (%s)", feature, store_id, exc.kind, exc.message)
        return Asked(None, COMPUTED, None, exc.message)
    return Asked(reply.data, reply.source, reply.model, None)
