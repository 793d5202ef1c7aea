"""The sync agent's small parts: backlog monitor, topics, resend requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.topics import DeviceTopics
from edge.sync.health import BACKLOG_AGE, BACKLOG_COUNT, CLEARED_BY, RESTARTED_BY, BacklogMonitor, HealthAlerts
from edge.sync.resend import ResendRequest, parse_request, requeue
from tests.support.device import record_sales, seeded_store


def test_backlog_conditions_fire_once_until_cleared() -> None:
    m = BacklogMonitor(max_count=10, max_age_s=60)
    assert m.check(5, 10) == []
    assert [c.name for c in m.check(10, 10)] == [BACKLOG_COUNT]
    assert m.check(50, 10) == []
    assert [c.name for c in m.check(50, 61)] == [BACKLOG_AGE]
    assert m.check(0, None) == []
    assert [c.name for c in m.check(11, None)] == [BACKLOG_COUNT]


def test_backlog_ages_read_as_hours_and_minutes() -> None:
    m = BacklogMonitor(max_count=1000, max_age_s=3600)
    (cond,), cleared = m.update(3, 12_000)
    assert cleared == []
    assert cond.reason.startswith("the oldest unsent message is 3 h 20 min old (threshold 1 h)")
    assert "12000" not in cond.reason
    assert m.update(0, None) == ([], [BACKLOG_AGE])


def test_a_health_alert_closes_when_its_condition_clears(tmp_path: Path) -> None:
    """Issue 26: health alerts stayed open at score 1.00 after the backlog had drained."""
    store = seeded_store(tmp_path / "store.db")
    record_sales(store, 12)
    alerts = HealthAlerts(store, "s-001", "till-1", BacklogMonitor(max_count=10, max_age_s=3600),
                          "2026-12-07T07:00:00Z")
    raised, _ = alerts.check(store.outbox.backlog(), 30.0, "2026-12-07T07:00:00Z")
    assert [c.name for c in raised] == [BACKLOG_COUNT]
    (open_,) = store.alerts.recent(open_only=True)
    assert open_.kind == "health" and open_.reasons[0].startswith("12 messages wait")
    assert alerts.check(store.outbox.backlog(), 40.0, "2026-12-07T07:01:00Z") == ([], [])  # still true: no repeat
    store.outbox.mark_sent([m.id for m in store.outbox.pending(limit=1000)])
    assert alerts.check(store.outbox.backlog(), None, "2026-12-07T07:05:00Z") == ([], [BACKLOG_COUNT])
    assert store.alerts.recent(open_only=True) == []
    (closed,) = store.alerts.recent()
    assert (closed.acknowledged_at, closed.acknowledged_by) == ("2026-12-07T07:05:00Z", CLEARED_BY)
    # it comes back: a new alert; the agent restarts while it is open: closed, checked again
    record_sales(store, 11)
    assert [c.name for c in alerts.check(store.outbox.backlog(), 5.0, "2026-12-07T08:00:00Z")[0]] == [BACKLOG_COUNT]
    assert len(store.alerts.recent(open_only=True)) == 1
    again = HealthAlerts(store, "s-001", "till-1", BacklogMonitor(max_count=10, max_age_s=3600),
                         "2026-12-07T09:00:00Z")
    assert store.alerts.recent(open_only=True) == []
    assert store.alerts.recent()[0].acknowledged_by == RESTARTED_BY
    assert [c.name for c in again.check(store.outbox.backlog(), 5.0, "2026-12-07T09:00:00Z")[0]] == [BACKLOG_COUNT]


def test_topics() -> None:
    t = DeviceTopics("tillsight/v1", "s-001", "till-1")
    assert (t.for_kind("tx"), t.for_kind("alert"), t.status) == (
        "tillsight/v1/s-001/till-1/tx", "tillsight/v1/s-001/till-1/alert", "tillsight/v1/s-001/till-1/status")
    with pytest.raises(ValueError):
        t.for_kind("other")


@pytest.mark.parametrize("doc", [{"schema": "x", "from_seq": 1, "to_seq": 2},
                                 {"schema": "tillsight.resend/1", "from_seq": 3, "to_seq": 2},
                                 {"schema": "tillsight.resend/1", "from_seq": True, "to_seq": 2},
                                 {"schema": "tillsight.resend/1", "from_seq": 0, "to_seq": 2}])
def test_bad_resend_requests_are_refused(doc: dict) -> None:
    with pytest.raises(ValueError):
        parse_request(json.dumps(doc).encode())


def test_resend_makes_exactly_those_sales_pending_again(tmp_path: Path) -> None:
    store = seeded_store(tmp_path / "store.db")
    record_sales(store, 10)
    store.outbox.mark_sent([m.id for m in store.outbox.pending(100)])
    assert store.outbox.backlog() == 0
    assert parse_request(b'{"schema": "tillsight.resend/1", "from_seq": 3, "to_seq": 5}') == ResendRequest(3, 5)
    assert requeue(store, ResendRequest(3, 5)) == 3
    assert sorted(m.payload["seq"] for m in store.outbox.pending(100)) == [3, 4, 5]
    store.close()


def test_missing_tls_files_stop_the_agent_with_the_key_named(tmp_path: Path) -> None:
    from edge.sync.agent import SyncAgent
    from firmware_config import ConfigError, load_config

    cfg = load_config(None, env={}, overrides={"mqtt": {"tls": {"enabled": True, "ca_file": str(tmp_path / "ca.pem")}},
                                               "data_dir": str(tmp_path)})
    store = seeded_store(tmp_path / "store.db")
    with pytest.raises(ValueError, match=r"mqtt.tls.ca_file: .*ca.pem does not exist"):
        SyncAgent(store, cfg)
    store.close()
    with pytest.raises(ConfigError, match=r"ca_file set but tls\.enabled is false"):
        load_config(None, env={}, overrides={"mqtt": {"tls": {"ca_file": "/etc/ca.pem"}}})
