"""Daily and weekly narratives of a store: what happened, what changed, what to do, risks.

With a language model (``AIService``) the facts go to it as a quoted data block with a JSON schema;
its answer is fact-checked (:mod:`analytics.narratives.factcheck`): sentences with a number that is
not in the facts are dropped and the numbers reported.  Without one (none configured, no credits,
time-out, 5xx, malformed twice) the narrative is written from the facts by templates and marked
``computed``.  Every narrative is stored (``narratives`` table) with its period, sections, source,
the dropped numbers and the facts' data version.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from analytics.db import narrative_tables as nt
from analytics.llm import AIService
from analytics.narratives import ai as asker
from analytics.narratives.factcheck import check_sections
from analytics.narratives.facts import Facts, build_facts

SECTIONS: tuple[tuple[str, str], ...] = (("what_happened", "What happened"), ("what_changed", "What changed"),
                                         ("what_to_do", "What to do"), ("risks", "Risks"))
_ITEMS = {"type": "array", "maxItems": 6, "items": {"type": "string", "minLength": 1, "maxLength": 600}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 200},
                   **{key: _ITEMS for key, _ in SECTIONS}},
    "required": ["title", *[key for key, _ in SECTIONS]],
    "additionalProperties": False,
}
INSTRUCTIONS = (
    "You write short reports for the owner of a small shop, in plain, friendly words. "
    "Sections: what_happened (2-4 sentences on the period's trade), what_changed (against the period "
    "before and the usual), what_to_do (concrete actions: reorder, staffing, customers) and risks (alerts, "
    "refunds, voids, stock-outs, customers drifting away). Use only figures from the facts, written as the "
    "facts write them or rounded; do not calculate new figures; leave a section empty rather than guess."
)
NOTHING = "Nothing stands out."


@dataclass
class Narrative:
    store_id: str
    period: str
    period_start: str
    period_end: str
    title: str
    sections: dict[str, list[str]]
    text: str
    source: str  # llm | cache | computed
    model: str | None
    note: str | None
    unsupported: list[str]
    dropped: list[dict[str, Any]]
    data_version: str
    generated_at: str
    facts: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def to_json(self, with_facts: bool = False) -> dict[str, Any]:
        out = asdict(self)
        if not with_facts:
            out.pop("facts")
        out["section_titles"] = dict(SECTIONS)
        return out

    def for_device(self) -> dict[str, Any]:
        """What the morning insights document carries to the device dashboard."""
        return {"period": self.period, "title": self.title, "text": self.text, "source": self.source,
                "generated_at": self.generated_at}


# -- the computed narrative --------------------------------------------------------------------

def _pct(facts: Facts, key: str) -> tuple[str, float] | None:
    v = facts.value(key)
    if v is None:
        return None
    return ("up" if v > 0 else "down" if v < 0 else "level"), abs(float(v))


def _n(facts: Facts, key: str, one: str, many: str) -> str:
    """The fact's figure with the noun (and verb) that agrees with it: "1 line was", "3 lines were"."""
    return f"{facts.text(key)} {one if facts.value(key) == 1 else many}"


