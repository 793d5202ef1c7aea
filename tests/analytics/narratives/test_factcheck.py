"""The fact check: every number in a generated text must come from the facts, in the forms a writer
uses (currency symbols, thousands separators, rounding, k, %, times and dates); sentences with a
made-up number are dropped (or flagged) and the number reported."""

from __future__ import annotations

from decimal import Decimal

import pytest

from analytics.narratives.factcheck import check_sections, check_text, extract_numbers, split_sentences
from analytics.narratives.facts import Facts, _Builder


def facts(currency: str = "DOP") -> Facts:
    b = _Builder(currency)
    b.count("period_days", "Days in the period", 1)
    b.money("revenue", "Revenue", 123456)  # RD$1,234.56
    b.count("sales", "Sales", 42)
    b.money("avg_basket", "Average sale", 2939)  # RD$29.39
    b.money("revenue_prev", "Revenue the day before", 1_875_000)  # RD$18,750.00
    b.percent("revenue_vs_prev_pct", "Revenue change", -12.3)
    b.percent("share", "Champions' share", 21.8, signed=False)
    b.number("sales_usual", "Sales on a usual Friday", 9.2)
    b.hour("busy_hour_1", "Busiest hour", 18)
    b.text("top_product_1_name", "Top product 1", "Rice 5 lb")
    b.text("reason_1", "Reason 1", "total RD$5,000.00 is 3x the usual at 03:00")
    b.day("forecast_from", "Forecast from", "2026-10-31")
    b.money("mover_down_1_change", "Change", -227500)
    return Facts("s-1", "Colmado 27", currency, "America/Santo_Domingo", "daily", "2026-10-30", "2026-10-30",
                 "Friday 30 October 2026", "v1", b.items)


SUPPORTED = [
    "Revenue was RD$1,234.56 from 42 sales.",
    "Revenue was RD$1,235 today.",  # rounded to whole units
    "Revenue was about RD$1.2k.",  # k with one decimal
    "Revenue was DOP 1,234.56.",  # the currency code
    "Revenue was 1,234.56 pesos.",  # no symbol at all
    "Revenue was about 1,200.",  # a rounded figure keeps two significant digits
    "Yesterday brought RD$18.75k and RD$19k.",
    "The day before brought RD$18,750.",
    "Revenue fell 12.3% (down 12%).",  # the sign is the words' job
    "Revenue fell by 12 percent.",
    "Champions bring 22% of revenue.",
    "Usually 9 sales; today 42.",
    "RICE fell by RD$2,275.",  # a negative change written without its sign
    "The busiest hour was 18:00-19:00.",  # the end of the busiest hour slot is fine
    "Busiest around 6 pm.",
    "Rice 5 lb sold best.",  # a number inside a product name
    "The detector saw 3x the usual RD$5,000.00 at 03:00.",  # figures inside the facts' own words
    "It happened at 03:00 again.",
    "On Friday 30 October 2026 the shop was busy.",
    "On 30 October trade was good; on October 30th too; and on 2026-10-30.",
    "Expect trade on the 31st.",
    "Expect trade on 31/10.",
    "Colmado 27 had a good day.",  # a number in the store's name
    "Average sale RD$29.39, about RD$29.",
    "Nothing stands out.",
]

UNSUPPORTED = [
    ("Sales doubled to RD$99,999.", ["RD$99,999"]),
    ("Revenue was RD$1,250.", ["RD$1,250"]),  # rounding does not reach 1,250
    ("Revenue was RD$1.3k.", ["RD$1.3k"]),
    ("Revenue rose 100%.", ["100%"]),
    ("Revenue rose 13.5%.", ["13.5%"]),
    ("We sold 43 items.", ["43"]),
    ("The busiest hour was 14:00.", ["14:00"]),
    ("Busiest at 3 pm.", ["3 pm"]),
    ("On 12 November 2026 the shop was busy.", ["12 November 2026"]),
    ("Trade on 2026-11-02.", ["2026-11-02"]),
    ("Trade on the 5th.", ["the 5th"]),
    ("In 2025 sales were lower.", ["2025"]),
    ("Revenue was 5,555 pesos.", ["5,555"]),
    ("RD$1,234.56 and RD$777 came in.", ["RD$777"]),  # one bad number sinks the sentence
    ("Champions bring 30% of revenue.", ["30%"]),
    ("A 1.5 million day.", ["1.5 million"]),
]


