"""Credit customers and repayments (``tillsight.credit/1``) at the hub, on SQLite and PostgreSQL:
a repayment is stored once however often it arrives, the customer's state follows the newest event
and an older one arriving late never overwrites it, a replay changes nothing, malformed payloads
are dead-lettered with a reason naming the field while the rest of the stream is stored, and the
compiled contract check agrees with the shared validator."""

from __future__ import annotations

import copy
import itertools
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from analytics.db import make_engine, migrate
from analytics.db import tables as t
from analytics.db.credit_tables import credit_customers, credit_repayments
from analytics.ingest import IngestWorker, contracts
from analytics.ingest.parse import Parsed, Rejected, parse
from analytics.ingest.store import apply, apply_batch
from contracts import ContractError, validate
from tests.analytics.test_db import NOW, engine  # noqa: F401 - the sqlite/postgresql fixture
from tests.analytics.test_ingest import Publisher
from tests.analytics.test_ingest_contracts import _mutants
from tests.support.fixtures import make_config
from tests.support.hubdb import count, hub_database_url, register_devices
from tests.support.mosquitto import MosquittoBroker
from tests.support.wait import wait_for

PREFIX = "tillsight/v1"
CREDIT = "tillsight.credit/1"


def credit_doc(kind: str = "customer", customer_id: str = "cust-01", balance: int = 0, at: str = "2026-11-21T14:00:00Z",
               seq: int | None = 1, amount: int | None = None, store_id: str = "s-001", device_id: str = "till-1",
               name: str = "Ana Pérez", credit_limit: int = 500000) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": CREDIT, "event_id": str(uuid.uuid4()), "store_id": store_id, "device_id": device_id, "at": at,
        "kind": kind, "customer": {"customer_id": customer_id, "name": name, "phone": "809-555-0101",
                                   "credit_limit": credit_limit, "active": True, "balance": balance},
        "currency": "DOP"}
    if seq is not None:
        doc["seq"] = seq
    if amount is not None:
        doc["amount"] = amount
    return doc


def _msg(doc: dict[str, Any], store: str = "s-001", device: str = "till-1") -> Parsed:
    p = parse(f"{PREFIX}/{store}/{device}/credit", json.dumps(doc).encode(), PREFIX)
    assert isinstance(p, Parsed), p
    return p


def customer_row(db: Engine, customer_id: str = "cust-01", store_id: str = "s-001") -> dict[str, Any] | None:
    c = credit_customers.c
    with db.connect() as conn:
        row = conn.execute(select(credit_customers).where(c.store_id == store_id, c.customer_id == customer_id)
                           ).mappings().first()
        return dict(row) if row else None


def repayments(db: Engine) -> list[dict[str, Any]]:
    with db.connect() as conn:
        return [dict(r) for r in conn.execute(select(credit_repayments).order_by(credit_repayments.c.paid_at,
                                                                                  credit_repayments.c.event_id)
                                              ).mappings()]


@pytest.fixture
def hubdb(engine: Engine) -> Engine:  # noqa: F811 - the parametrised fixture
    migrate(engine)
    return engine


def _store(db: Engine, *docs: dict[str, Any]) -> list[str]:
    with db.begin() as conn:
        return [a.outcome for a in apply_batch(conn, [_msg(d) for d in docs], NOW)]


# -- the writes (SQLite and PostgreSQL) ---------------------------------------------------------

def test_a_repayment_is_stored_once_with_the_balance_after_and_moves_the_customer(hubdb: Engine) -> None:
    sale = credit_doc(balance=42000, at="2026-11-21T10:00:00Z", seq=1)
    pay = credit_doc("repayment", balance=30000, at="2026-11-21T12:30:05Z", seq=2, amount=12000)
    assert _store(hubdb, sale, pay) == ["stored", "stored"]
    assert _store(hubdb, pay) == ["duplicate"]  # a re-delivery
    [r] = repayments(hubdb)
    assert (r["event_id"], r["store_id"], r["device_id"], r["customer_id"], r["amount"], r["balance_after"],
            r["paid_at"], r["received_at"], r["currency"]) == (
        pay["event_id"], "s-001", "till-1", "cust-01", 12000, 30000, "2026-11-21T12:30:05Z", NOW, "DOP")
    row = customer_row(hubdb)
    assert row is not None
    assert (row["name"], row["phone"], row["credit_limit"], row["active"], row["balance"], row["updated_at"],
            row["device_id"]) == ("Ana Pérez", "809-555-0101", 500000, True, 30000, "2026-11-21T12:30:05Z", "till-1")
    assert count(hubdb, t.devices) == 1  # the device is known (last_seen) like any other message


