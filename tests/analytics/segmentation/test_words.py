"""Segment wording in the reader's language: the names the segmentation stores (RFM segments, clusters named
by ``clusters._name``, basket segments named by ``baskets._name``) read back in English exactly as stored and
in Spanish and French as whole phrases; rules, actions, bands, weekdays and payment mixes likewise."""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd
import pytest

from analytics.segmentation import baskets, clusters, words
from analytics.segmentation.rfm import SEGMENT_ACTIONS, SEGMENTS
from i18n import use_language

ZONE = "America/Santo_Domingo"


def cluster_names() -> list[str]:
    """Every name ``clusters._name`` can give, from a part whose medians sit low, in the middle or high."""
    whole = pd.DataFrame({c: [float(v) for v in range(101)] for c in clusters.FEATURES})
    whole["frequency"] = [float(v % 10) for v in range(101)]
    levels = {"low": 0.0, "mid": 50.0, "high": 100.0}
    names = set()
    for values in itertools.product(levels.values(), repeat=len(clusters.FEATURES)):
        part = pd.DataFrame([dict(zip(clusters.FEATURES, values, strict=True))])
        names.add(clusters._name(part, whole))
    return sorted(names)


def basket_names() -> list[tuple[str, dict[str, Any]]]:
    """Every (name, profile) ``baskets._name`` can give: each band, size, weekend lean and category or none."""
    whole = pd.DataFrame({"weekday": list(range(7)) * 10})
    out = []
    for (band, _lo, _hi), median, weekend, cat in itertools.product(
            baskets.TIME_BANDS, (10, 50, 90), (0.9, 0.1), ("", "snacks & drinks")):
        profile = {"weekend_share": weekend, "time_band": band, "median_basket": median,
                   "top_categories": [{"category": cat, "share": 0.9}] if cat else []}
        out.append((baskets._name(profile, whole, (20.0, 80.0), [], {"snacks & drinks": 0.1}), profile))
    return out


def test_english_reads_every_stored_name_as_it_is() -> None:
    with use_language("en", ZONE):
        assert [words.rfm_name(s) for s in SEGMENTS] == list(SEGMENTS)
        names = cluster_names()
        assert len(names) > 50 and [words.cluster_name(n) for n in names] == names
        assert all(words.parse_cluster(n) for n in names if n != "Typical customers")
        for name, profile in basket_names():
            assert words.basket_name(name, profile) == name
            assert words.basket_name(name + " (2)") == name + " (2)"
        assert [words.time_band(b) for b, _lo, _hi in baskets.TIME_BANDS] == [b for b, _lo, _hi in baskets.TIME_BANDS]
        assert words.rfm_rule("Hibernating") == "R 2 and FM 1-2; or R 1 and FM 2"
        assert words.rfm_action("Champions", SEGMENT_ACTIONS["Champions"]) == SEGMENT_ACTIONS["Champions"]
        assert words.weekdays(["Saturday", "Sunday"]) == "Saturday, Sunday"
        assert words.payment_mix({"cash": 0.6, "card": 0.4}) == "cash 60%, card 40%"


def test_the_action_msgids_are_the_stored_actions() -> None:
    assert words.RFM_ACTIONS == SEGMENT_ACTIONS


@pytest.mark.parametrize("language", ["es", "fr"])
def test_every_stored_name_is_worded_in_spanish_and_french(language: str) -> None:
    with use_language(language, ZONE):
        for s in SEGMENTS:
            assert words.rfm_name(s) != s or s == "Champions", s  # "Champions" is French too
            assert words.rfm_action(s, SEGMENT_ACTIONS[s]) != SEGMENT_ACTIONS[s]
            assert words.rfm_rule(s).startswith("R ") and " and " not in words.rfm_rule(s)
        for name in cluster_names():
            shown = words.cluster_name(name)
            assert shown != name and shown[:1].isupper(), name
            assert not any(w in shown for w in ("customers", "spend", "baskets")), shown
        for name, profile in basket_names():
            shown = words.basket_name(name, profile)
            assert shown != name and "baskets" not in shown and "Weekend" not in shown, (name, shown)
            # a shop's category is quoted as it wrote it
            assert ("snacks & drinks" in shown) == bool(profile["top_categories"]), shown
        for band, _lo, _hi in baskets.TIME_BANDS:
            assert words.time_band(band) != band


def test_spanish_and_french_put_the_parts_in_their_own_order() -> None:
    profile = {"time_band": "Evening", "top_categories": [{"category": "snacks", "share": 0.7}]}
    name = "Weekend evening large snacks baskets (2)"
    with use_language("es", ZONE):
        assert words.basket_name(name, profile) == \
            "Cestas grandes del fin de semana al final de la tarde, sobre todo snacks (2)"
        assert words.cluster_name("Recent frequent high-spend customers with broad baskets") == \
            "Clientes recientes, frecuentes y de gasto alto, con cestas variadas"
        assert words.rfm_name("At risk") == "En riesgo"
        assert words.rfm_rule("Hibernating") == "R 2 y FM 1-2; o R 1 y FM 2"
        assert words.weekdays(["Saturday", "Sunday"]) == "sábado, domingo"
        assert words.payment_mix({"cash": 0.6, "mobile_money": 0.4}) == "efectivo 60%, dinero móvil 40%"
        assert words.rfm_mix([{"segment": "Lost", "share": 0.5}]) == "Perdidos 50%"
    with use_language("fr", ZONE):
        assert words.basket_name(name, profile) == "Grands paniers du soir le week-end, surtout snacks (2)"
        assert words.cluster_name("Lapsed one-time customers") == "Clients qui ne viennent plus et d'un seul achat"
        assert words.time_band("Night") == "Nuit"
        assert words.payment_mix({"card": 0.25}) == "carte 25\xa0%"


def test_a_name_of_another_version_is_shown_as_stored() -> None:
    with use_language("es", ZONE):
        assert words.rfm_name("Sleepy giants") == "Sleepy giants"
        assert words.cluster_name("Night owls") == "Night owls"
        assert words.basket_name("Lunch rush baskets") == "Lunch rush baskets"
        # a category the profile does not name as its top one: not this version's name
        assert words.basket_name("Evening small cake baskets", {"time_band": "Evening", "top_categories": [
            {"category": "bread", "share": 0.9}]}) == "Evening small cake baskets"
        assert words.rfm_action("Champions", "call them") == "call them"
        assert words.weekday("Caturday") == "Caturday"


def test_why_there_are_no_churn_scores_reads_in_the_readers_language() -> None:
    short = {"status": "insufficient history", "detail": "needs 250 days of sales, has 120"}
    few = {"status": "too few customers or no churn to learn from", "train_rows": 3, "test_rows": 2}
    with use_language("en", ZONE):
        assert words.churn_status(short) == "not enough history (needs 250 days of sales, has 120)"
    with use_language("es", ZONE):
        assert words.churn_status(short) == "historial insuficiente (se necesitan 250 días de ventas y hay 120)"
        assert words.churn_status(few).startswith("muy pocos clientes")
        assert words.churn_status({"status": "model off", "detail": "by choice"}) == "model off (by choice)"
    with use_language("fr", ZONE):
        assert words.churn_status(short).startswith("historique insuffisant (il faut 250 jours")
