"""The plain-language reason of a price suggestion, written from its figures and then checked by the
narratives' fact check (``analytics.narratives.factcheck``): every number the reason states must be
one of the figures it was written from, so a reason never claims what the data does not say.  A
sentence that fails the check is kept but marked, and the suggestion records what failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from analytics.narratives.factcheck import check_text
from analytics.narratives.facts import Fact, Facts
from contracts.money import format_money


@dataclass
class ReasonWriter:
    """Collects the figures a reason uses (as facts) while its sentences are written."""

    store_id: str
    store_name: str
    currency: str
    timezone: str
    as_of: date
    facts: list[Fact] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)

    def money(self, key: str, minor: int | float) -> str:
        value = int(round(minor))
        text = format_money(value, self.currency)
        self.facts.append(Fact(key, key, "money", value, text))
        return text

    def count(self, key: str, n: int | float) -> str:
        value = int(round(n))
        self.facts.append(Fact(key, key, "count", value, f"{value:,}"))
        return f"{value:,}"

    def number(self, key: str, x: float, digits: int = 1) -> str:
        value = round(float(x), digits)
        text = f"{value:,.{digits}f}"
        self.facts.append(Fact(key, key, "number", value, text))
        return text

    def percent(self, key: str, share: float) -> str:
        value = round(share * 100)
        self.facts.append(Fact(key, key, "percent", value, f"{value}%"))
        return f"{value}%"

    def say(self, sentence: str) -> None:
        self.sentences.append(sentence)

    def finish(self) -> tuple[str, list[str]]:
        """The reason (sentences that failed the fact check marked) and the unsupported numbers."""
        text = " ".join(self.sentences)
        facts = Facts(self.store_id, self.store_name, self.currency, self.timezone, "daily",
                      (self.as_of - timedelta(days=56)).isoformat(), (self.as_of - timedelta(days=1)).isoformat(),
                      f"pricing as of {self.as_of.isoformat()}", "pricing", list(self.facts))
        result = check_text(text, facts, mode="flag")
        return result.text, list(result.unsupported)
