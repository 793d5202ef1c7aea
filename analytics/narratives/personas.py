"""A persona for each customer segment (RFM segments) and basket segment of a store's newest
analytics run: a name, a description, marketing ideas and operational advice.

With a language model the segment profiles go to it as quoted data (one call for the store) and its
answer is fact-checked against the profile figures; without one (or when it fails) the persona is
computed from the profile by rules per segment kind (the RFM segment's meaning; the basket
segment's time band, size, categories, payment mix).  The newest persona of each segment is stored
(``personas`` table)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from analytics.db import narrative_tables as nt
from analytics.jobs import results as rs
from analytics.jobs.data import store_info
from analytics.llm import AIService
from analytics.llm.language import store_language
from analytics.narratives import ai as asker
from analytics.narratives.factcheck import check_sections
from analytics.narratives.facts import Facts, _Builder

KINDS = ("rfm", "basket")
_LIST = {"type": "array", "maxItems": 4, "items": {"type": "string", "minLength": 1, "maxLength": 400}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"personas": {"type": "array", "maxItems": 40, "items": {
        "type": "object",
        "properties": {"key": {"type": "string"}, "name": {"type": "string", "minLength": 1, "maxLength": 80},
                       "description": {"type": "string", "minLength": 1, "maxLength": 600},
                       "marketing": _LIST, "operations": _LIST},
        "required": ["key", "name", "description", "marketing", "operations"], "additionalProperties": False}}},
    "required": ["personas"], "additionalProperties": False,
}
INSTRUCTIONS = (
    "You help the owner of a small shop understand its customers. For every segment in the data, write a "
    "persona: a short memorable name, a two-sentence description of who they are and how they shop, up to "
    "three marketing ideas and up to three pieces of operational advice (stock, staffing, till). Use the "
    "segment's key exactly as given. Use only figures from the data; do not invent numbers."
)

# RFM segment -> (persona name, who they are, marketing ideas, operational advice)
RFM_RULES: dict[str, tuple[str, str, list[str], list[str]]] = {
    "Champions": ("The regulars", "Your best customers: they bought recently, come often and spend the most.",
                  ["Thank them with a small loyalty reward or an early look at new lines.",
                   "Ask them for a review or to bring a friend."],
                  ["Never let their usual products run out.", "Greet them by name; serve them quickly at busy hours."]),
    "Loyal": ("The faithful", "They come often and spend well, though not always as recently as the best.",
              ["Offer loyalty perks and introduce new lines to them first."],
              ["Keep their favourite categories well stocked."]),
    "Potential loyalists": ("The almost-regulars",
                            ("Recent customers with average frequency and spend who could "
                             "become regulars."), ["A membership or bundle offer to make coming back a habit."],
                            ["Make the second and third visit easy: keep the basics in stock."]),
    "New": ("The newcomers", "They bought for the first time very recently.",
            ["Welcome them and give a reason to come back within a week."],
            ["Make sure the till experience is quick and friendly."]),
    "Promising": ("The curious", "Recent customers who have bought little so far.",
                  ["Small offers on everyday items to build the habit."], ["Suggest a second item at the till."]),
    "Need attention": ("The drifters", "Middling on recency, frequency and spend, and drifting.",
                       ["A timely, limited offer before they slip away."], ["Note what they buy and stock it."]),
    "At risk": ("The fading regulars", "They used to buy well but have not been back lately.",
                ["Reach out personally (a message or a call) before they go."],
                ["Check whether something they buy was out of stock or got dearer."]),
    "Can't lose": ("The lost champions", "They were among your best customers and have not come back.",
                   ["Win them back personally with an offer on what they used to buy."],
                   ["Ask what changed: price, stock, service."]),
    "Hibernating": ("The sleepers", "Long gone and low value.", ["Only low-cost reminders."],
                    ["Spend no extra stock or staff on them."]),
    "Lost": ("The departed", "Lowest on every count.", ["Do not spend on them."], ["No action needed."]),
}


@dataclass
class Persona:
    store_id: str
    kind: str  # rfm | basket
    segment: str
    name: str
    description: str
    marketing: list[str]
    operations: list[str]
    source: str
    model: str | None
    note: str | None
    unsupported: list[str]
    generated_at: str
    run_id: str | None = None
    profile: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _key(kind: str, i: int) -> str:
    return f"{kind}_{i}"


def profile_facts(store_id: str, currency: str, as_of: str, segments: dict[str, list[dict[str, Any]]],
                  store_name: str = "", language: str = "en") -> Facts:
    """The segment profiles as facts (keys ``rfm_1_members``...), for the prompt and the check."""
    b = _Builder(currency)
    for kind, rows in segments.items():
        for i, s in enumerate(rows, 1):
            k, p = _key(kind, i), s.get("profile") or {}
            b.text(f"{k}_segment", f"{kind} segment {i}", s["segment"])
            b.count(f"{k}_members", "Customers" if kind == "rfm" else "Sales", s["members"])
            b.percent(f"{k}_share", "Share of customers" if kind == "rfm" else "Share of sales",
                      100 * float(s["share"]), signed=False)
            b.money(f"{k}_revenue", "Revenue", s["revenue"])
            b.percent(f"{k}_revenue_share", "Share of revenue", 100 * float(s["revenue_share"]), signed=False)
            for field, label, kind_ in (("avg_recency_days", "Days since last visit (average)", "number"),
                                        ("avg_frequency", "Visits (average)", "number"),
                                        ("avg_monetary", "Spend per customer (average)", "money"),
                                        ("avg_basket", "Average sale", "money"),
                                        ("median_basket", "Median sale", "money"),
                                        ("avg_items", "Items per sale (average)", "number"),
                                        ("avg_tenure_days", "Days as a customer (average)", "number")):
                if isinstance(p.get(field), (int, float)):
                    if kind_ == "money":
                        b.money(f"{k}_{field}", label, int(p[field]))
                    else:
                        b.number(f"{k}_{field}", label, float(p[field]))
            for field, label in (("avg_churn_risk", "Risk of not coming back (average)"),
                                 ("weekend_share", "Share of sales at the weekend"),
                                 ("known_customer_share", "Share of sales by known customers")):
                if isinstance(p.get(field), (int, float)):
                    b.percent(f"{k}_{field}", label, 100 * float(p[field]), signed=False)
            for j, h in enumerate(p.get("peak_hours") or [], 1):
                b.hour(f"{k}_peak_hour_{j}", f"Peak hour {j}", int(h))
            if p.get("peak_days"):
                b.text(f"{k}_peak_days", "Peak days", ", ".join(map(str, p["peak_days"])))
            if p.get("time_band"):
                b.text(f"{k}_time_band", "Time of day", str(p["time_band"]))
            for j, c in enumerate(p.get("top_categories") or [], 1):
                b.text(f"{k}_category_{j}", f"Top category {j}", str(c.get("category")))
                b.percent(f"{k}_category_{j}_share", f"Top category {j} share of spend", 100 * float(c.get("share", 0)),
                          signed=False)
            for method, share in (p.get("payment_mix") or {}).items():
                b.percent(f"{k}_pay_{method}", f"Paid by {method}", 100 * float(share), signed=False)
    return Facts(store_id, store_name, currency, "UTC", "daily", as_of, as_of, f"segments as of {as_of}", "", b.items,
                 language)


def computed_persona(kind: str, s: dict[str, Any], facts: Facts, key: str,
                     currency: str) -> tuple[str, str, list[str], list[str]]:
    """Rules from the profile: the RFM segment's meaning, or the basket segment's habits."""
    p = s.get("profile") or {}
    share = facts.text(f"{key}_revenue_share")
    cats = [c.get("category") for c in (p.get("top_categories") or []) if c.get("category")]
    if kind == "rfm":
        name, who, marketing, ops = RFM_RULES.get(s["segment"], (s["segment"], "A group of customers.", [], []))
        desc = (f"{who} {facts.text(f'{key}_members')} customers bring {share} of customer revenue"
                + (f", spending {facts.text(f'{key}_avg_basket')} a visit on average" if facts.get(f"{key}_avg_basket")
                   else "") + ".")
        marketing = list(marketing)
        if cats:
            marketing.append(f"Feature {cats[0]} in offers to them: it is what they buy most.")
        ops = list(ops)
        if facts.get(f"{key}_avg_churn_risk") and float(facts.value(f"{key}_avg_churn_risk")) >= 50:
            ops.append(f"Their average risk of not coming back is {facts.text(f'{key}_avg_churn_risk')}: act soon.")
        return name, desc, marketing[:3], ops[:3]
    band = str(p.get("time_band") or "").lower()
    size = "big-basket" if float(p.get("avg_items") or 0) >= 4 else "quick-trip"
    weekend = float(p.get("weekend_share") or 0) >= 0.5
    name = f"{'Weekend' if weekend else (band.capitalize() or 'Everyday')} {size} shoppers"
    desc = (f"{facts.text(f'{key}_members')} sales ({facts.text(f'{key}_share')} of sales, {share} of revenue)"
            + (f", mostly in the {band}" if band else "")
            + (f", averaging {facts.text(f'{key}_avg_basket')}" if facts.get(f"{key}_avg_basket") else "")
            + (f"; they buy mostly {', '.join(cats[:2])}" if cats else "") + ".")
    marketing = []
    if cats:
        marketing.append(f"Put {cats[0]} where these shoppers see it first and bundle it with {cats[1]}."
                         if len(cats) > 1 else f"Put {cats[0]} where these shoppers see it first.")
    marketing.append("Suggest one add-on item at the till to grow the basket." if size == "quick-trip"
                     else "Offer a multi-buy on their staples to keep the big shop here.")
    ops = []
    if facts.get(f"{key}_peak_hour_1"):
        ops.append(f"Staff the till for {facts.text(f'{key}_peak_hour_1')}, their busiest hour.")
    mix = p.get("payment_mix") or {}
    if mix:
        top_method = max(mix, key=lambda m: mix[m])
        ops.append(f"Most pay by {top_method.replace('_', ' ')} ({facts.text(f'{key}_pay_{top_method}')}): keep it "
                   "working and quick.")
    if cats:
        ops.append(f"Keep {cats[0]} stocked before their busy times.")
    return name, desc, marketing[:3], ops[:3]


def build_personas(engine: Engine, store_id: str, ai: AIService | None = None, allowed: list[str] | None = None,
                   save: bool = True) -> list[Persona]:
    """Personas for every RFM and basket segment of the newest run ([] before the first run)."""
    allowed = allowed if allowed is not None else [store_id]
    run = rs.latest_run(engine, store_id, allowed)
    if run is None:
        return []
    info = store_info(engine, store_id)
    currency = info.currency if info else "XXX"
    segments = {kind: rs.segments(engine, store_id, allowed, kind, run["run_id"]) for kind in KINDS}
    if not any(segments.values()):
        return []
    facts = profile_facts(store_id, currency, run["as_of"] or "2000-01-01", segments, info.name if info else "",
                          store_language(info.settings) if info else "en")
    data = {"segments": [{"key": _key(kind, i), "kind": kind, "segment": s["segment"],
                          "figures": {f.label: f.text for f in facts.items if f.key.startswith(_key(kind, i) + "_")}}
                         for kind, rows in segments.items() for i, s in enumerate(rows, 1)]}
    got = asker.ask(ai, store_id, "persona", INSTRUCTIONS, [("segments", data)],
                    "Write the personas as JSON: one entry per segment key.", SCHEMA, "personas",
                    f"{run['run_id']}", language=facts.language)
    answered: dict[str, dict[str, Any]] = {}
    if got.data is not None:
        for item in got.data["personas"]:
            answered.setdefault(item["key"], item)
    stamp = asker.utc_stamp()
    out: list[Persona] = []
    for kind, rows in segments.items():
        for i, s in enumerate(rows, 1):
            key = _key(kind, i)
            item = answered.get(key)
            if item is not None:
                checked, result = check_sections({"name": item["name"], "description": item["description"],
                                                  "marketing": item["marketing"], "operations": item["operations"]},
                                                 facts)
                if checked["name"] and checked["description"]:
                    out.append(Persona(store_id, kind, s["segment"], checked["name"], checked["description"],
                                       checked["marketing"], checked["operations"], got.source, got.model, None,
                                       result.unsupported, stamp, run["run_id"], s.get("profile")))
                    continue
            name, desc, marketing, ops = computed_persona(kind, s, facts, key, currency)
            note = got.note or ("The AI gave no usable persona for this segment; computed from the profile."
                                if got.data is not None else None)
            out.append(Persona(store_id, kind, s["segment"], name, desc, marketing, ops, asker.COMPUTED, None, note,
                               [], stamp, run["run_id"], s.get("profile")))
    if save:
        save_personas(engine, store_id, out)
    return out


def save_personas(engine: Engine, store_id: str, personas: list[Persona]) -> None:
    with engine.begin() as conn:
        conn.execute(delete(nt.personas).where(nt.personas.c.store_id == store_id))
        if personas:
            conn.execute(insert(nt.personas), [
                {"store_id": p.store_id, "kind": p.kind, "segment": p.segment, "run_id": p.run_id, "name": p.name,
                 "description": p.description, "marketing": p.marketing, "operations": p.operations,
                 "source": p.source, "model": p.model, "note": p.note, "unsupported": p.unsupported,
                 "generated_at": p.generated_at} for p in personas])


def stored_personas(engine: Engine, store_id: str) -> list[Persona]:
    c = nt.personas.c
    with engine.connect() as conn:
        rows = conn.execute(select(nt.personas).where(c.store_id == store_id)).mappings().all()
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted((Persona(r["store_id"], r["kind"], r["segment"], r["name"], r["description"], r["marketing"] or [],
                           r["operations"] or [], r["source"], r["model"], r["note"], r["unsupported"] or [],
                           r["generated_at"], r["run_id"]) for r in rows),
                  key=lambda p: (order.get(p.kind, 9), p.segment))


def personas_for(engine: Engine, store_id: str, allowed: list[str] | None = None) -> list[Persona]:
    """The stored personas when they are of the newest run, else freshly computed ones (no AI call,
    nothing stored): what a reader sees."""
    allowed = allowed if allowed is not None else [store_id]
    run = rs.latest_run(engine, store_id, allowed)
    stored = stored_personas(engine, store_id)
    if stored and run is not None and all(p.run_id == run["run_id"] for p in stored):
        return stored
    return build_personas(engine, store_id, None, allowed, save=False)
