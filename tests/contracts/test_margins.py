"""The shared margin rule's offer arithmetic (contracts.margins): parts in whole minor units that add up."""

from __future__ import annotations

from contracts.margins import offer_parts, split_offer


def test_an_offers_saving_is_split_by_shelf_value_and_adds_up_exactly() -> None:
    assert split_offer(2000, [5000, 8000]) == [769, 1231]  # a bundle: bread 50.00 + milk 80.00
    assert split_offer(1000, [3500, 3500, 3500]) == [334, 333, 333]  # the remainder to the earlier line
    assert split_offer(-833, [-17500]) == [-833]  # a refund's share, negative
    assert sum(split_offer(7, [1, 1, 1])) == 7


def test_offer_parts_ignore_an_offer_whose_lines_do_not_add_up() -> None:
    doc = {"lines": [{"line_total": 10500}, {"line_total": 2000}], "subtotal": 12500, "discount": 500,
           "promotions": [{"discount": 500, "lines": [{"line": 1, "qty": 3, "discount": 400}]}]}
    assert offer_parts(doc) == [0, 0]  # 400 of 500 named: the saving stays with the pro-rata rest
    doc["promotions"][0]["lines"][0]["discount"] = 500
    assert offer_parts(doc) == [500, 0]
