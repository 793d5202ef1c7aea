"""The ingest's compiled contract check against the shared jsonschema validator: on hundreds of broken
and valid sales and alerts it accepts exactly what the contract accepts, and rejects with the same
reason (naming the field)."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from analytics.ingest import contracts
from analytics.ingest.parse import Parsed, Rejected, parse
from contracts import SCHEMA_DIR, ContractError, load_schema, validate
from contracts.events import DrawerOpen
from tests.analytics.test_ingest import tx_doc

ODD_VALUES: tuple[Any, ...] = (None, True, False, 0, -1, 1, 1.0, 1.5, -0.5, 2 ** 63, "", "x", "A" * 201, "0\n",
                               "s-001\n", "S-001", "٣", [], [1], {}, {"a": 1})


def _alert_doc() -> dict[str, Any]:
    return {"schema": "tillsight.alert/1", "alert_id": "a-1", "store_id": "s-001", "device_id": "till-1",
            "kind": "anomaly", "raised_at": "2026-11-21T14:04:02Z", "tx_id": None, "score": 0.7,
            "reasons": ["many voids"], "model": "iforest"}


def _valid_variants() -> list[tuple[str, dict[str, Any]]]:
    base = tx_doc(7)
    refund = copy.deepcopy(base)
    refund.update(status="refunded", refund_of=tx_doc(1)["tx_id"], subtotal=-65000, total=-76700, tax=-11700)
    refund["lines"][0].update(qty=-2, line_total=-65000, confidence=None)
    bare = copy.deepcopy(base)
    bare.update(payment=None, anomaly=None, lines=[], receipt_no=None, customer_id="cust-01",
                events=[DrawerOpen(at="2026-11-21T14:04:00.250Z", no_sale=True, reason="float top-up").to_payload()])
    bare["payment"] = {"method": "cash", "tendered": 1, "change": 0,
                       "parts": [{"method": "cash", "amount": 1}, {"method": "credit", "amount": 0}]}
    closed = dict(_alert_doc(), schema="tillsight.alert/2", closed_at="2026-11-21T15:00:00Z",
                  closed_how="acknowledged")
    return [("tillsight.tx/1", base), ("tillsight.tx/1", refund), ("tillsight.tx/1", bare),
            ("tillsight.alert/1", _alert_doc()), ("tillsight.alert/2", closed)]


def _paths(doc: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every key and index path in a document, parents first."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield (*prefix, i)
            yield from _paths(value, (*prefix, i))


def _mutants(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path in _paths(doc):
        for value in ("<delete>", *ODD_VALUES):
            out = copy.deepcopy(doc)
            parent = out
            for step in path[:-1]:
                parent = parent[step]
            if value == "<delete>":
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
            yield out
    for extra in ({"new_field": 1}, {"payment": {"method": "cheque", "tendered": 1, "change": 0}},
                  {"payment": {"method": "cash", "tendered": 1, "change": 0, "parts": []}},
                  {"anomaly": {"score": 1.01, "reasons": [], "model": "m"}}, {"seq": 0}, {"tx_id": "not-a-uuid"}):
        yield {**copy.deepcopy(doc), **extra}


def _verdict(name: str, doc: Any) -> str | None:
    try:
        validate(name, doc)
    except ContractError as exc:
        return str(exc)
    return None


def _checked(name: str, doc: Any) -> str | None:
    try:
        contracts.check(name, doc)
    except ContractError as exc:
        return str(exc)
    return None


def test_the_shipped_contracts_are_compiled_without_touching_the_shared_schemas() -> None:
    for name, filename in (("tillsight.tx/1", "tillsight.tx.1.json"), ("tillsight.alert/1", "tillsight.alert.1.json"),
                           ("tillsight.alert/2", "tillsight.alert.2.json")):
        assert contracts.unsupported_keywords(load_schema(name)) == []
        assert contracts.compiled(name) is not None, "fastjsonschema missing: pip install -e '.[hub]'"
        assert load_schema(name) == json.loads((SCHEMA_DIR / filename).read_text(encoding="utf-8"))


def test_compiled_check_accepts_and_rejects_exactly_what_the_contract_does() -> None:
    seen = {"valid": 0, "invalid": 0}
    for name, doc in _valid_variants():
        assert _verdict(name, doc) is None, doc
        for mutant in itertools.chain([doc], _mutants(doc)):
            expected = _verdict(name, mutant)
            fast = contracts.compiled(name)
            assert fast is not None
            try:
                fast(copy.deepcopy(mutant))
                fast_ok = True
            except Exception:  # noqa: BLE001 - any rejection
                fast_ok = False
            # The compiled check alone must never accept what the contract rejects ...
            assert not (fast_ok and expected is not None), (expected, mutant)
            # ... and together with the authority it gives the contract's verdict and reason.
            assert _checked(name, mutant) == expected, mutant
            seen["valid" if expected is None else "invalid"] += 1
    assert seen["invalid"] > 500 and seen["valid"] > 20, seen


def test_the_check_leaves_the_document_untouched() -> None:
    doc = tx_doc(3)
    before = copy.deepcopy(doc)
    contracts.check("tillsight.tx/1", doc)
    assert doc == before


@pytest.mark.parametrize("mutate, where", [
    (lambda d: d["lines"][0].update(qty=0), "lines[0].qty"),
    (lambda d: d.update(currency="dop"), "currency"),
    (lambda d: d["payment"].update(method="cheque"), "payment"),
    (lambda d: d.pop("events"), "(document): 'events' is a required property"),
])
def test_dead_letter_reasons_name_the_offending_field(mutate, where) -> None:
    doc = tx_doc(2)
    mutate(doc)
    result = parse("tillsight/v1/s-001/till-1/tx", json.dumps(doc).encode(), "tillsight/v1")
    assert isinstance(result, Rejected)
    assert result.reason.startswith("schema: tillsight.tx/1: ") and where in result.reason, result.reason
    good = parse("tillsight/v1/s-001/till-1/tx", json.dumps(tx_doc(2)).encode(), "tillsight/v1")
    assert isinstance(good, Parsed)


def test_schemas_with_keywords_the_compiled_check_is_not_trusted_with_are_left_to_jsonschema() -> None:
    schema = {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"},
                                               "pair": {"type": "array", "prefixItems": [{"type": "integer"}]},
                                               "other": {"$ref": "https://example.com/x.json"}}}
    found = contracts.unsupported_keywords(schema)
    assert found == ["/properties/at/format", "/properties/pair/prefixItems",
                     "/properties/other/$ref (only references inside the document)"]
    assert contracts.unsupported_keywords(load_schema("tillsight.tx/1")) == []
