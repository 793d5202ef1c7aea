"""The messages that travel beside the sales follow their contracts: each document comes from its real writer
(the device's status, telemetry and sale-with-its-refund, the hub's resend request and morning insights) and
validates; a broken copy is refused by the other side, and the reason names the field."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from analytics.db import make_engine
from analytics.ingest.parse import Parsed, Rejected, parse
from analytics.ingest.resend import ResendRequest
from analytics.jobs.insights import build_insights
from contracts import ContractError, contract_names, topics, validate
from contracts.validation import INSIGHTS, RESEND, STATUS, TELEMETRY, TX
from edge.checkout.refund import build_refund
from edge.store import Store
from edge.store.errors import ValidationError
from edge.sync import resend, telemetry
from edge.sync.agent import status_payload
from tests.analytics.narratives.support import seed_credit_store
from tests.edge.checkout.helpers import quick_sale

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
PREFIX = "tillsight/v1"


def _telemetry(store: Store, tmp_path: Path) -> dict[str, Any]:
    return telemetry.snapshot(store, "s-001", "till-1", tmp_path, NOW)


@pytest.fixture(scope="module")
def insights_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("hub") / "hub.db"
    engine = make_engine(f"sqlite:///{path}")
    seed_credit_store(engine, f"sqlite:///{path}")
    doc = build_insights(engine, "s-cr", now=NOW)
    engine.dispose()
    assert doc is not None
    return doc


def test_every_message_of_the_topic_table_has_a_contract() -> None:
    assert set(contract_names()) >= {f"tillsight.{name}/1" for name in (
        "tx", "alert", "credit", "telemetry", "status", "reported", "desired", "manifest", "resend", "insights",
        "gallery", "gallery_photo", "resend_answer")} | {"tillsight.tx/2"}
    # the sale leaf names the version written now, and its readers take both
    assert topics.CONTRACT_OF[topics.TX] == TX == "tillsight.tx/2"
    assert topics.contract_for(topics.TX, {"schema": "tillsight.tx/1"}) == "tillsight.tx/1"
    assert topics.contract_for(topics.TX, {"schema": "tillsight.tx/2"}) == "tillsight.tx/2"
    assert topics.contract_for(topics.TX, {"schema": "tillsight.tx/9"}) == "tillsight.tx/2"
    assert topics.contract_for(topics.ALERT, {}) == "tillsight.alert/2"
    assert topics.contract_for(topics.ALERT, {"schema": "tillsight.alert/1"}) == "tillsight.alert/1"


def test_the_devices_status_and_last_will_follow_status_1() -> None:
    for state, reason in (("online", "connected"), ("offline", "connection lost"), ("offline", "shutdown")):
        doc = json.loads(status_payload(state, reason))
        validate(STATUS, doc)
        got = parse(f"{PREFIX}/s-001/till-1/status", json.dumps(doc).encode(), PREFIX)
        assert isinstance(got, Parsed) and got.doc == doc


def test_the_devices_telemetry_follows_telemetry_1_and_the_hub_takes_it(store: Store, tmp_path: Path) -> None:
    store.sales.record(quick_sale(store, "SUGAR-2LB"))
    doc = _telemetry(store, tmp_path)
    validate(TELEMETRY, doc)
    assert doc["backlog"] >= 1 and doc["last_tx_seq"] == 1 and doc["stock"]["items"]
    got = parse(f"{PREFIX}/s-001/till-1/telemetry", json.dumps(doc).encode(), PREFIX)
    assert isinstance(got, Parsed) and got.doc == doc


def test_a_refund_and_its_sale_follow_tx_2(store: Store) -> None:
    sale = store.sales.record(quick_sale(store, "SUGAR-2LB", "RICE-LG-2LB"))
    refund = build_refund(sale, {"SUGAR-2LB": 1}, {}, store.users.get("ana"), store.users.get("maria"), 1800,
                          reason="broken bag")
    recorded = store.sales.record(refund)
    validate(TX, recorded.to_payload())
    assert recorded.to_payload()["events"][0]["detail"] == {"kind": "refund", "of": sale.receipt_no,
                                                           "reason": "broken bag", "by": "maria"}


def test_the_hubs_resend_request_follows_resend_1_and_the_device_takes_it() -> None:
    request = ResendRequest("s-001", "till-1", 4, 9)
    payload = request.payload("2026-11-21T14:00:00Z")
    validate(RESEND, json.loads(payload))
    assert request.topic(PREFIX) == f"{PREFIX}/s-001/till-1/resend"
    assert resend.parse_request(payload) == resend.ResendRequest(4, 9)


def test_the_hubs_insights_follow_insights_1_and_the_device_keeps_them(insights_doc: dict[str, Any],
                                                                       store: Store) -> None:
    validate(INSIGHTS, insights_doc)
    kept = store.insights.save(json.dumps(insights_doc))
    assert kept["headline"] == insights_doc["headline"] and store.insights.latest() == kept


Mutation = Callable[[dict[str, Any]], Any]


@pytest.mark.parametrize("mutate, where", [
    (lambda d: d.update(state="maybe"), "state"),
    (lambda d: d.pop("at"), "at"),
    (lambda d: d.update(at="21/11/2026 14:00"), "at"),
])
def test_a_broken_status_is_dead_lettered_by_the_hub_naming_the_field(mutate: Mutation, where: str) -> None:
    doc = json.loads(status_payload("online", "connected"))
    mutate(doc)
    got = parse(f"{PREFIX}/s-001/till-1/status", json.dumps(doc).encode(), PREFIX)
    assert isinstance(got, Rejected) and STATUS in got.reason and where in got.reason


@pytest.mark.parametrize("mutate, where", [
    (lambda d: d.update(backlog=-1), "backlog"),
    (lambda d: d.update(last_tx_seq="12"), "last_tx_seq"),
    (lambda d: d["stock"]["items"][0].update(on_hand=1.5), "stock.items[0].on_hand"),
])
def test_broken_telemetry_is_dead_lettered_by_the_hub_naming_the_field(store: Store, tmp_path: Path,
                                                                        mutate: Mutation, where: str) -> None:
    doc = copy.deepcopy(_telemetry(store, tmp_path))
    mutate(doc)
    got = parse(f"{PREFIX}/s-001/till-1/telemetry", json.dumps(doc).encode(), PREFIX)
    assert isinstance(got, Rejected) and f"{TELEMETRY}: {where}:" in got.reason


@pytest.mark.parametrize("doc, where", [
    ({"schema": "tillsight.resend/1", "from_seq": "4", "to_seq": 9}, "from_seq"),
    ({"schema": "tillsight.resend/1", "from_seq": 0, "to_seq": 9}, "from_seq"),
    ({"schema": "tillsight.resend/1", "from_seq": 4}, "to_seq"),
    ({"schema": "tillsight.resend/2", "from_seq": 4, "to_seq": 9}, "schema"),
])
def test_a_broken_resend_request_is_refused_by_the_device_naming_the_field(doc: dict[str, Any], where: str) -> None:
    with pytest.raises(ContractError, match=where):
        resend.parse_request(json.dumps(doc).encode())


@pytest.mark.parametrize("mutate, where", [
    (lambda d: d.pop("headline"), "headline"),
    (lambda d: d["items"].append({"title": "no text"}), "items["),
    (lambda d: d.update(generated_at="yesterday"), "generated_at"),
])
def test_broken_insights_are_refused_by_the_device_naming_the_field(insights_doc: dict[str, Any], store: Store,
                                                                    mutate: Mutation, where: str) -> None:
    doc = copy.deepcopy(insights_doc)
    mutate(doc)
    with pytest.raises(ValidationError) as refused:
        store.insights.save(json.dumps(doc))
    assert f"{INSIGHTS}: " in str(refused.value) and where in str(refused.value)
    assert store.insights.latest() is None