def computed_sections(facts: Facts) -> tuple[str, dict[str, list[str]]]:
    """A narrative written from the facts by templates: every figure is a fact's own text."""
    f = facts
    noun = "day" if f.period == "daily" else "week"
    title = f"{'Daily' if f.period == 'daily' else 'Weekly'} report, {f.label}"
    happened: list[str] = []
    if f.value("sales", 0):
        line = f"Revenue was {f.text('revenue')} from {f.text('sales')} sale{'s' if f.value('sales') != 1 else ''}"
        line += f", an average sale of {f.text('avg_basket')}." if f.get("avg_basket") else "."
        happened.append(line)
    else:
        happened.append("There were no completed sales in this period.")
    if f.value("refunds", 0):
        happened.append(f"{_n(f, 'refunds', 'refund', 'refunds')} gave back {f.text('refund_amount')}.")
    if f.value("voided_sales", 0):
        happened.append(f"{f.text('voided_sales')} sale{' was' if f.value('voided_sales') == 1 else 's were'} voided.")
    tops = [f"{f.text(f'top_product_{i}_name')} ({_n(f, f'top_product_{i}_units', 'unit', 'units')}, "
            f"{f.text(f'top_product_{i}_revenue')})" for i in range(1, 4) if f.get(f"top_product_{i}_name")]
    if tops:
        happened.append("Best sellers: " + "; ".join(tops) + ".")
    if f.get("busy_hour_1"):
        n = f.value("busy_hour_1_sales")
        happened.append(f"The busiest hour was {f.text('busy_hour_1')} with {f.text('busy_hour_1_sales')} "
                        f"sale{'s' if n != 1 else ''}.")

    changed: list[str] = []
    if (c := _pct(f, "revenue_vs_prev_pct")) is not None:
        changed.append(f"Revenue was {c[0]} {c[1]:.1f}% on the {noun} before ({f.text('revenue_prev')}).")
    if (c := _pct(f, "revenue_vs_usual_pct")) is not None:
        usual = "a usual " + (date.fromisoformat(f.end).strftime("%A") if f.period == "daily" else "week")
        changed.append(f"Against {usual} ({f.text('revenue_usual')}) revenue was {c[0]} {c[1]:.1f}%.")
    if (c := _pct(f, "sales_vs_usual_pct")) is not None:
        changed.append(f"The number of sales was {c[0]} {c[1]:.1f}% against the usual {f.text('sales_usual')}.")
    for i in (1, 2):
        if f.get(f"mover_up_{i}_name"):
            changed.append(f"{f.text(f'mover_up_{i}_name')} rose to {f.text(f'mover_up_{i}_revenue')} "
                           f"from {f.text(f'mover_up_{i}_revenue_prev')}.")
    for i in (1, 2):
        if f.get(f"mover_down_{i}_name"):
            changed.append(f"{f.text(f'mover_down_{i}_name')} fell to {f.text(f'mover_down_{i}_revenue')} "
                           f"from {f.text(f'mover_down_{i}_revenue_prev')}.")
    if f.value("segment_moves"):
        changed.append(f"{_n(f, 'segment_moves', 'customer', 'customers')} changed segment since the last analysis.")

    to_do: list[str] = []
    if f.get("reorder_count"):
        first = [f"{f.text(f'reorder_{i}_name')} ({f.text(f'reorder_{i}_qty')})" for i in range(1, 4)
                 if f.get(f"reorder_{i}_name")]
        to_do.append(f"Reorder {_n(f, 'reorder_count', 'product', 'products')} now, starting with {', '.join(first)}.")
    if f.get("forecast_revenue") and not f.value("forecast_revenue") and f.period == "daily":
        to_do.append(f"The store is expected to be closed on {f.text('forecast_from')}.")
    elif f.get("forecast_revenue"):
        when = (f"on {f.text('forecast_from')}" if f.period == "daily" else f"in the {f.text('period_days')} days from "
                f"{f.text('forecast_from')}")
        sales = f"about {_n(f, 'forecast_sales', 'sale', 'sales')} and " if f.get("forecast_sales") else ""
        to_do.append(f"Expect {sales}{f.text('forecast_revenue')} {when} (likely between "
                    f"{f.text('forecast_revenue_lo80')} and {f.text('forecast_revenue_hi80')}).")
    if f.get("busy_hour_1"):
        to_do.append(f"Have the till fully staffed for {f.text('busy_hour_1')}.")
    if f.value("segment_at_risk"):
        to_do.append(f"Reach out to the {_n(f, 'segment_at_risk', 'customer who is', 'customers who are')} At risk "
                     "before they go.")
    if f.value("segment_cant_lose"):
        to_do.append(f"Win back the {_n(f, 'segment_cant_lose', 'former best customer', 'former best customers')} "
                     "(Can't lose) personally.")

    risks: list[str] = []
    if f.value("alerts"):
        risks.append(f"{_n(f, 'alerts', 'sale was', 'sales were')} flagged as unusual (highest score "
                     f"{f.text('alerts_top_score')}); check {'it' if f.value('alerts') == 1 else 'them'} on the "
                     "Insights page.")
    for key, one, many in (("events_void_line", "line was voided inside a sale", "lines were voided inside sales"),
                           ("events_price_override", "price was overridden", "prices were overridden"),
                           ("events_discount_change", "discount was set by hand", "discounts were set by hand"),
                           ("events_manual_entry", "item was typed in by hand", "items were typed in by hand"),
                           ("events_drawer_open_no_sale", "time the cash drawer opened without a sale",
                            "times the cash drawer opened without a sale"),
                           ("events_vision_mismatch", "time the camera and the till disagreed",
                            "times the camera and the till disagreed")):
        if f.value(key):
            risks.append(f"{_n(f, key, one, many)}.")
    for i in range(1, 6):
        if f.get(f"reorder_{i}_stockout"):
            risks.append(f"{f.text(f'reorder_{i}_name')} may run out on {f.text(f'reorder_{i}_stockout')}.")
            break
    if f.value("churn_high"):
        risks.append(f"{_n(f, 'churn_high', 'customer is', 'customers are')} likely not to come back.")
    if (c := _pct(f, "revenue_vs_usual_pct")) is not None and c[0] == "down" and c[1] >= 15:
        risks.append(f"Revenue is {c[1]:.1f}% below the usual: watch the next {noun}.")

    sections = {"what_happened": happened, "what_changed": changed or [NOTHING], "what_to_do": to_do or [NOTHING],
                "risks": risks or ["No alerts, stock-outs or unusual refunds."]}
    return title, sections


