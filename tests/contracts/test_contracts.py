"""The wire contracts: sales the device writes validate; broken ones are named precisely."""

from __future__ import annotations

import copy

import pytest

from contracts import ContractError, validate
from contracts.events import DrawerOpen, of_kind, payload_events
from tests.edge.checkout.helpers import quick_sale


def test_a_recorded_sale_follows_tx_2(store):
    payload = store.sales.record(quick_sale(store, "SUGAR-2LB")).to_payload()
    validate("tillsight.tx/2", payload)
    assert payload["schema"] == "tillsight.tx/2" and "unit_cost" in payload["lines"][0]


@pytest.mark.parametrize("mutate, where", [
    (lambda p: p.update(total=12.5), "total"),
    (lambda p: p["lines"][0].update(qty=0), "lines[0].qty"),
    (lambda p: p.update(completed_at="2026-11-21 14:00"), "completed_at"),
    (lambda p: p.update(status="paid"), "status"),
    (lambda p: p.pop("tx_id"), "tx_id"),
    (lambda p: p["payment"].update(method="cheque"), "payment"),
])
def test_broken_payloads_name_the_field(store, mutate, where):
    payload = copy.deepcopy(store.sales.record(quick_sale(store, "SUGAR-2LB")).to_payload())
    mutate(payload)
    with pytest.raises(ContractError) as err:
        validate("tillsight.tx/2", payload)
    assert where.split("[")[0] in str(err.value)


def test_a_drawer_opening_says_whether_it_was_without_a_sale_and_older_payloads_still_pass(store):
    payload = copy.deepcopy(store.sales.record(quick_sale(store, "SUGAR-2LB")).to_payload())
    [drawer] = [e for e in payload["events"] if e["type"] == "drawer_open"]
    assert drawer["detail"]["no_sale"] is False  # the cash sale's own payment
    drawer["detail"]["no_sale"] = "yes"
    with pytest.raises(ContractError) as err:
        validate("tillsight.tx/2", payload)
    assert "events[0].detail" in str(err.value) and "no_sale" in str(err.value)
    # a device older than the field sends no no_sale: tx/2 never stops accepting what it accepted
    del drawer["detail"]["no_sale"]
    validate("tillsight.tx/2", payload)
    [event] = of_kind(payload_events(payload), DrawerOpen)
    assert event.no_sale is False
