"""What a question gets back: the text, the hub's table, follow-up questions and where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analytics.llm.notes import localized_note
from i18n import gettext as _

SOURCES = ("llm", "computed")


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # text | int | num | money | pct | date | time

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "label": self.label, "kind": self.kind}


@dataclass
class Table:
    """A small table of figures computed by the hub (money in integer minor units of ``currency``)."""

    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    currency: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": [c.as_dict() for c in self.columns], "rows": self.rows,
                "currency": self.currency}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Table:
        return cls(data.get("title", ""), [Column(**c) for c in data.get("columns", [])], list(data.get("rows", [])),
                   data.get("currency"))


@dataclass
class Answer:
    question: str
    text: str
    table: Table | None = None  # the main table (of the last tool that found rows)
    follow_ups: list[str] = field(default_factory=list)
    source: str = "computed"  # "llm" | "computed"
    note: str | None = None  # e.g. why the AI was not used: "computed (no AI): AI credits are used up"
    tools_used: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)  # every table the hub's tools produced, in order
    period: dict[str, str] | None = None  # the period the (last) tool resolved
    language: str = "en"  # the language the text, the tables and the follow-ups are written in

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")

    @property
    def mark(self) -> str:
        """The source mark shown beside the answer, in the current language."""
        return _("AI answer from the hub's figures") if self.source == "llm" else _("computed (no AI)")

    def as_dict(self) -> dict[str, Any]:
        return {"question": self.question, "text": self.text, "table": self.table.as_dict() if self.table else None,
                "tables": [t.as_dict() for t in self.tables], "follow_ups": list(self.follow_ups),
                "source": self.source, "mark": self.mark, "note": localized_note(self.note),
                "tools_used": list(self.tools_used), "period": self.period, "language": self.language}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        return cls(question=data.get("question", ""), text=data.get("text", ""),
                   table=Table.from_dict(data["table"]) if data.get("table") else None,
                   follow_ups=list(data.get("follow_ups") or []), source=data.get("source", "computed"),
                   note=data.get("note"), tools_used=list(data.get("tools_used") or []),
                   tables=[Table.from_dict(t) for t in data.get("tables") or []], period=data.get("period"),
                   language=data.get("language") or "en")