def render_text(title: str, sections: dict[str, list[str]]) -> str:
    parts = [title]
    for key, label in SECTIONS:
        items = sections.get(key) or []
        if items:
            parts.append(f"{label}: " + " ".join(items))
    return "\n".join(parts)


# -- generating and storing --------------------------------------------------------------------

def generate(engine: Engine, store_id: str, period: str = "daily", ai: AIService | None = None,
             end: date | None = None, allowed: list[str] | None = None, now: datetime | None = None,
             facts: Facts | None = None, mode: str = "drop", save: bool = True) -> Narrative:
    """Write (and by default store) the ``period`` narrative of ``store_id``; see the module doc."""
    facts = facts or build_facts(engine, store_id, period, end=end, allowed=allowed, now=now)
    task = (f"Write the {facts.period} report for {facts.label} as JSON: a short title and the four sections, "
            "each a list of short sentences.")
    got = asker.ask(ai, store_id, "narrative", INSTRUCTIONS, [("facts", facts.as_data())], task, SCHEMA,
                    "narrative", facts.data_version, language=facts.language)
    unsupported: list[str] = []
    dropped: list[dict[str, Any]] = []
    source, model, note = got.source, got.model, got.note
    if got.data is not None:
        raw = {"title": got.data["title"], **{k: list(got.data.get(k) or []) for k, _ in SECTIONS}}
        checked, result = check_sections(raw, facts, mode=mode)
        unsupported = result.unsupported
        dropped = [{"sentence": d.sentence, "unsupported": d.unsupported} for d in result.dropped]
        sections = {k: checked[k] for k, _ in SECTIONS}
        title = checked["title"] or computed_sections(facts)[0]
        if not any(sections.values()):
            title, sections = computed_sections(facts)
            source, note = asker.COMPUTED, ("The AI's text had figures that are not in your data; "
                                            "computed from your figures instead.")
    else:
        title, sections = computed_sections(facts)
    n = Narrative(store_id, facts.period, facts.start, facts.end, title, sections, render_text(title, sections),
                  source, model, note, unsupported, dropped, facts.data_version, asker.utc_stamp(),
                  facts.to_json())
    if save:
        n.id = save_narrative(engine, n)
    return n


def save_narrative(engine: Engine, n: Narrative) -> int:
    with engine.begin() as conn:
        res = conn.execute(insert(nt.narratives).values(
            store_id=n.store_id, period=n.period, period_start=n.period_start, period_end=n.period_end,
            title=n.title, sections=n.sections, text=n.text, source=n.source, model=n.model, note=n.note,
            unsupported=n.unsupported, dropped=n.dropped, facts=n.facts, data_version=n.data_version,
            generated_at=n.generated_at))
        key = res.inserted_primary_key
        if key is None:
            raise RuntimeError("the narrative row was not inserted")
        return int(key[0])


def latest(engine: Engine, store_id: str, period: str = "daily") -> Narrative | None:
    """The newest stored narrative of the store for ``period`` (callers check the store scope)."""
    c = nt.narratives.c
    with engine.connect() as conn:
        row = conn.execute(select(nt.narratives).where(c.store_id == store_id, c.period == period)
                           .order_by(c.generated_at.desc(), c.id.desc()).limit(1)).mappings().first()
    if row is None:
        return None
    return Narrative(row["store_id"], row["period"], row["period_start"], row["period_end"], row["title"],
                     row["sections"], row["text"], row["source"], row["model"], row["note"], row["unsupported"] or [],
                     row["dropped"] or [], row["data_version"], row["generated_at"], row["facts"] or {}, row["id"])


def current(engine: Engine, store_id: str, period: str = "daily", ai: AIService | None = None,
            allowed: list[str] | None = None, now: datetime | None = None) -> Narrative:
    """The stored narrative when it was written from today's facts (same data version); otherwise a
    new one (what the morning publish uses)."""
    facts = build_facts(engine, store_id, period, allowed=allowed, now=now)
    found = latest(engine, store_id, period)
    fresh = found is not None and found.data_version == facts.data_version and found.period_end == facts.end
    if found is not None and fresh and not (found.source == asker.COMPUTED and ai is not None and ai.configured):
        return found
    return generate(engine, store_id, period, ai=ai, facts=facts)
