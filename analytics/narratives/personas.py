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
from analytics.narratives import words
from analytics.narratives.factcheck import check_sections
from analytics.narratives.facts import Facts, _Builder
from analytics.segmentation.words import segment_name
from i18n import N_, ngettext, use_language
from i18n import gettext as _

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

# RFM segment -> (persona name, who they are, marketing ideas, operational advice); English msgids, written in the
# store's language by computed_persona
RFM_RULES: dict[str, tuple[str, str, list[str], list[str]]] = {
    "Champions": (N_("The regulars"), N_("Your best customers: they bought recently, come often and spend the most."),
                  [N_("Thank them with a small loyalty reward or an early look at new lines."),
                   N_("Ask them for a review or to bring a friend.")],
                  [N_("Never let their usual products run out."),
                   N_("Greet them by name; serve them quickly at busy hours.")]),
    "Loyal": (N_("The faithful"), N_("They come often and spend well, though not always as recently as the best."),
              [N_("Offer loyalty perks and introduce new lines to them first.")],
              [N_("Keep their favourite categories well stocked.")]),
    "Potential loyalists": (N_("The almost-regulars"),
                            N_("Recent customers with average frequency and spend who could become regulars."),
                            [N_("A membership or bundle offer to make coming back a habit.")],
                            [N_("Make the second and third visit easy: keep the basics in stock.")]),
    "New": (N_("The newcomers"), N_("They bought for the first time very recently."),
            [N_("Welcome them and give a reason to come back within a week.")],
            [N_("Make sure the till experience is quick and friendly.")]),
    "Promising": (N_("The curious"), N_("Recent customers who have bought little so far."),
                  [N_("Small offers on everyday items to build the habit.")],
                  [N_("Suggest a second item at the till.")]),
    "Need attention": (N_("The drifters"), N_("Middling on recency, frequency and spend, and drifting."),
                       [N_("A timely, limited offer before they slip away.")],
                       [N_("Note what they buy and stock it.")]),
    "At risk": (N_("The fading regulars"), N_("They used to buy well but have not been back lately."),
                [N_("Reach out personally (a message or a call) before they go.")],
                [N_("Check whether something they buy was out of stock or got dearer.")]),
    "Can't lose": (N_("The lost champions"), N_("They were among your best customers and have not come back."),
                   [N_("Win them back personally with an offer on what they used to buy.")],
                   [N_("Ask what changed: price, stock, service.")]),
    "Hibernating": (N_("The sleepers"), N_("Long gone and low value."), [N_("Only low-cost reminders.")],
                    [N_("Spend no extra stock or staff on them.")]),
    "Lost": (N_("The departed"), N_("Lowest on every count."), [N_("Do not spend on them.")],
             [N_("No action needed.")]),
}
# a basket segment's name: (when they shop, basket size) -> msgid
BASKET_NAMES: dict[tuple[str, str], str] = {
    ("weekend", "big-basket"): N_("Weekend big-basket shoppers"),
    ("weekend", "quick-trip"): N_("Weekend quick-trip shoppers"),
    ("everyday", "big-basket"): N_("Everyday big-basket shoppers"),
    ("everyday", "quick-trip"): N_("Everyday quick-trip shoppers"),
    ("early morning", "big-basket"): N_("Early morning big-basket shoppers"),
    ("early morning", "quick-trip"): N_("Early morning quick-trip shoppers"),
    ("morning", "big-basket"): N_("Morning big-basket shoppers"),
    ("morning", "quick-trip"): N_("Morning quick-trip shoppers"),
    ("midday", "big-basket"): N_("Midday big-basket shoppers"),
    ("midday", "quick-trip"): N_("Midday quick-trip shoppers"),
    ("afternoon", "big-basket"): N_("Afternoon big-basket shoppers"),
    ("afternoon", "quick-trip"): N_("Afternoon quick-trip shoppers"),
    ("evening", "big-basket"): N_("Evening big-basket shoppers"),
    ("evening", "quick-trip"): N_("Evening quick-trip shoppers"),
    ("night", "big-basket"): N_("Night big-basket shoppers"),
    ("night", "quick-trip"): N_("Night quick-trip shoppers"),
}
# the basket segment's time band (analytics.segmentation.baskets.TIME_BANDS, lower case) -> msgid
BAND_PHRASES = {"early morning": N_("mostly in the early morning"), "morning": N_("mostly in the morning"),
                "midday": N_("mostly at midday"), "afternoon": N_("mostly in the afternoon"),
                "evening": N_("mostly in the evening"), "night": N_("mostly at night")}


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
                  store_name: str = "", language: str = "en", timezone: str = "UTC") -> Facts:
    """The segment profiles as facts (keys ``rfm_1_members``...), for the prompt and the check."""
    b = _Builder(currency, language, timezone)
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
    return Facts(store_id, store_name, currency, timezone, "daily", as_of, as_of, f"segments as of {as_of}", "",
                 b.items, language)


