"""Suggestions per product, from positions and elasticities built in the test: a slow mover's markdown
stays inside the rails (never below cost, one step, the shop's endings) with a fact-checked reason; a
product about to run out is held; one whose elasticity cannot be told gets none and says why; bundles
come from what is bought together."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from analytics.pricing.baskets import bundles
from analytics.pricing.elasticity import Elasticity
from analytics.pricing.position import Position
from analytics.pricing.rails import GuardRails, ending_ok
from analytics.pricing.suggest import PricingReport, advise

AS_OF = date(2026, 11, 21)


def _report(rails: GuardRails) -> PricingReport:
    return PricingReport("s-001", "Colmado Ana", "DOP", "America/Santo_Domingo", AS_OF, rails, [], [])


def _pos(sku: str, price: int, cost: int | None, stock: str, units: int = 28, on_hand: int | None = 50) -> Position:
    return Position(sku, sku.title(), "snacks", price, cost, False, units, units, "steady", 0.0, on_hand,
                    None if on_hand is None else round(on_hand / (units / 28), 1), stock, None, AS_OF - timedelta(1))


def _el(sku: str, e: float | None, se: float | None, told: bool = True, reason: str = "", cells: int = 12,
        prices: int = 3) -> Elasticity:
    return Elasticity(sku, e, se, "own" if e is not None else "none", 0, cells, prices, told, reason)


def test_a_slow_movers_markdown_keeps_every_rail_and_its_reason_checks_out() -> None:
    rails = GuardRails(min_margin=0.2, max_step=0.15, endings=(".00", ".50"))
    a = advise(_report(rails), _pos("CHIPS", 10000, 7500, "overstock", units=10, on_hand=400), _el("CHIPS", -2.5, 0.2))
    assert a.kind == "markdown" and a.suggested_price is not None
    assert a.suggested_price >= 9375  # a 20 % margin on a cost of 75.00 needs 93.75: the rails stop it there
    assert a.suggested_price >= 10000 * (1 - 0.15) and a.suggested_price < 10000
    assert ending_ok(a.suggested_price, rails.endings, "DOP")
    assert a.effect is not None and a.effect.units.expected > 0
    assert "Overstock: 400 on hand" in a.reason and "Lowering the price from RD$100.00" in a.reason
    assert a.unsupported == []


def test_a_product_about_to_run_out_is_held() -> None:
    a = advise(_report(GuardRails()), _pos("RICE", 5000, 3000, "near stock-out", on_hand=2), _el("RICE", -1.2, 0.1))
    assert a.kind == "hold" and a.suggested_price is None and "Near stock-out: 2 on hand" in a.reason


def test_no_suggestion_without_an_elasticity_and_the_page_says_why() -> None:
    why = ("too few price changes to tell: 1 price(s) in 10 week-price observation(s) (it needs 2 prices and 6 "
           "observations)")
    a = advise(_report(GuardRails()), _pos("SOAP", 3000, 1500, "normal"),
               _el("SOAP", None, None, False, why, cells=10, prices=1))
    assert a.kind == "none" and a.suggested_price is None and a.effect is None
    assert why in a.reason and a.unsupported == []  # its own figures pass the fact check
    # a reason whose figures are not the product's is marked by the fact check
    wrong = advise(_report(GuardRails()), _pos("SOAP", 3000, 1500, "normal"),
                   _el("SOAP", None, None, False, why, cells=12, prices=3))
    assert wrong.unsupported == ["1"] and "[unverified: 1]" in wrong.reason


def test_bundles_come_from_what_is_bought_together() -> None:
    rows = []
    for i in range(12):  # coffee and sugar together 12 times, bread alone 12 times
        rows += [(f"t{i}", "COFFEE", 20000), (f"t{i}", "SUGAR", 5000), (f"b{i}", "BREAD", 4000)]
    lines = pd.DataFrame([{"tx_id": t, "sku": s, "qty": 1, "line_total": p, "status": "completed",
                           "local": pd.Timestamp(AS_OF - timedelta(days=3))} for t, s, p in rows])
    pos = {"COFFEE": _pos("COFFEE", 20000, 12000, "normal"), "SUGAR": _pos("SUGAR", 5000, 3000, "normal"),
           "BREAD": _pos("BREAD", 4000, 2000, "normal")}
    rails = GuardRails(min_margin=0.2, max_step=0.1, endings=(".00",))
    el = {s: _el(s, -4.0, 0.2) for s in pos}  # price-sensitive shoppers: a cheaper pair pays for itself
    offers = bundles(lines, AS_OF, pos, el, rails, "DOP")
    assert [o.skus for o in offers] == [("COFFEE", "SUGAR")]
    o = offers[0]
    assert o.regular_price == 25000 and 25000 * 0.9 <= o.offer_price < 25000 and o.offer_price % 100 == 0
    assert o.effect.profit is not None and o.effect.profit.expected > 0
    # shoppers who barely react to the price: the same offer would cost profit, so it is not suggested
    assert bundles(lines, AS_OF, pos, {s: _el(s, -1.2, 0.2) for s in pos}, rails, "DOP") == []
