"""Readable reasons: one sentence a shop owner understands, with the numbers that made it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from i18n.reasons import localized_reason as localized_reason  # re-exported: the dashboard's |reason


@dataclass(frozen=True)
class Reason:
    """key: what the reason is about (a feature name), so two sources saying the same thing merge.
    weight: 0..1, how much it points to a problem (orders the reasons)."""

    key: str
    weight: float
    text: str


def merge_reasons(*groups: Iterable[Reason], limit: int = 4) -> tuple[str, ...]:
    """Most important first, at most `limit`, one reason per key: on a shared key the text of the earlier
    group is kept (pass the rules first: their sentences carry the money) with the heavier weight."""
    best: dict[str, Reason] = {}
    for group in groups:
        for reason in group:
            held = best.get(reason.key)
            if held is None:
                best[reason.key] = reason
            elif reason.weight > held.weight:
                best[reason.key] = Reason(held.key, reason.weight, held.text)
    ordered = sorted(best.values(), key=lambda r: (-r.weight, r.key))
    texts: list[str] = []
    for reason in ordered:
        if reason.text not in texts:
            texts.append(reason.text)
        if len(texts) >= limit:
            break
    return tuple(texts)


def plural(n: int | float, one: str, many: str | None = None) -> str:
    """``plural(1, "line") -> "1 line"``, ``plural(3, "line") -> "3 lines"``."""
    word = one if n == 1 else (many or one + "s")
    return f"{n:g} {word}" if isinstance(n, float) else f"{n} {word}"


def times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def clock(hour: float) -> str:
    """14.5 -> ``"14:30"``."""
    minutes = int(round((hour % 24.0) * 60)) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def duration(seconds: float) -> str:
    """Short human duration: ``"8 s"``, ``"4 min"``, ``"1 h 20 min"``."""
    seconds = max(0.0, float(seconds))
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def hours_span(usual: tuple[bool, ...]) -> str | None:
    """The usual trading hours as ``"07:00–21:00"`` when they form one block of the day, else None."""
    if not any(usual) or all(usual):
        return None
    # find the start of a block: a usual hour whose previous hour is not usual
    starts = [h for h in range(24) if usual[h] and not usual[(h - 1) % 24]]
    if len(starts) != 1:
        return None
    start = starts[0]
    end = start
    while usual[end % 24]:
        end += 1
    return f"{start % 24:02d}:00–{end % 24:02d}:00"


# --- display-time translation of stored reasons -------------------------------------------------------------
# The reasons travel in the sale payload as English sentences (the wire format stays as it is); a person reading
# them sees them re-worded in their language by the neutral i18n.reasons, which the hub's alert pages use too
# (its templates are this package's sentences: change both together; tests/edge/anomaly/test_reason_language.py).
