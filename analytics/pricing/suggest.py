"""Price suggestions for one store: :func:`pricing_report` puts the parts together.

Per product, from its :class:`~analytics.pricing.position.Position` and its pooled
:class:`~analytics.pricing.elasticity.Elasticity`:

* **hold** — near stock-out: keep the price (no markdown of what is about to run out);
* **markdown** — slow mover or overstock: the lower price inside the rails with the most expected
  profit; when every markdown costs profit, the smallest one, and the reason says it trades profit
  for clearing stock;
* **increase** / **decrease** — any other product: the price inside the rails with the most expected
  profit, suggested only when the gain's 80 % range stays above zero;
* **keep** — the current price is already the best the rails allow;
* **none** — no elasticity-based suggestion, and why (the elasticity cannot be told, or no cost);
* **pending** / **rejected** — a decision on the product is under way or was made recently
  (:data:`QUIET_DAYS`), so it is not asked again.

Multi-buy and bundle offers come from ``baskets.py``.  Every reason is fact-checked (``reasons.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from analytics.jobs.data import StoreData, load_store_data, store_ids
from analytics.jobs.stock import store_stock
from analytics.pricing import changes as ch
from analytics.pricing import reasons as rs
from analytics.pricing.baskets import Offer, bundles, multibuys
from analytics.pricing.effects import HORIZON_DAYS, Effect, expected_effect
from analytics.pricing.elasticity import (
    MIN_CELLS,
    MIN_PRICES,
    MIN_SPREAD,
    Z80,
    Elasticity,
    OwnEstimate,
    estimate_elasticities,
    fleet_pools,
    observations,
    own_estimates,
)
from analytics.pricing.position import TREND_DAYS, Cost, Position, positions
from analytics.pricing.rails import GuardRails, Window, allowed_prices, window
from analytics.pricing.reasons import ReasonWriter
from analytics.pricing.tables import price_rails
from analytics.web.queries.costs import current_costs, product_margins
from analytics.web.tenancy import StoreScope
from i18n import N_

log = logging.getLogger(__name__)

QUIET_DAYS = 28  # a product decided on is not suggested again for this long
ACTIONABLE = ("markdown", "increase", "decrease", "hold")


@dataclass
class ProductAdvice:
    position: Position
    elasticity: Elasticity
    kind: str
    suggested_price: int | None
    effect: Effect | None
    reason: str  # in English (the command line, the JSON); the page words it from reason_parts
    unsupported: list[str] = field(default_factory=list)
    reason_parts: list[dict[str, Any]] = field(default_factory=list)  # reasons.py phrases
    reason_facts: list[dict[str, Any]] = field(default_factory=list)  # the figures they may quote

    def as_dict(self) -> dict[str, Any]:
        p, e = self.position, self.elasticity
        return {
            "sku": p.sku, "name": p.name, "category": p.category, "kind": self.kind, "price": p.price,
            "suggested_price": self.suggested_price, "cost": p.cost, "cost_assumed": p.cost_assumed,
            "margin": None if p.margin is None else round(p.margin, 4),
            "new_margin": (None if self.suggested_price is None or p.margin_at(self.suggested_price) is None
                           else round(p.margin_at(self.suggested_price) or 0.0, 4)),
            "units_28d": p.units_28d, "trend": p.trend,
            "trend_change": None if p.trend_change is None else round(p.trend_change, 4),
            "stock": p.stock, "on_hand": p.on_hand, "days_of_cover": p.days_of_cover,
            "elasticity": None if e.estimate is None else round(e.estimate, 3),
            "elasticity_low": None if e.low is None else round(e.low, 3),
            "elasticity_high": None if e.high is None else round(e.high, 3),
            "elasticity_source": e.source, "elasticity_told": e.told, "elasticity_reason": e.reason,
            "effect": self.effect.as_dict() if self.effect else None,
            "reason": self.reason, "reason_checked": not self.unsupported, "unsupported": self.unsupported,
        }


@dataclass
class OfferAdvice:
    offer: Offer
    names: list[str]
    reason: str
    unsupported: list[str]
    reason_parts: list[dict[str, Any]] = field(default_factory=list)
    reason_facts: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        o = self.offer
        return {"kind": o.kind, "skus": list(o.skus), "names": self.names, "quantity": o.quantity,
                "offer_price": o.offer_price, "regular_price": o.regular_price, "evidence": o.evidence,
                "effect": o.effect.as_dict(), "reason": self.reason, "reason_checked": not self.unsupported}


@dataclass
class PricingReport:
    store_id: str
    store_name: str
    currency: str
    timezone: str
    as_of: date | None
    rails: GuardRails
    products: list[ProductAdvice]
    offers: list[OfferAdvice]

    def suggestions(self) -> list[ProductAdvice]:
        """What the owner can act on, the largest expected profit gain first (holds last)."""
        act = [a for a in self.products if a.kind in ACTIONABLE]
        return sorted(act, key=lambda a: (a.kind == "hold", -(a.effect.profit.expected
                                                              if a.effect and a.effect.profit else 0), a.position.sku))

    def find(self, sku: str) -> ProductAdvice | None:
        return next((a for a in self.products if a.position.sku == sku), None)

    def reason_in(self, advice: ProductAdvice | OfferAdvice, language: str | None = None) -> tuple[str, list[str]]:
        """``advice``'s reason worded in ``language`` (None: the current one) and fact-checked in it: (text,
        the numbers no figure supports).  A reason stored without its phrases is shown as stored."""
        if not advice.reason_parts:
            return advice.reason, list(advice.unsupported)
        return rs.localized(advice.reason_parts, advice.reason_facts, language, self.store_id, self.store_name,
                            self.currency, self.timezone, self.as_of)

    def as_dict(self) -> dict[str, Any]:
        return {"store_id": self.store_id, "currency": self.currency,
                "as_of": self.as_of.isoformat() if self.as_of else None, "rails": self.rails.as_dict(),
                "horizon_days": HORIZON_DAYS, "suggestions": [a.as_dict() for a in self.suggestions()],
                "offers": [o.as_dict() for o in self.offers],
                "products": [a.as_dict() for a in self.products]}


# -- guard rails -------------------------------------------------------------------------------

def load_rails(engine: Engine, store_id: str) -> GuardRails:
    with engine.connect() as conn:
        row = conn.execute(select(price_rails).where(price_rails.c.store_id == store_id)).mappings().first()
    if row is None:
        return GuardRails()
    return GuardRails(float(row["min_margin"]), float(row["max_step"]), tuple(row["endings"]))


def save_rails(engine: Engine, store_id: str, rails: GuardRails, by: str, now: datetime) -> None:
    values = {"min_margin": rails.min_margin, "max_step": rails.max_step, "endings": list(rails.endings),
              "updated_by": by, "updated_at": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    with engine.begin() as conn:
        done = conn.execute(price_rails.update().where(price_rails.c.store_id == store_id).values(**values))
        if not done.rowcount:
            conn.execute(price_rails.insert().values(store_id=store_id, **values))


# -- one product -------------------------------------------------------------------------------

def _writer(report: PricingReport) -> ReasonWriter:
    assert report.as_of is not None
    return ReasonWriter(report.store_id, report.store_name, report.currency, report.timezone, report.as_of)


def _common_facts(w: ReasonWriter, p: Position, e: Elasticity, rails: GuardRails) -> None:
    """Figures a reason may quote from the product and the rails (also those inside standard phrases)."""
    w.count("horizon_days", HORIZON_DAYS)
    w.count("trend_days", TREND_DAYS)
    w.count("min_cells", MIN_CELLS)
    w.count("min_prices", MIN_PRICES)
    w.percent("min_spread", MIN_SPREAD)
    w.percent("interval", 0.8)
    w.percent("max_step", rails.max_step)
    w.percent("min_margin", rails.min_margin)
    w.count("cells", e.cells)
    w.count("prices", e.prices)
    w.count("pool", e.pool_size)
    if e.estimate is not None and e.se is not None:
        w.number("elasticity2", e.estimate, 2)
        w.number("halfwidth2", Z80 * e.se, 2)


def _situation(w: ReasonWriter, p: Position) -> None:
    on_hand = w.count("on_hand", p.on_hand or 0)
    if p.stock == "near stock-out":
        if p.days_of_cover is not None:
            w.say(N_("Near stock-out: %(on_hand)s on hand, about %(cover)s days of cover."), on_hand=on_hand,
                  cover=w.number("cover", p.days_of_cover))
        else:
            w.say(N_("Near stock-out: %(on_hand)s on hand."), on_hand=on_hand)
    elif p.stock == "overstock":
        if p.days_of_cover is not None:
            w.say(N_("Overstock: %(on_hand)s on hand, about %(cover)s days of cover at the recent rate."),
                  on_hand=on_hand, cover=w.number("cover", p.days_of_cover, 0))
        else:
            w.say(N_("Overstock: %(on_hand)s on hand and no sale in the last 28 days."), on_hand=on_hand)
    elif p.stock == "slow mover":
        w.say(N_("Slow mover: %(units)s sold in the last %(days)s days."), units=w.count("units_28d", p.units_28d),
              days=rs.count(TREND_DAYS))
    if p.trend in ("rising", "falling") and p.trend_change is not None:
        msgid = (N_("Demand is rising: %(units)s units in the last %(days)s days against %(before)s in the %(days)s "
                    "before.") if p.trend == "rising" else
                 N_("Demand is falling: %(units)s units in the last %(days)s days against %(before)s in the %(days)s "
                    "before."))
        w.say(msgid, units=w.count("units_28d", p.units_28d), days=rs.count(TREND_DAYS),
              before=w.count("units_prev", p.units_prev_28d))


WHERE = {"own": N_("from its own price changes"),
         "own+category": N_("from its own price changes, pooled with %(pool)s products of its category"),
         "own+store": N_("from its own price changes, pooled with %(pool)s products of the store"),
         "category": N_("borrowed from %(pool)s products of its category (too few price changes of its own)"),
         "store": N_("borrowed from %(pool)s products of the store (too few price changes of its own)"),
         "own+fleet-category": N_("from its own price changes, pooled with %(pool)s products of its category across "
                                  "the fleet"),
         "own+fleet": N_("from its own price changes, pooled with %(pool)s products across the fleet"),
         "fleet-category": N_("borrowed from %(pool)s products of its category across the fleet (too few price "
                              "changes of its own)"),
         "fleet": N_("borrowed from %(pool)s products across the fleet (too few price changes of its own)")}


def _elasticity_sentence(w: ReasonWriter, e: Elasticity) -> None:
    assert e.estimate is not None and e.low is not None and e.high is not None
    where = rs.phrase(WHERE[e.source], pool=rs.count(e.pool_size)) if e.source in WHERE else \
        rs.phrase("%(source)s", source=rs.text(e.source))
    w.say(N_("Its price elasticity is %(estimate)s (80%% range %(low)s to %(high)s), %(where)s."),
          estimate=w.number("elasticity", e.estimate), low=w.number("el_low", e.low),
          high=w.number("el_high", e.high), where=rs.sub(where))


def _effect_sentence(w: ReasonWriter, p: Position, new: int, eff: Effect) -> None:
    u = eff.units
    args = {"price": w.money("price", p.price), "new": w.money("new_price", new), "days": rs.count(HORIZON_DAYS),
            "units": w.count("d_units", u.expected), "units_low": w.count("d_units_low", u.low),
            "units_high": w.count("d_units_high", u.high), "revenue": w.money("d_revenue", eff.revenue.expected)}
    lower = new < p.price
    if eff.profit is not None:
        args.update(profit=w.money("d_profit", eff.profit.expected), profit_low=w.money("d_profit_low", eff.profit.low),
                    profit_high=w.money("d_profit_high", eff.profit.high))
        w.say(N_("Lowering the price from %(price)s to %(new)s should change units sold over %(days)s days by about "
                 "%(units)s (%(units_low)s to %(units_high)s) and revenue by %(revenue)s, and profit by %(profit)s "
                 "(%(profit_low)s to %(profit_high)s).") if lower else
              N_("Raising the price from %(price)s to %(new)s should change units sold over %(days)s days by about "
                 "%(units)s (%(units_low)s to %(units_high)s) and revenue by %(revenue)s, and profit by %(profit)s "
                 "(%(profit_low)s to %(profit_high)s)."), **args)
    else:
        w.say(N_("Lowering the price from %(price)s to %(new)s should change units sold over %(days)s days by about "
                 "%(units)s (%(units_low)s to %(units_high)s) and revenue by %(revenue)s.") if lower else
              N_("Raising the price from %(price)s to %(new)s should change units sold over %(days)s days by about "
                 "%(units)s (%(units_low)s to %(units_high)s) and revenue by %(revenue)s."), **args)
    m0, m1 = p.margin, p.margin_at(new)
    if m0 is not None and m1 is not None:
        w.say(N_("Margin goes from %(margin)s to %(new_margin)s."), margin=w.percent("margin", m0),
              new_margin=w.percent("new_margin", m1))


def _stop_phrase(w: ReasonWriter, win: Window, rails: GuardRails, low: bool) -> rs.Phrase:
    """Why the rails stop a price going lower (``low``) or higher, as a phrase."""
    step = w.percent("max_step", rails.max_step)
    if not low:
        return rs.phrase(N_("at most %(step)s higher per step"), step=step)
    if win.low_kind == "cost":
        return rs.phrase(N_("never below cost"))
    if win.low_kind == "margin":
        return rs.phrase(N_("keeps at least a %(margin)s margin"), margin=w.percent("min_margin", rails.min_margin))
    return rs.phrase(N_("at most %(step)s lower per step"), step=step)


def _rails_sentence(w: ReasonWriter, p: Position, new: int, rails: GuardRails) -> None:
    win = window(p.price, p.shelf_cost, rails)
    if new < p.price and new - win.low < max(10, p.price // 100):
        w.say(N_("The guard rails stop it near %(price)s: %(why)s."), price=w.money("rail_low", win.low),
              why=rs.sub(_stop_phrase(w, win, rails, True)))
    elif new > p.price and win.high - new < max(10, p.price // 100):
        w.say(N_("The guard rails stop it near %(price)s: %(why)s."), price=w.money("rail_high", win.high),
              why=rs.sub(_stop_phrase(w, win, rails, False)))


def advise(report: PricingReport, p: Position, e: Elasticity) -> ProductAdvice:
    rails, w = report.rails, _writer(report)
    _common_facts(w, p, e, rails)
    _situation(w, p)

    def done(kind: str, price: int | None = None, effect: Effect | None = None) -> ProductAdvice:
        if p.cost_assumed and kind in ACTIONABLE:
            w.say(N_("Its cost is assumed (a default margin), so take the profit figures as rough."))
        text, bad = w.finish()
        return ProductAdvice(p, e, kind, price, effect, text, bad, w.phrases, w.fact_list())

    if p.stock == "near stock-out":
        w.say(N_("Keep the price: no markdown for what is about to run out; reorder first."))
        return done("hold")
    if p.cost is None:
        w.say(N_("No price suggestion: the hub has no cost for it yet (costs come with the tills' sales or an "
                 "import's cost column)."))
        return done("none")
    if not e.told or e.estimate is None or e.se is None:
        w.say(N_("No price suggestion: its price elasticity cannot be told (%(why)s)."),
              why=rs.sub(e.why) if e.why else rs.text(e.reason))
        return done("none")
    _elasticity_sentence(w, e)
    daily = p.daily_units
    if daily <= 0:
        w.say(N_("No price suggestion: nothing sold in the last %(days)s days to predict from."),
              days=rs.count(TREND_DAYS))
        return done("none")
    options = allowed_prices(p.price, p.shelf_cost, rails, report.currency)
    clearing = p.stock in ("slow mover", "overstock")
    if clearing:
        options = [c for c in options if c < p.price]
    scored = [(expected_effect(daily, p.price, c, p.cost, e.estimate, e.se, net_ratio=p.net_ratio,
                               dispersion=e.dispersion), c)
              for c in options]
    scored = [(eff, c) for eff, c in scored if eff.profit is not None]
    if not scored:
        win = window(p.price, p.shelf_cost, rails)
        w.say(N_("No price suggestion: the guard rails leave no other price (%(low)s; %(high)s)."),
              low=rs.sub(_stop_phrase(w, win, rails, True)), high=rs.sub(_stop_phrase(w, win, rails, False)))
        return done("keep")
    best_eff, best = max(scored, key=lambda s: (s[0].profit.expected if s[0].profit else 0.0, -abs(s[1] - p.price)))
    assert best_eff.profit is not None
    if clearing:
        if best_eff.profit.expected <= 0:
            best_eff, best = max(scored, key=lambda s: s[1])  # the smallest markdown
            _effect_sentence(w, p, best, best_eff)
            w.say(N_("Every markdown the rails allow costs some profit: this is the smallest, to move the stock."))
        else:
            _effect_sentence(w, p, best, best_eff)
        _rails_sentence(w, p, best, rails)
        return done("markdown", best, best_eff)
    profit = best_eff.profit
    assert profit is not None
    if profit.low <= 0 or profit.expected <= 0:
        w.say(N_("Keep the price of %(price)s: no price inside the guard rails raises the expected profit with "
                 "confidence."), price=w.money("price", p.price))
        return done("keep")
    _effect_sentence(w, p, best, best_eff)
    _rails_sentence(w, p, best, rails)
    return done("increase" if best > p.price else "decrease", best, best_eff)


def _offer_advice(report: PricingReport, offer: Offer, names: dict[str, str]) -> OfferAdvice:
    w = _writer(report)
    w.count("horizon_days", HORIZON_DAYS)
    w.percent("min_margin", report.rails.min_margin)
    eff = offer.effect
    if offer.kind == "multibuy":
        sku = offer.skus[0]
        w.say(N_("%(share)s of its sales lines buy 2 or more. Offer %(qty)s for %(offer)s instead of %(regular)s."),
              share=w.percent("share", offer.evidence["share_multiples"]), qty=w.count("qty", offer.quantity),
              offer=w.money("offer", offer.offer_price), regular=w.money("regular", offer.regular_price))
        label = [names.get(sku, sku)]
    else:
        a, b = offer.skus
        w.say(N_("Bought together in %(baskets)s baskets over the last 8 weeks, %(lift)s times as often as by chance. "
                 "Offer both for %(offer)s instead of %(regular)s."),
              baskets=w.count("baskets", offer.evidence["baskets"]), lift=w.number("lift", offer.evidence["lift"]),
              offer=w.money("offer", offer.offer_price), regular=w.money("regular", offer.regular_price))
        w.count("weeks", 8)
        label = [names.get(a, a), names.get(b, b)]
    w.count("two", 2)
    args = {"days": rs.count(HORIZON_DAYS), "units": w.count("d_units", eff.units.expected),
            "revenue": w.money("d_revenue", eff.revenue.expected)}
    if eff.profit is not None:
        w.say(N_("Expected over %(days)s days: units covered change by %(units)s, revenue by %(revenue)s, profit by "
                 "%(profit)s (%(profit_low)s to %(profit_high)s). Once approved, the tills apply it from the time "
                 "you choose."), profit=w.money("d_profit", eff.profit.expected),
              profit_low=w.money("d_profit_low", eff.profit.low), profit_high=w.money("d_profit_high", eff.profit.high),
              **args)
    else:
        w.say(N_("Expected over %(days)s days: units covered change by %(units)s, revenue by %(revenue)s. Once "
                 "approved, the tills apply it from the time you choose."), **args)
    reason, bad = w.finish()
    return OfferAdvice(offer, label, reason, bad, w.phrases, w.fact_list())


# -- the store -----------------------------------------------------------------------------------

def _costs_and_ratios(engine: Engine, data: StoreData, as_of: date) -> tuple[dict[str, Cost], dict[str, float]]:
    scope = StoreScope.everything()
    with engine.connect() as conn:
        costs = {s: Cost(c.unit_cost, c.assumed) for s, c in current_costs(conn, scope, data.store.store_id).items()}
        margins = product_margins(conn, scope, data.store.store_id, data.store.timezone, as_of, days=56)
    ratios = {m.sku: m.net_price / m.price for m in margins
              if m.price and m.net_price and 0.3 <= m.net_price / m.price <= 1.0}
    return costs, ratios


def _fleet_estimates(engine: Engine, store_id: str, source: str) -> list[tuple[str, OwnEstimate]]:
    """Every other store's own estimates, by category (their sales' observations, fitted here)."""
    out: list[tuple[str, OwnEstimate]] = []
    for other in store_ids(engine):
        if other == store_id:
            continue
        try:
            data = load_store_data(engine, other)
        except LookupError:
            continue
        if data.lines.empty:
            continue
        cats = dict(zip(data.lines["sku"].astype(str), data.lines["category"].astype(str), strict=True))
        out += own_estimates(observations(data.lines, source), cats)
    return out


def pricing_report(engine: Engine, store_id: str, now: datetime | None = None, data: StoreData | None = None,
                   rails: GuardRails | None = None, source: str = "shelf") -> PricingReport:
    """Every product of the store with its position, elasticity and suggestion, and the offers."""
    data = data or load_store_data(engine, store_id, now=now)
    rails = rails or load_rails(engine, store_id)
    info = data.store
    report = PricingReport(store_id, info.name, info.currency, info.timezone, None, rails, [], [])
    if data.lines.empty:
        return report
    as_of = data.as_of
    report.as_of = as_of
    costs, ratios = _costs_and_ratios(engine, data, as_of)
    lines = data.lines[data.lines["local"] < pd.Timestamp(as_of)]
    pos = positions(lines, as_of, costs, store_stock(engine, store_id), info.settings, ratios)
    cats = {p.sku: p.category for p in pos}
    obs = observations(lines, source)
    el = estimate_elasticities(obs, cats)
    if any(e.source == "none" or e.source.endswith("store") for e in el.values()):
        # some product has no prior in its own category: borrow from the other stores of the fleet
        el = estimate_elasticities(obs, cats, fleet_pools(_fleet_estimates(engine, store_id, source)))
    decided = ch.recent_decisions(engine, store_id, (now or datetime.now(UTC)) - timedelta(days=QUIET_DAYS))
    for p in pos:
        e = el[p.sku]
        recent = decided.get(p.sku)
        if recent is not None:
            report.products.append(ProductAdvice(p, e, "pending" if recent["status"] in ("approved", "sent")
                                                 else "rejected", None, None,
                                                 ch.describe(recent, info.currency, report.timezone),
                                                 [], [ch.describe_phrase(recent)]))
            continue
        report.products.append(advise(report, p, e))
    by_sku = {p.sku: p for p in pos}
    names = {p.sku: p.name for p in pos}
    for offer in multibuys(lines, as_of, by_sku, el, rails, info.currency) + \
            bundles(lines, as_of, by_sku, el, rails, info.currency):
        if any(s in decided for s in offer.skus):
            continue
        report.offers.append(_offer_advice(report, offer, names))
    log.info("pricing %s as of %s: %d products, %d suggestions, %d offers", store_id, as_of, len(report.products),
             len(report.suggestions()), len(report.offers))
    return report
