"""Credit customers on the device reach the outbox: every change to a customer (new, edited, a
repayment, a credit sale or refund that moves the balance) queues a ``tillsight.credit/1`` event in
the same transaction, valid against the contract; a refused change queues nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts import validate
from edge.demo.seed import seed_store
from edge.store import DeviceIdentity, Store, ValidationError
from edge.store.records import Payment
from tests.edge.checkout.helpers import quick_sale

ID = DeviceIdentity("s-001", "till-1")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "store.db", identity=ID)
    seed_store(s)
    yield s
    s.close()


def credit_events(store: Store) -> list[dict]:
    return [m.payload for m in store.outbox.pending(limit=100_000) if m.kind == "credit"]


def _credit_sale(store: Store, customer_id: str, *skus: str):
    sale = quick_sale(store, *skus)
    sale.payments = [Payment("credit", sale.total, sale.total, 0, customer_id)]
    sale.customer_id = customer_id
    return sale


def test_seeded_customers_are_each_queued_once_with_their_whole_state(store: Store) -> None:
    events = credit_events(store)
    customers = store.customers.list(include_inactive=True)
    assert sorted(e["customer"]["customer_id"] for e in events) == sorted(c.id for c in customers)
    for e in events:
        validate("tillsight.credit/1", e)
        assert (e["kind"], e["store_id"], e["device_id"], e["currency"]) == ("customer", "s-001", "till-1", "DOP")
        assert "amount" not in e
    first = next(e for e in events if e["customer"]["customer_id"] == "cust-01")
    c = store.customers.get("cust-01")
    assert first["customer"] == {"customer_id": c.id, "name": c.name, "phone": c.phone or None,
                                 "credit_limit": c.credit_limit, "active": c.active, "balance": c.balance}
    assert len({e["event_id"] for e in events}) == len(events)
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_editing_a_customer_queues_its_new_state_and_saving_it_unchanged_queues_nothing(store: Store) -> None:
    before = len(credit_events(store))
    c = store.customers.get("cust-02")
    store.customers.save(c.name, c.phone, c.credit_limit, customer_id=c.id)  # no change
    assert len(credit_events(store)) == before
    store.customers.save("Pedro M.", "809-555-0000", 600000, customer_id=c.id, active=False)
    last = credit_events(store)[-1]
    assert last["kind"] == "customer" and last["customer"] == {
        "customer_id": c.id, "name": "Pedro M.", "phone": "809-555-0000", "credit_limit": 600000,
        "active": False, "balance": c.balance}
    new = store.customers.save("Bodega Rosa", credit_limit=5000)
    last = credit_events(store)[-1]
    assert last["customer"]["customer_id"] == new.id and last["customer"]["phone"] is None


def test_a_repayment_lowers_the_balance_and_queues_the_amount_with_the_balance_after(store: Store) -> None:
    store.sales.record(_credit_sale(store, "cust-01", "OIL-SOL-1L", "RICE-LG-5LB"))
    owed = store.customers.get("cust-01").balance
    assert owed > 0
    after = store.customers.record_repayment("cust-01", owed - 100)
    assert after.balance == 100
    last = credit_events(store)[-1]
    validate("tillsight.credit/1", last)
    assert last["kind"] == "repayment" and last["amount"] == owed - 100
    assert last["customer"]["balance"] == 100 and last["customer"]["customer_id"] == "cust-01"


def test_a_refused_repayment_changes_nothing_and_queues_nothing(store: Store) -> None:
    before = credit_events(store)
    owed = store.customers.get("cust-03").balance
    with pytest.raises(ValidationError, match="more than the customer owes"):
        store.customers.record_repayment("cust-03", owed + 1)
    with pytest.raises(ValidationError, match="positive"):
        store.customers.record_repayment("cust-03", 0)
    assert credit_events(store) == before and store.customers.get("cust-03").balance == owed


def test_a_credit_sale_queues_the_new_balance_in_the_same_write_and_a_refused_one_queues_nothing(
        store: Store) -> None:
    before = len(credit_events(store))
    rec = store.sales.record(_credit_sale(store, "cust-01", "OIL-SOL-1L"))
    new = credit_events(store)[before:]
    assert [e["kind"] for e in new] == ["customer"]
    assert new[0]["customer"]["balance"] == store.customers.get("cust-01").balance
    kinds = [m.kind for m in store.outbox.pending(limit=100_000)]
    assert kinds[-2:] == ["credit", "tx"]  # the sale and the customer's new balance, one write
    assert rec.customer_id == "cust-01"
    small = store.customers.save("Small Account", credit_limit=1000)
    before = len(credit_events(store))
    with pytest.raises(ValidationError, match="credit limit"):
        store.sales.record(_credit_sale(store, small.id, "OIL-SOL-1L"))
    assert len(credit_events(store)) == before and store.customers.get(small.id).balance == 0


def test_a_customer_the_contract_cannot_carry_is_refused_and_not_saved(store: Store) -> None:
    before = credit_events(store)
    with pytest.raises(ValidationError, match="customer_id"):
        store.customers.save("Too Long", credit_limit=100, customer_id="c" * 65)
    assert credit_events(store) == before
    assert all(c.name != "Too Long" for c in store.customers.list(include_inactive=True))


def test_a_store_without_identity_queues_nothing_until_it_learns_it_then_catches_up_once(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    s = Store(path)  # e.g. a database written before credit events existed
    seed_store(s)
    s.customers.save("Late Joiner", "809-555-0199", 2500)
    assert credit_events(s) == []
    s.close()
    s = Store(path, identity=ID)
    caught = credit_events(s)
    assert sorted(e["customer"]["customer_id"] for e in caught) == sorted(
        c.id for c in s.customers.list(include_inactive=True))
    late = next(e["customer"] for e in caught if e["customer"]["name"] == "Late Joiner")
    assert (late["phone"], late["credit_limit"], late["balance"]) == ("809-555-0199", 2500, 0)
    s.close()
    s = Store(path, identity=ID)  # the appliance and the sync agent both open it: no second copy
    assert credit_events(s) == caught
    s.close()
    s = Store(path, identity=DeviceIdentity("s-009", "till-4"))  # the till moved to another store
    moved = credit_events(s)[len(caught):]
    assert len(moved) == len(caught) and {e["store_id"] for e in moved} == {"s-009"}
    s.close()