def computed_persona(kind: str, s: dict[str, Any], facts: Facts, key: str,
                     currency: str) -> tuple[str, str, list[str], list[str]]:
    """Rules from the profile (the RFM segment's meaning, or the basket segment's habits), written in the
    facts' language (the store's), every figure a fact's own text."""
    with use_language(facts.language, facts.timezone):
        return _computed_persona(kind, s, facts, key)


def _computed_persona(kind: str, s: dict[str, Any], facts: Facts, key: str) -> tuple[str, str, list[str], list[str]]:
    p = s.get("profile") or {}
    share = facts.text(f"{key}_revenue_share")
    members = int(facts.value(f"{key}_members") or 0)
    cats = [words.category(str(c["category"])) for c in (p.get("top_categories") or []) if c.get("category")]
    if kind == "rfm":
        rule = RFM_RULES.get(s["segment"])
        name, who = (_(rule[0]), _(rule[1])) if rule else (s["segment"], _("A group of customers."))
        figures = (ngettext("%(count)s customer brings %(share)s of customer revenue, spending %(avg)s a visit on "
                            "average.", "%(count)s customers bring %(share)s of customer revenue, spending %(avg)s a "
                            "visit on average.", members, count=facts.text(f"{key}_members"), share=share,
                            avg=facts.text(f"{key}_avg_basket")) if facts.get(f"{key}_avg_basket") else
                   ngettext("%(count)s customer brings %(share)s of customer revenue.",
                            "%(count)s customers bring %(share)s of customer revenue.", members,
                            count=facts.text(f"{key}_members"), share=share))
        marketing = [_(m) for m in rule[2]] if rule else []
        if cats:
            marketing.append(_("Feature %(category)s in offers to them: it is what they buy most.", category=cats[0]))
        ops = [_(o) for o in rule[3]] if rule else []
        if facts.get(f"{key}_avg_churn_risk") and float(facts.value(f"{key}_avg_churn_risk")) >= 50:
            ops.append(_("Their average risk of not coming back is %(risk)s: act soon.",
                         risk=facts.text(f"{key}_avg_churn_risk")))
        return name, f"{who} {figures}", marketing[:3], ops[:3]
    band = str(p.get("time_band") or "").lower()
    size = "big-basket" if float(p.get("avg_items") or 0) >= 4 else "quick-trip"
    weekend = float(p.get("weekend_share") or 0) >= 0.5
    when = "weekend" if weekend else (band if (band, size) in BASKET_NAMES else "everyday")
    name = _(BASKET_NAMES[(when, size)])
    parts = [ngettext("%(count)s sale (%(share)s of sales, %(revenue)s of revenue)",
                      "%(count)s sales (%(share)s of sales, %(revenue)s of revenue)", members,
                      count=facts.text(f"{key}_members"), share=facts.text(f"{key}_share"), revenue=share)]
    if band:
        parts.append(_(BAND_PHRASES[band]) if band in BAND_PHRASES else band)
    if facts.get(f"{key}_avg_basket"):
        parts.append(_("averaging %(amount)s", amount=facts.text(f"{key}_avg_basket")))
    desc = ", ".join(parts) + ("; " + _("they buy mostly %(categories)s", categories=", ".join(cats[:2]))
                               if cats else "") + "."
    marketing = []
    if cats:
        marketing.append(_("Put %(first)s where these shoppers see it first and bundle it with %(second)s.",
                           first=cats[0], second=cats[1]) if len(cats) > 1 else
                         _("Put %(first)s where these shoppers see it first.", first=cats[0]))
    marketing.append(_("Suggest one add-on item at the till to grow the basket.") if size == "quick-trip"
                     else _("Offer a multi-buy on their staples to keep the big shop here."))
    ops = []
    if facts.get(f"{key}_peak_hour_1"):
        ops.append(_("Staff the till for %(hour)s, their busiest hour.", hour=facts.text(f"{key}_peak_hour_1")))
    mix = p.get("payment_mix") or {}
    if mix:
        top_method = max(mix, key=lambda m: mix[m])
        method = words.payment(top_method)
        ops.append(_("Most pay by %(method)s (%(share)s): keep it working and quick.", method=method,
                     share=facts.text(f"{key}_pay_{top_method}")))
    if cats:
        ops.append(_("Keep %(category)s stocked before their busy times.", category=cats[0]))
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
                          store_language(info.settings) if info else "en", info.timezone if info else "UTC")
    with use_language(facts.language, facts.timezone):  # the name the owner reads on the Customers tab
        shown = {(kind, s["segment"]): segment_name(kind, s["segment"], s.get("profile"))
                 for kind, rows in segments.items() for s in rows}
    data = {"segments": [{"key": _key(kind, i), "kind": kind, "segment": s["segment"],
                          "segment_name": shown[(kind, s["segment"])],
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
