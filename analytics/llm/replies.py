"""What the language layer hands back to features."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FEATURES: tuple[str, ...] = ("narrative", "ask", "persona", "alert_explanation", "collection_message",
                             "product_description")


@dataclass(frozen=True)
class ToolCall:
    """One function call the model asked for.  ``arguments`` is None when the model sent
    arguments that are not a JSON object (``raw_arguments`` keeps the text)."""

    id: str
    name: str
    arguments: dict[str, Any] | None
    raw_arguments: str


@dataclass(frozen=True)
class AIReply:
    """A validated structured answer, pseudonyms restored."""

    data: dict[str, Any]
    source: str  # "llm" | "cache"
    cost: int  # credits charged (0 from the cache)
    model: str


@dataclass(frozen=True)
class ChatReply:
    """One chat round: text and/or tool calls (restored), with what it cost."""

    content: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    cost: int = 0
    model: str = ""
    finish_reason: str | None = None
