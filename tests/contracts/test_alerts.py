"""An alert crosses the boundary through one typed definition: raised, then closed with the same id; the hub
still reads what older devices wrote."""

from __future__ import annotations

from dataclasses import replace

import pytest

from contracts.alerts import AlertMessage
from contracts.validation import ContractError

RAISED = AlertMessage(alert_id="till-1-4", store_id="s-001", device_id="till-1", kind="anomaly",
                      raised_at="2026-11-21T14:04:02Z", score=0.8123, reasons=("4 lines voided (usual 0)",),
                      tx_id="7d0c3f9e-0000-4000-8000-000000000001", model="rules-v1")


def test_a_raised_alert_is_written_open_and_read_back_the_same() -> None:
    doc = RAISED.to_doc()
    assert doc["schema"] == "tillsight.alert/2" and doc["closed_at"] is None and doc["score"] == 0.812
    back = AlertMessage.from_doc(doc)
    assert back == replace(RAISED, score=0.812) and not back.closed


def test_a_closed_alert_says_when_and_how_but_not_who() -> None:
    closed = replace(RAISED, closed_at="2026-11-21T15:00:00Z", closed_how="acknowledged")
    doc = closed.to_doc()
    assert AlertMessage.from_doc(doc).closed and doc["closed_how"] == "acknowledged"
    assert not {"closed_by", "acknowledged_by", "user_id"} & set(doc)


def test_an_older_devices_alert_reads_as_open() -> None:
    v1 = {"schema": "tillsight.alert/1", "alert_id": "till-1-1", "store_id": "s-001", "device_id": "till-1",
          "kind": "health", "raised_at": "2026-11-21T14:04:02Z", "score": 1.0, "reasons": ["backlog"]}
    alert = AlertMessage.from_doc(v1)
    assert alert.kind == "health" and alert.closed_at is None and alert.model == ""


def test_a_bad_closing_is_refused_naming_the_field() -> None:
    with pytest.raises(ContractError, match="closed_how"):
        replace(RAISED, closed_at="2026-11-21T15:00:00Z", closed_how="forgotten").to_doc()  # type: ignore[arg-type]
    with pytest.raises(ContractError, match="closed_at"):
        replace(RAISED, closed_at="yesterday", closed_how="cleared").to_doc()