def test_replaying_every_event_changes_nothing(hubdb: Engine) -> None:
    docs = [credit_doc(balance=1000, at="2026-11-21T09:00:00Z", seq=1),
            credit_doc("repayment", balance=400, at="2026-11-21T09:30:00Z", seq=2, amount=600),
            credit_doc("repayment", balance=0, at="2026-11-21T10:00:00Z", seq=3, amount=400)]
    _store(hubdb, *docs)
    before = (customer_row(hubdb), repayments(hubdb))
    assert _store(hubdb, *docs) == ["duplicate"] * 3
    assert _store(hubdb, *reversed(docs)) == ["duplicate"] * 3
    assert (customer_row(hubdb), repayments(hubdb)) == before


def test_an_older_event_arriving_late_never_overwrites_a_newer_one(hubdb: Engine) -> None:
    new = credit_doc(balance=9000, at="2026-11-21T15:00:00Z", seq=7, name="Ana P. Reyes")
    _store(hubdb, new)
    late = credit_doc("repayment", balance=2000, at="2026-11-21T14:00:00Z", seq=5, amount=1000)
    assert _store(hubdb, late) == ["stored"]  # the repayment is history: it is kept ...
    row = customer_row(hubdb)
    assert row is not None and (row["balance"], row["name"], row["updated_at"]) == (9000, "Ana P. Reyes",
                                                                                     "2026-11-21T15:00:00Z")
    assert [r["amount"] for r in repayments(hubdb)] == [1000]  # ... but the newer state stays
    assert _store(hubdb, credit_doc(balance=1, at="2026-11-21T14:59:59Z", seq=9)) == ["duplicate"]
    assert customer_row(hubdb)["balance"] == 9000  # type: ignore[index]


def test_within_one_second_the_devices_sequence_decides_and_a_fraction_is_dropped(hubdb: Engine) -> None:
    second = "2026-11-21T16:00:00"
    sale = credit_doc(balance=5000, at=second + ".900Z", seq=11)
    pay = credit_doc("repayment", balance=3000, at=second + ".100Z", seq=12, amount=2000)
    _store(hubdb, pay, sale)  # arrive in the wrong order
    row = customer_row(hubdb)
    assert row is not None and (row["balance"], row["updated_at"], row["seq"]) == (3000, second + "Z", 12)
    assert repayments(hubdb)[0]["paid_at"] == second + "Z"


def test_customers_of_different_stores_and_devices_are_kept_apart(hubdb: Engine) -> None:
    with hubdb.begin() as conn:
        apply(conn, _msg(credit_doc(balance=100, store_id="s-002"), store="s-002"), NOW)
        apply(conn, _msg(credit_doc(balance=200)), NOW)
    assert customer_row(hubdb, store_id="s-002")["balance"] == 100  # type: ignore[index]
    assert customer_row(hubdb)["balance"] == 200  # type: ignore[index]


# -- the contract ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mutate, where", [
    (lambda d: d.pop("amount"), "(document): 'amount' is a required property"),
    (lambda d: d.update(amount=0), "amount"),
    (lambda d: d.update(kind="customer"), "amount"),  # an amount on a customer event
    (lambda d: d["customer"].update(balance=1.5), "customer.balance"),
    (lambda d: d["customer"].update(name=""), "customer.name"),
    (lambda d: d.update(event_id="not-a-uuid"), "event_id"),
    (lambda d: d.update(at="2026-11-21 14:00:00"), "at"),
    (lambda d: d.update(kind="loan"), "kind"),
])
def test_malformed_credit_payloads_are_rejected_naming_the_field(mutate, where) -> None:
    doc = credit_doc("repayment", balance=100, amount=50)
    mutate(doc)
    result = parse(f"{PREFIX}/s-001/till-1/credit", json.dumps(doc).encode(), PREFIX)
    assert isinstance(result, Rejected)
    assert result.reason.startswith(f"schema: {CREDIT}: ") and where in result.reason, result.reason


