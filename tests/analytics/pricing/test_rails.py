"""Guard rails: a suggested price is never below cost, keeps the minimum margin, moves at most the
largest step and ends as the shop's prices do."""

from __future__ import annotations

import pytest

from analytics.pricing.rails import GuardRails, RailsError, allowed_prices, check_price, ending_ok, window


def test_endings_read_on_minor_units() -> None:
    assert ending_ok(1200, (".00",), "GBP") and not ending_ok(1250, (".00",), "GBP")
    assert ending_ok(1250, (".50",), "GBP") and not ending_ok(1255, (".50",), "GBP")
    assert ending_ok(1295, ("5s",), "GBP") and ending_ok(125, ("5s",), "GBP") and not ending_ok(1290, ("5s",), "GBP")
    assert ending_ok(95, ("5s",), "JPY") and not ending_ok(50, (".50",), "JPY")  # no half units without minor units
    assert ending_ok(1234, (), "GBP")


def test_allowed_prices_never_go_below_cost_or_the_margin_or_past_the_step() -> None:
    rails = GuardRails(min_margin=0.2, max_step=0.1, endings=(".00", ".50"))
    prices = allowed_prices(10000, 8500, rails, "DOP")  # cost 85.00: a 20 % margin needs 106.25
    assert prices and min(prices) >= 10625 and max(prices) <= 11000
    assert all(p % 50 == 0 for p in prices)
    assert window(10000, 8500, rails).low_reason == "keeps at least a 20% margin"
    # with no cost the step alone bounds it
    free = allowed_prices(10000, None, rails, "DOP")
    assert min(free) == 9000 and max(free) == 11000 and 10000 not in free


def test_a_product_sold_below_cost_can_only_go_up() -> None:
    rails = GuardRails(min_margin=0.0, max_step=0.1, endings=("5s",))
    prices = allowed_prices(1000, 1050, rails, "GBP")
    assert prices and min(prices) >= 1050 and all(p % 10 == 5 for p in prices)
    assert check_price(995, 1000, 1050, rails, "GBP") == "below cost"


def test_an_edited_price_is_checked_against_every_rail() -> None:
    rails = GuardRails(min_margin=0.1, max_step=0.05, endings=(".00",))
    assert check_price(10250, 10000, 5000, rails, "GBP") == "not one of the shop's price endings (.00)"
    assert check_price(12000, 10000, 5000, rails, "GBP") == "at most 5% higher per step"
    assert check_price(10500, 10000, 5000, rails, "GBP") is None
    assert check_price(0, 10000, None, rails, "GBP") == "a price must be above zero"


@pytest.mark.parametrize("kwargs, field", [({"min_margin": 1.2}, "min_margin"), ({"max_step": 0.9}, "max_step"),
                                           ({"endings": (".99",)}, "endings")])
def test_nonsense_rails_are_refused_naming_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(RailsError, match=field):
        GuardRails(**kwargs)
