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
from i18n import N_, current_language, format_date, format_percent, ngettext, use_language
from i18n import gettext as _

SECTIONS: tuple[tuple[str, str], ...] = (("what_happened", N_("What happened")), ("what_changed", N_("What changed")),
                                         ("what_to_do", N_("What to do")), ("risks", N_("Risks")))
_ITEMS = {"type": "array", "maxItems": 6, "items": {"type": "string", "minLength": 1, "maxLength": 600}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 200},
                   **{key: _ITEMS for key, _label in SECTIONS}},
    "required": ["title", *[key for key, _label in SECTIONS]],
    "additionalProperties": False,
}
INSTRUCTIONS = (
    "You write short reports for the owner of a small shop, in plain, friendly words. "
    "Sections: what_happened (2-4 sentences on the period's trade), what_changed (against the period "
    "before and the usual), what_to_do (concrete actions: reorder, staffing, customers) and risks (alerts, "
    "refunds, voids, stock-outs, customers drifting away). Use only figures from the facts, written as the "
    "facts write them or rounded; do not calculate new figures; leave a section empty rather than guess."
)
NOTHING = N_("Nothing stands out.")


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


def _count(facts: Facts, key: str) -> int:
    v = facts.value(key)
    return int(v) if isinstance(v, (int, float)) else 0


def _way(direction: str) -> str:
    return {"up": _("up"), "down": _("down")}.get(direction, _("level"))


def _pct_text(value: float) -> str:
    """``12.3`` -> ``12.3%`` (English), ``12,3 %`` (French)."""
    if current_language() == "en":
        return f"{value:.1f}%"
    return format_percent(value / 100, digits=1)


def computed_sections(facts: Facts) -> tuple[str, dict[str, list[str]]]:
    """A narrative written from the facts by templates, in the facts' language (the store's): every
    figure is a fact's own text."""
    with use_language(facts.language, facts.timezone):
        return _computed(facts)


