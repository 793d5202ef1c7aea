"""Own-price elasticity: recovered from synthetic sales with a known elasticity, pooled across the
category for a product with too few price changes, and refused (with the reason) when it cannot be told."""

from __future__ import annotations

import numpy as np

from analytics.pricing.elasticity import estimate_elasticities, observations
from tests.analytics.pricing.synthetic import lines_frame, price_path, weekly_units


def test_a_known_elasticity_is_recovered_with_an_interval_that_holds_it() -> None:
    rng = np.random.default_rng(7)
    prices = price_path([1000, 900, 1100, 950, 1050, 1000], 4)
    units = weekly_units(prices, -1.8, 60, rng)
    el = estimate_elasticities(observations(lines_frame({"RICE": ("grocery", prices, units)})), {"RICE": "grocery"})
    e = el["RICE"]
    assert e.told and e.source == "own"
    assert e.estimate is not None and abs(e.estimate + 1.8) < 0.35
    assert e.low is not None and e.high is not None and e.low < -1.8 < e.high


def test_a_product_without_price_changes_borrows_its_category_and_says_so() -> None:
    rng = np.random.default_rng(3)
    products = {}
    for i, true in enumerate((-1.2, -1.5, -1.8, -1.4)):
        prices = price_path([500 + 10 * i, 450 + 10 * i, 550 + 10 * i, 500 + 10 * i], 5)
        products[f"SNACK-{i}"] = ("snacks", prices, weekly_units(prices, true, 80, rng))
    flat = [600] * 20
    products["SNACK-NEW"] = ("snacks", flat, weekly_units(flat, -1.5, 80, rng))
    cats = {sku: c for sku, (c, _, _) in products.items()}
    el = estimate_elasticities(observations(lines_frame(products)), cats)
    new = el["SNACK-NEW"]
    assert new.source == "category" and new.pool_size == 4
    assert new.estimate is not None and -1.9 < new.estimate < -1.1
    # pooled products are shrunk towards the category, not replaced by it
    assert {el[f"SNACK-{i}"].source for i in range(4)} == {"own+category"}


def test_an_elasticity_that_cannot_be_told_gives_the_reason() -> None:
    flat = [300] * 10
    el = estimate_elasticities(observations(lines_frame({"SOAP": ("household", flat, [20] * 10)})),
                               {"SOAP": "household"})
    soap = el["SOAP"]
    assert not soap.told and soap.estimate is None
    assert "too few price changes" in soap.reason and "1 price in 10 week-price observations" in soap.reason


def test_sales_that_do_not_follow_the_price_are_not_told() -> None:
    rng = np.random.default_rng(11)
    prices = price_path([1000, 1200, 900, 1100], 3)
    units = [int(u) for u in rng.poisson(40, len(prices))]  # demand ignores the price
    el = estimate_elasticities(observations(lines_frame({"GUM": ("snacks", prices, units)})), {"GUM": "snacks"})
    assert not el["GUM"].told and el["GUM"].reason


def test_a_new_store_borrows_its_category_from_the_fleet() -> None:
    from analytics.pricing.elasticity import fleet_pools, own_estimates

    rng = np.random.default_rng(5)
    others = {}
    for i, true in enumerate((-1.3, -1.6, -1.9)):  # another store changed the prices of its snacks
        prices = price_path([400 + 10 * i, 360 + 10 * i, 440 + 10 * i, 400 + 10 * i], 5)
        others[f"OTHER-{i}"] = ("snacks", prices, weekly_units(prices, true, 90, rng))
    fleet = fleet_pools(own_estimates(observations(lines_frame(others)), dict.fromkeys(others, "snacks")))
    flat = [500] * 12
    mine = {"SNACK-A": ("snacks", flat, [30] * 12)}
    alone = estimate_elasticities(observations(lines_frame(mine)), {"SNACK-A": "snacks"})
    assert alone["SNACK-A"].source == "none" and "fleet" in alone["SNACK-A"].reason
    pooled = estimate_elasticities(observations(lines_frame(mine)), {"SNACK-A": "snacks"}, fleet)["SNACK-A"]
    assert pooled.source == "fleet-category" and pooled.pool_size == 3
    assert pooled.estimate is not None and -2.0 < pooled.estimate < -1.2