def test_a_credit_event_for_another_device_than_its_topic_is_rejected() -> None:
    result = parse(f"{PREFIX}/s-001/till-2/credit", json.dumps(credit_doc()).encode(), PREFIX)
    assert isinstance(result, Rejected) and "topic mismatch" in result.reason


def test_the_compiled_credit_check_accepts_and_rejects_exactly_what_the_contract_does() -> None:
    assert contracts.unsupported_keywords(contracts.load_schema(CREDIT)) == []
    fast = contracts.compiled(CREDIT)
    assert fast is not None, "fastjsonschema missing: pip install -e '.[hub]'"
    seen = {"valid": 0, "invalid": 0}
    for doc in (credit_doc(), credit_doc(seq=None), credit_doc("repayment", balance=5, amount=7)):
        for mutant in itertools.chain([doc], _mutants(doc)):
            try:
                validate(CREDIT, mutant)
                expected = None
            except ContractError as exc:
                expected = str(exc)
            try:
                fast(copy.deepcopy(mutant))
                fast_ok = True
            except Exception:  # noqa: BLE001 - any rejection
                fast_ok = False
            assert not (fast_ok and expected is not None), (expected, mutant)
            try:
                contracts.check(CREDIT, mutant)
                got = None
            except ContractError as exc:
                got = str(exc)
            assert got == expected, mutant
            seen["valid" if expected is None else "invalid"] += 1
    assert seen["invalid"] > 200 and seen["valid"] > 20, seen


# -- through the worker and a real broker (SQLite and PostgreSQL) -----------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request: pytest.FixtureRequest, tmp_path: Path, broker: MosquittoBroker) -> Iterator[tuple]:
    cfg = make_config(broker, tmp_path)
    url = hub_database_url(request.param, tmp_path, request)
    db = make_engine(url)
    migrate(db)
    register_devices(db)
    worker = IngestWorker(url, cfg.mqtt, client_id="hub-credit-test", settings=cfg.hub)
    worker.start()
    wait_for(worker.ready.is_set, 10, "the broker granted the worker's subscriptions (SUBACK)")
    pub = Publisher(broker)
    yield db, worker, pub
    pub.close()
    worker.stop()
    db.dispose()


def test_the_worker_stores_credit_events_and_dead_letters_malformed_ones(hub) -> None:
    db, worker, pub = hub
    first = credit_doc(balance=42000, at="2026-11-21T10:00:00Z", seq=1)
    pay = credit_doc("repayment", balance=30000, at="2026-11-21T12:00:00Z", seq=2, amount=12000)
    no_amount = credit_doc("repayment", balance=0, at="2026-11-21T12:10:00Z", seq=3)
    last = credit_doc("repayment", balance=0, at="2026-11-21T13:00:00Z", seq=4, amount=30000)
    pub.send("s-001/till-1/credit", first)
    pub.send("s-001/till-1/credit", b"{not json")
    pub.send("s-001/till-1/credit", pay)
    pub.send("s-001/till-1/credit", no_amount)
    pub.send("s-001/till-1/credit", pay)  # a re-delivery
    pub.send("s-001/till-1/credit", last)
    wait_for(lambda: worker.stats.acked >= 6, 15, "all six credit messages acknowledged")
    assert [(r["amount"], r["balance_after"]) for r in repayments(db)] == [(12000, 30000), (30000, 0)]
    row = customer_row(db)
    assert row is not None and (row["balance"], row["updated_at"]) == (0, "2026-11-21T13:00:00Z")
    with db.connect() as conn:
        letters = conn.execute(select(t.dead_letters.c.topic, t.dead_letters.c.reason, t.dead_letters.c.payload)
                               .order_by(t.dead_letters.c.id)).all()
    assert [(topic, reason.split(":")[0]) for topic, reason, _ in letters] == [
        (f"{PREFIX}/s-001/till-1/credit", "not JSON"), (f"{PREFIX}/s-001/till-1/credit", "schema")]
    assert "'amount' is a required property" in letters[1][1]
    assert json.loads(letters[1][2])["event_id"] == no_amount["event_id"]  # the payload is kept as it came
