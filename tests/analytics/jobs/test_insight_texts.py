"""The texts of one insights panel agree with each other and read right (issue 26): "Reorder now: 10
products" beside "Reorder 35 products now" (the morning item counted the ten it listed), "Hi Colmado"
(a business greeted by its first word), "1 lines".  Through the demo device: its history, its
stock on hand in its telemetry, the hub's jobs, the morning document with its computed narrative and
collection reminders."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from analytics.jobs import results as rs
from analytics.jobs.insights import REORDER_ITEMS, build_insights
from analytics.jobs.runner import run_store
from edge.demo.seed import DEMO_CUSTOMERS
from tests.analytics.demo_device import STORE, demo_device, send_telemetry

NOW = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # Monday 10:00 in Santo Domingo
ONE_WITH_PLURAL = re.compile(r"(?<![\d,.])1 (lines|products|sales|customers|items|units|refunds|times|prices|"
                             r"discounts|people)\b")


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("insight-texts")
    store, hub = demo_device(folder, NOW)
    send_telemetry(store, hub, folder, NOW)  # stock on hand: the reorder advice knows what to order now
    assert run_store("", STORE, engine=hub, now=NOW).status == "succeeded"
    doc = build_insights(hub, STORE, now=NOW)
    assert doc is not None
    doc["counts"] = rs.advice_counts(hub, STORE, [STORE])
    return doc


def test_the_reorder_count_is_the_same_in_the_item_and_the_narrative(panel: dict[str, Any]) -> None:
    n = panel["counts"]["order_now"]
    assert n > REORDER_ITEMS  # more than the item lists by name: the case that disagreed
    item = next(it["text"] for it in panel["items"] if it["title"] == "Reorder now")
    assert item.startswith(f"{n} products at or below the reorder point, the most urgent first: ")
    assert f"Reorder {n} products now" in panel["narrative"]["text"]


def test_counts_agree_with_their_nouns(panel: dict[str, Any]) -> None:
    texts = [panel["headline"], panel["narrative"]["text"], *(it["text"] for it in panel["items"])]
    for text in texts:
        assert not ONE_WITH_PLURAL.search(text), text


def test_businesses_are_greeted_by_their_whole_name_and_people_by_their_first(panel: dict[str, Any]) -> None:
    reminders = {r["customer_id"]: r for r in panel["collections"]}
    assert len(reminders) >= 6
    businesses = {"cust-01", "cust-03", "cust-05", "cust-07"}  # colmado, cafetería, taller, banca
    for cid, name, _phone, _limit in DEMO_CUSTOMERS:
        if cid not in reminders:
            continue
        greeting = name if cid in businesses else name.split()[0]
        assert reminders[cid]["message"].startswith(f"Hi {greeting}, "), reminders[cid]["message"]