def _computed(f: Facts) -> tuple[str, dict[str, list[str]]]:
    daily = f.period == "daily"
    title = (_("Daily report, %(period)s", period=f.label) if daily
             else _("Weekly report, %(period)s", period=f.label))
    happened: list[str] = []
    if f.value("sales", 0):
        if f.get("avg_basket"):
            happened.append(ngettext("Revenue was %(revenue)s from %(sales)s sale, an average sale of %(avg)s.",
                                     "Revenue was %(revenue)s from %(sales)s sales, an average sale of %(avg)s.",
                                     _count(f, "sales"), revenue=f.text("revenue"), sales=f.text("sales"),
                                     avg=f.text("avg_basket")))
        else:
            happened.append(ngettext("Revenue was %(revenue)s from %(sales)s sale.",
                                     "Revenue was %(revenue)s from %(sales)s sales.", _count(f, "sales"),
                                     revenue=f.text("revenue"), sales=f.text("sales")))
    else:
        happened.append(_("There were no completed sales in this period."))
    if f.value("refunds", 0):
        happened.append(ngettext("%(count)s refund gave back %(amount)s.", "%(count)s refunds gave back %(amount)s.",
                                 _count(f, "refunds"), count=f.text("refunds"), amount=f.text("refund_amount")))
    if f.value("voided_sales", 0):
        happened.append(ngettext("%(count)s sale was voided.", "%(count)s sales were voided.",
                                 _count(f, "voided_sales"), count=f.text("voided_sales")))
    tops = [_("%(product)s (%(units)s, %(revenue)s)", product=f.text(f"top_product_{i}_name"),
              units=ngettext("%(count)s unit", "%(count)s units", _count(f, f"top_product_{i}_units"),
                             count=f.text(f"top_product_{i}_units")),
              revenue=f.text(f"top_product_{i}_revenue")) for i in range(1, 4) if f.get(f"top_product_{i}_name")]
    if tops:
        happened.append(_("Best sellers: %(list)s.", list="; ".join(tops)))
    if f.get("busy_hour_1"):
        happened.append(ngettext("The busiest hour was %(hour)s with %(count)s sale.",
                                 "The busiest hour was %(hour)s with %(count)s sales.", _count(f, "busy_hour_1_sales"),
                                 hour=f.text("busy_hour_1"), count=f.text("busy_hour_1_sales")))

    changed: list[str] = []
    if (c := _pct(f, "revenue_vs_prev_pct")) is not None:
        changed.append((_("Revenue was %(way)s %(pct)s on the day before (%(prev)s).") if daily else
                        _("Revenue was %(way)s %(pct)s on the week before (%(prev)s)."))
                       % {"way": _way(c[0]), "pct": _pct_text(c[1]), "prev": f.text("revenue_prev")})
    if (c := _pct(f, "revenue_vs_usual_pct")) is not None:
        usual = (_("a usual %(weekday)s", weekday=format_date(date.fromisoformat(f.end), None, format="EEEE"))
                 if daily else _("a usual week"))
        changed.append(_("Against %(usual)s (%(amount)s) revenue was %(way)s %(pct)s.", usual=usual,
                         amount=f.text("revenue_usual"), way=_way(c[0]), pct=_pct_text(c[1])))
    if (c := _pct(f, "sales_vs_usual_pct")) is not None:
        changed.append(_("The number of sales was %(way)s %(pct)s against the usual %(usual)s.", way=_way(c[0]),
                         pct=_pct_text(c[1]), usual=f.text("sales_usual")))
    for i in (1, 2):
        if f.get(f"mover_up_{i}_name"):
            changed.append(_("%(product)s rose to %(now)s from %(before)s.", product=f.text(f"mover_up_{i}_name"),
                             now=f.text(f"mover_up_{i}_revenue"), before=f.text(f"mover_up_{i}_revenue_prev")))
    for i in (1, 2):
        if f.get(f"mover_down_{i}_name"):
            changed.append(_("%(product)s fell to %(now)s from %(before)s.", product=f.text(f"mover_down_{i}_name"),
                             now=f.text(f"mover_down_{i}_revenue"), before=f.text(f"mover_down_{i}_revenue_prev")))
    if f.value("segment_moves"):
        changed.append(ngettext("%(count)s customer changed segment since the last analysis.",
                                "%(count)s customers changed segment since the last analysis.",
                                _count(f, "segment_moves"), count=f.text("segment_moves")))

    to_do: list[str] = []
    if f.get("reorder_count"):
        first = [f"{f.text(f'reorder_{i}_name')} ({f.text(f'reorder_{i}_qty')})" for i in range(1, 4)
                 if f.get(f"reorder_{i}_name")]
        to_do.append(ngettext("Reorder %(count)s product now, starting with %(first)s.",
                              "Reorder %(count)s products now, starting with %(first)s.", _count(f, "reorder_count"),
                              count=f.text("reorder_count"), first=", ".join(first)))
    if f.get("forecast_revenue") and not f.value("forecast_revenue") and daily:
        to_do.append(_("The store is expected to be closed on %(day)s.", day=f.text("forecast_from")))
    elif f.get("forecast_revenue"):
        when = (_("on %(day)s", day=f.text("forecast_from")) if daily else
                _("in the %(days)s days from %(day)s", days=f.text("period_days"), day=f.text("forecast_from")))
        sales = (ngettext("about %(count)s sale and ", "about %(count)s sales and ", _count(f, "forecast_sales"),
                          count=f.text("forecast_sales")) if f.get("forecast_sales") else "")
        to_do.append(_("Expect %(sales)s%(revenue)s %(when)s (likely between %(low)s and %(high)s).", sales=sales,
                       revenue=f.text("forecast_revenue"), when=when, low=f.text("forecast_revenue_lo80"),
                       high=f.text("forecast_revenue_hi80")))
    if f.get("busy_hour_1"):
        to_do.append(_("Have the till fully staffed for %(hour)s.", hour=f.text("busy_hour_1")))
    if f.value("segment_at_risk"):
        to_do.append(ngettext("Reach out to the %(count)s customer who is At risk before they go.",
                              "Reach out to the %(count)s customers who are At risk before they go.",
                              _count(f, "segment_at_risk"), count=f.text("segment_at_risk")))
    if f.value("segment_cant_lose"):
        to_do.append(ngettext("Win back the %(count)s former best customer (Can't lose) personally.",
                              "Win back the %(count)s former best customers (Can't lose) personally.",
                              _count(f, "segment_cant_lose"), count=f.text("segment_cant_lose")))

    risks: list[str] = []
    if f.value("alerts"):
        risks.append(ngettext("%(count)s sale was flagged as unusual (highest score %(score)s); check it on the "
                              "Insights page.",
                              "%(count)s sales were flagged as unusual (highest score %(score)s); check them on the "
                              "Insights page.", _count(f, "alerts"), count=f.text("alerts"),
                              score=f.text("alerts_top_score")))
    events = {
        "events_void_line": lambda n, t: ngettext("%(count)s line was voided inside a sale.",
                                                  "%(count)s lines were voided inside sales.", n, count=t),
        "events_price_override": lambda n, t: ngettext("%(count)s price was overridden.",
                                                       "%(count)s prices were overridden.", n, count=t),
        "events_discount_change": lambda n, t: ngettext("%(count)s discount was set by hand.",
                                                        "%(count)s discounts were set by hand.", n, count=t),
        "events_manual_entry": lambda n, t: ngettext("%(count)s item was typed in by hand.",
                                                     "%(count)s items were typed in by hand.", n, count=t),
        "events_drawer_open_no_sale": lambda n, t: ngettext(
            "%(count)s time the cash drawer opened without a sale.",
            "%(count)s times the cash drawer opened without a sale.", n, count=t),
        "events_vision_mismatch": lambda n, t: ngettext("%(count)s time the camera and the till disagreed.",
                                                        "%(count)s times the camera and the till disagreed.", n,
                                                        count=t),
    }
    for key, sentence in events.items():
        if f.value(key):
            risks.append(sentence(_count(f, key), f.text(key)))
    for i in range(1, 6):
        if f.get(f"reorder_{i}_stockout"):
            risks.append(_("%(product)s may run out on %(day)s.", product=f.text(f"reorder_{i}_name"),
                           day=f.text(f"reorder_{i}_stockout")))
            break
    if f.value("churn_high"):
        risks.append(ngettext("%(count)s customer is likely not to come back.",
                              "%(count)s customers are likely not to come back.", _count(f, "churn_high"),
                              count=f.text("churn_high")))
    if (c := _pct(f, "revenue_vs_usual_pct")) is not None and c[0] == "down" and c[1] >= 15:
        risks.append((_("Revenue is %(pct)s below the usual: watch the next day.") if daily else
                      _("Revenue is %(pct)s below the usual: watch the next week.")) % {"pct": _pct_text(c[1])})

    sections = {"what_happened": happened, "what_changed": changed or [_(NOTHING)],
                "what_to_do": to_do or [_(NOTHING)],
                "risks": risks or [_("No alerts, stock-outs or unusual refunds.")]}
    return title, sections


def render_text(title: str, sections: dict[str, list[str]], language: str = "en") -> str:
    parts = [title]
    with use_language(language):
        for key, label in SECTIONS:
            items = sections.get(key) or []
            if items:
                parts.append(f"{_(label)}: " + " ".join(items))
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
        raw = {"title": got.data["title"], **{k: list(got.data.get(k) or []) for k, _label in SECTIONS}}
        checked, result = check_sections(raw, facts, mode=mode)
        unsupported = result.unsupported
        dropped = [{"sentence": d.sentence, "unsupported": d.unsupported} for d in result.dropped]
        sections = {k: checked[k] for k, _label in SECTIONS}
        title = checked["title"] or computed_sections(facts)[0]
        if not any(sections.values()):
            title, sections = computed_sections(facts)
            source, note = asker.COMPUTED, ("The AI's text had figures that are not in your data; "
                                            "computed from your figures instead.")
    else:
        title, sections = computed_sections(facts)
    n = Narrative(store_id, facts.period, facts.start, facts.end, title, sections,
                  render_text(title, sections, facts.language), source, model, note, unsupported, dropped,
                  facts.data_version, asker.utc_stamp(), facts.to_json())
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