@pytest.mark.parametrize("sentence", SUPPORTED)
def test_numbers_from_the_facts_in_a_writers_forms_are_kept(sentence: str) -> None:
    result = check_text(sentence, facts())
    assert result.unsupported == [], (sentence, result.unsupported)
    assert result.text == sentence


@pytest.mark.parametrize(("sentence", "bad"), UNSUPPORTED)
def test_made_up_numbers_drop_their_sentence_and_are_reported(sentence: str, bad: list[str]) -> None:
    result = check_text(sentence, facts())
    assert result.unsupported == bad
    assert result.text == ""
    assert [d.sentence for d in result.dropped] == [sentence]


def test_only_the_sentence_with_the_invented_number_goes() -> None:
    text = ("Revenue was RD$1,234.56 from 42 sales. Sales doubled to RD$99,999 thanks to rice. "
            "The busiest hour was 18:00. Revenue fell 12% vs. the day before.")
    result = check_text(text, facts())
    assert result.text == ("Revenue was RD$1,234.56 from 42 sales. The busiest hour was 18:00. "
                           "Revenue fell 12% vs. the day before.")
    assert result.unsupported == ["RD$99,999"] and result.checked == 5


def test_flag_mode_keeps_the_sentence_with_a_mark() -> None:
    result = check_text("Sales doubled to RD$99,999.", facts(), mode="flag")
    assert result.text == "Sales doubled to RD$99,999. [unverified: RD$99,999]"
    assert result.unsupported == ["RD$99,999"]
    with pytest.raises(ValueError):
        check_text("x", facts(), mode="shout")


def test_sections_are_checked_item_by_item_and_emptied_items_removed() -> None:
    checked, result = check_sections({"title": "Daily report, Friday 30 October 2026",
                                      "what_happened": ["Revenue was RD$1,234.56.", "Profit was RD$400."],
                                      "risks": ["14 refunds."]}, facts())
    assert checked == {"title": "Daily report, Friday 30 October 2026",
                       "what_happened": ["Revenue was RD$1,234.56."], "risks": []}
    assert result.unsupported == ["RD$400", "14"]


def test_extraction_reads_kinds_values_and_precision() -> None:
    nums = {n.raw: n for n in extract_numbers("RD$1,234.56, 1.2k, 12.5%, 3 million, 14:30, 2 pm, 2026-10-30, "
                                              "30 October, the 5th, 1,200 and 7", "DOP")}
    assert nums["RD$1,234.56"].kind == "money" and nums["RD$1,234.56"].value == Decimal("1234.56")
    assert nums["RD$1,234.56"].precision == Decimal("0.01")
    assert nums["1.2k"].value == Decimal("1200") and nums["1.2k"].precision == Decimal("100")
    assert nums["12.5%"].kind == "percent" and nums["12.5%"].value == Decimal("12.5")
    assert nums["3 million"].value == Decimal("3000000")
    assert nums["14:30"].kind == "time" and nums["14:30"].value == 14 and nums["14:30"].minute == 30
    assert nums["2 pm"].kind == "time" and nums["2 pm"].value == 14
    assert nums["2026-10-30"].kind == "date" and nums["2026-10-30"].month == 10
    assert nums["30 October"].kind == "date" and nums["30 October"].value == 30
    assert nums["the 5th"].kind == "day"
    assert nums["1,200"].precision == Decimal("100") and nums["7"].precision == Decimal("1")


def test_codes_and_words_are_not_figures() -> None:
    assert [n.raw for n in extract_numbers("Order SKU A5 and RICE-5LB; sales may rise.", "DOP")] == []
    # "may" the verb is not the month May; "12 m" without a currency is not 12 million
    assert [(n.raw, n.kind) for n in extract_numbers("12 may rise over 12 m", "DOP")] == [("12", "plain"),
                                                                                       ("12", "plain")]


def test_sentences_split_on_ends_but_not_on_abbreviations_or_decimals() -> None:
    assert split_sentences("Up vs. last week. Sold RD$1,234.56 today! Best: rice.") == [
        "Up vs. last week.", "Sold RD$1,234.56 today!", "Best: rice."]


def test_other_currencies_use_their_symbols() -> None:
    f = facts("EUR")
    assert check_text("Revenue was €1,234.56 or EUR 1,235.", f).unsupported == []
    assert check_text("Revenue was €2,000.", f).unsupported == ["€2,000"]
