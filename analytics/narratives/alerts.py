"""Why a sale scored as anomalous, in plain words for the owner.

The alert (score, reasons, device, time) and its sale (the ``tillsight.tx/1`` payload: lines,
total, payment, cashier and its events, read as the typed records of ``contracts.events``; the
drawer opening for the sale's own cash payment is left out, a no-sale opening is not) become facts;
the language model explains them from a quoted data block and its answer is fact-checked; without
one the explanation is computed from the reasons and events.  The newest explanation per alert is
stored (``alert_explanations``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, insert, select

from analytics.db import narrative_tables as nt
from analytics.db import tables as t
from analytics.jobs.data import store_info
from analytics.llm import AIService
from analytics.llm.language import store_language
from analytics.narratives import ai as asker
from analytics.narratives.factcheck import check_sections
from analytics.narratives.facts import Facts, _Builder, day_label, fact_kind
from contracts.events import payload_events
from contracts.timestamps import parse_utc
from i18n import N_, use_language
from i18n import gettext as _
from i18n.reasons import localized_reason, localized_reasons

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"summary": {"type": "string", "minLength": 1, "maxLength": 400},
                   "details": {"type": "array", "maxItems": 8,
                               "items": {"type": "string", "minLength": 1, "maxLength": 400}},
                   "advice": {"type": "string", "maxLength": 400}},
    "required": ["summary", "details", "advice"], "additionalProperties": False,
}
INSTRUCTIONS = (
    "You explain to a shop owner, in plain and calm words, why the till's anomaly detector flagged a sale. "
    "Say what was unusual, what innocent explanations there may be, and what the owner could check. Do not "
    "accuse the cashier. Use only figures from the data."
)
# Keyed by facts.fact_kind: the drawer opening for the sale's own cash payment is no event worth a word.
EVENT_WORDS = {
    "void_line": (N_("a line was removed from the basket after it was scanned"),
                  N_("lines were removed after being scanned")),
    "sale_void": (N_("the whole sale was voided"), N_("times the whole sale was voided")),
    "price_override": (N_("a price was changed by hand"), N_("prices were changed by hand")),
    "discount_change": (N_("a discount was set by hand"), N_("discounts were set by hand")),
    "manual_entry": (N_("an item was typed in by hand instead of scanned or seen"), N_("items were typed in by hand")),
    "drawer_open_no_sale": (N_("the cash drawer was opened without a sale"),
                            N_("times the cash drawer was opened without a sale")),
    "vision_mismatch": (N_("the camera saw something different from what was rung up"),
                        N_("times the camera and the till disagreed")),
}
ADVICE = {
    "void_line": N_("Look at the camera recording of the sale and check the removed item was really put back."),
    "price_override": N_("Check the changed price against the shelf price and who approved it."),
    "discount_change": N_("Check who approved the discount and why."),
    "manual_entry": N_("Check the typed-in items match what the camera saw."),
    "drawer_open_no_sale": N_("Count the drawer at the end of the shift."),
    "vision_mismatch": N_("Check the recording: an item may have passed without being rung up."),
}


def _event_counts(payload: dict[str, Any] | None) -> Counter[str]:
    """How many events of each kind (``facts.fact_kind``) the sale carries, ordinary ones left out."""
    kinds = (fact_kind(e) for e in payload_events(payload or {}))
    return Counter(k for k in kinds if k is not None)


class AlertNotFound(LookupError):
    pass


@dataclass
class Explanation:
    store_id: str
    alert_id: str
    summary: str
    details: list[str]
    advice: str
    source: str
    model: str | None
    note: str | None
    unsupported: list[str]
    generated_at: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _alert(engine: Engine, store_id: str, alert_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    a = t.alerts.c
    with engine.connect() as conn:
        row = conn.execute(select(t.alerts).where(a.store_id == store_id, a.alert_id == alert_id)).mappings().first()
        if row is None:
            raise AlertNotFound(f"no alert {alert_id!r} in store {store_id!r}")
        payload = None
        if row["tx_id"]:
            payload = conn.execute(select(t.transactions.c.payload).where(
                t.transactions.c.store_id == store_id, t.transactions.c.tx_id == row["tx_id"])).scalar()
    return dict(row), payload


def alert_facts(engine: Engine, store_id: str, alert: dict[str, Any], payload: dict[str, Any] | None) -> Facts:
    info = store_info(engine, store_id)
    cur = (payload or {}).get("currency") or (info.currency if info else "XXX")
    tz = ZoneInfo(info.timezone if info else "UTC")
    language = store_language(info.settings) if info else "en"
    b = _Builder(cur, language, info.timezone if info else "UTC")
    score = float(alert["score"])
    b.number("score", "Anomaly score (0 to 1)", score, 2)
    b.percent("score_pct", "Anomaly score as a percentage", 100 * score, signed=False)
    for i, reason in enumerate(alert.get("reasons") or [], 1):
        b.text(f"reason_{i}", f"Reason {i}", str(reason))
    b.text("device", "Till", str(alert["device_id"]))
    when = parse_utc(alert["raised_at"]).astimezone(tz)
    b.day("raised_day", "Day (store time)", when.date().isoformat())
    b.hour("raised_hour", "Hour (store time)", when.hour)
    b.text("raised_time", "Time (store time)", when.strftime("%H:%M"))
    if payload:
        b.text("cashier", "Cashier", str(payload.get("cashier_id") or ""))
        b.text("status", "Sale status", str(payload.get("status") or ""))
        if isinstance(payload.get("total"), int):
            b.money("total", "Sale total", payload["total"])
        for key, label in (("discount", "Discount"), ("subtotal", "Subtotal")):
            if isinstance(payload.get(key), int) and payload[key]:
                b.money(key, label, payload[key])
        lines = [ln for ln in payload.get("lines") or [] if isinstance(ln, dict)]
        b.count("lines", "Lines in the sale", len(lines))
        b.count("items", "Items in the sale", sum(abs(int(ln.get("qty") or 0)) for ln in lines))
        for i, ln in enumerate(lines[:15], 1):
            b.text(f"line_{i}_name", f"Line {i}", str(ln.get("name") or ln.get("sku") or ""))
            b.count(f"line_{i}_qty", f"Line {i} quantity", int(ln.get("qty") or 0))
            if isinstance(ln.get("unit_price"), int):
                b.money(f"line_{i}_price", f"Line {i} unit price", ln["unit_price"])
            if ln.get("source"):
                b.text(f"line_{i}_source", f"Line {i} entered by", str(ln["source"]))
        pay = payload.get("payment") or {}
        if isinstance(pay, dict):
            if pay.get("method"):
                b.text("payment", "Paid by", str(pay["method"]))
            for key, label in (("tendered", "Tendered"), ("change", "Change given")):
                if isinstance(pay.get(key), int):
                    b.money(key, label, pay[key])
        for kind, n in _event_counts(payload).items():
            b.count(f"event_{kind}", f"Events: {kind}", n)
        for i, e in enumerate(payload_events(payload)[:20], 1):
            for k, v in e.detail().items():
                if isinstance(v, int) and not isinstance(v, bool) and any(w in k for w in ("price", "amount", "total")):
                    b.money(f"event_{i}_{k}", f"Event {i} {k}", v)
                elif isinstance(v, (str, int, float)) and not isinstance(v, bool):
                    b.text(f"event_{i}_{k}", f"Event {i} {k}", str(v))
    day = when.date().isoformat()
    return Facts(store_id, info.name if info else store_id, cur, info.timezone if info else "UTC", "daily", day, day,
                 day_label(when.date(), language, info.timezone if info else "UTC"),
                 f"{alert['alert_id']}|{alert['score']}|{alert.get('tx_id')}", b.items, language)


def computed_explanation(facts: Facts, alert: dict[str, Any],
                         payload: dict[str, Any] | None) -> tuple[str, list[str], str]:
    """The explanation written without AI, in the store's language (the facts')."""
    with use_language(facts.language, facts.timezone):
        return _computed_explanation(facts, payload)


def _computed_explanation(facts: Facts, payload: dict[str, Any] | None) -> tuple[str, list[str], str]:
    events = _event_counts(payload)
    summary = (_("The till flagged this sale at %(time)s with a score of %(score)s (0 is ordinary, 1 is very "
                 "unusual); it totalled %(total)s.", time=facts.text("raised_time"), score=facts.text("score"),
                 total=facts.text("total")) if facts.get("total") else
               _("The till flagged this sale at %(time)s with a score of %(score)s (0 is ordinary, 1 is very "
                 "unusual).", time=facts.text("raised_time"), score=facts.text("score")))
    details = []
    for i in range(1, 20):
        if facts.get(f"reason_{i}"):
            details.append(_("The detector noted: %(reason)s.",  # stored in English: re-worded in the store's language
                             reason=localized_reason(facts.text(f"reason_{i}"), facts.currency)))
    for kind, n in events.items():
        one, many = EVENT_WORDS.get(kind, (kind.replace("_", " "), kind.replace("_", " ")))
        details.append(_("During the sale %(what)s.", what=_(one)) if n == 1
                       else _("During the sale %(count)s %(what)s.", count=facts.text(f"event_{kind}"), what=_(many)))
    if not details:
        details.append(_("The sale as a whole looked unlike this till's usual sales."))
    tips = [_(ADVICE[k]) for k in events if k in ADVICE]
    advice = " ".join(tips[:2]) or _("Compare the sale with the camera recording; there may be an innocent "
                                     "explanation.")
    return summary, details, advice


def explain(engine: Engine, store_id: str, alert_id: str, ai: AIService | None = None,
            save: bool = True) -> Explanation:
    """Explain one alert of ``store_id`` (raises :class:`AlertNotFound`; callers check the scope)."""
    alert, payload = _alert(engine, store_id, alert_id)
    facts = alert_facts(engine, store_id, alert, payload)
    got = asker.ask(ai, store_id, "alert_explanation", INSTRUCTIONS, [("alert", facts.as_data())],
                    "Explain this alert as JSON: a one-sentence summary, the details as short points, and advice.",
                    SCHEMA, "alert_explanation", facts.data_version, language=facts.language)
    stamp = asker.utc_stamp()
    if got.data is not None:
        checked, result = check_sections(dict(got.data), facts)
        if checked["summary"]:
            exp = Explanation(store_id, alert_id, checked["summary"], checked["details"], checked["advice"],
                              got.source, got.model, None, result.unsupported, stamp)
            if save:
                _save(engine, exp)
            return exp
    summary, details, advice = computed_explanation(facts, alert, payload)
    note = got.note or "The AI's explanation had figures not in the sale; computed from the alert instead."
    exp = Explanation(store_id, alert_id, summary, details, advice, asker.COMPUTED, None, note, [], stamp)
    if save:
        _save(engine, exp)
    return exp


def _save(engine: Engine, exp: Explanation) -> None:
    c = nt.alert_explanations.c
    with engine.begin() as conn:
        conn.execute(delete(nt.alert_explanations).where(c.store_id == exp.store_id, c.alert_id == exp.alert_id))
        conn.execute(insert(nt.alert_explanations).values(
            store_id=exp.store_id, alert_id=exp.alert_id, summary=exp.summary, details=exp.details, advice=exp.advice,
            source=exp.source, model=exp.model, note=exp.note, unsupported=exp.unsupported,
            generated_at=exp.generated_at))


def stored(engine: Engine, store_id: str, alert_ids: list[str]) -> dict[str, Explanation]:
    if not alert_ids:
        return {}
    c = nt.alert_explanations.c
    with engine.connect() as conn:
        rows = conn.execute(select(nt.alert_explanations).where(c.store_id == store_id,
                                                                c.alert_id.in_(alert_ids))).mappings().all()
    return {r["alert_id"]: Explanation(r["store_id"], r["alert_id"], r["summary"], r["details"] or [], r["advice"],
                                       r["source"], r["model"], r["note"], r["unsupported"] or [], r["generated_at"])
            for r in rows}


def recent_with_explanations(engine: Engine, store_id: str, limit: int = 20,
                             currency: str | None = None) -> list[dict[str, Any]]:
    """The store's newest anomaly alerts, each with its stored explanation or a computed one (free), and its
    reasons as stored and re-worded in the current language (``reasons_text``; amounts in ``currency``), and
    whether the store has closed it (``closed_at``, ``closed_how``: acknowledged or cleared)."""
    a = t.alerts.c
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(t.alerts).where(a.store_id == store_id, a.kind == "anomaly")
                                              .order_by(a.raised_at.desc(), a.alert_id).limit(limit)).mappings()]
    have = stored(engine, store_id, [r["alert_id"] for r in rows])
    out = []
    for r in rows:
        exp = have.get(r["alert_id"])
        if exp is None:
            exp = explain(engine, store_id, r["alert_id"], None, save=False)
        out.append({"alert_id": r["alert_id"], "device_id": r["device_id"], "raised_at": r["raised_at"],
                    "score": r["score"], "reasons": r["reasons"], "tx_id": r["tx_id"], "explanation": exp.to_json(),
                    "reasons_text": localized_reasons(r["reasons"] or [], currency),
                    "closed_at": r["closed_at"], "closed_how": r["closed_how"]})
    return out
