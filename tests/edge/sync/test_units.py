"""The sync agent's small parts: backlog monitor, topics, resend requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.topics import DeviceTopics
from edge.sync.health import BACKLOG_AGE, BACKLOG_COUNT, BacklogMonitor
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
