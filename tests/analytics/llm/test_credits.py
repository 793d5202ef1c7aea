"""Credits and ledger on SQLite and PostgreSQL: balance, daily and monthly caps stop calls before
anything is sent, failed calls are free, top-ups and cap changes are in the ledger, and concurrent
requests never spend more than the balance allows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert

from analytics.db import tables as t
from analytics.llm import AIService, AIUnavailable
from analytics.llm.credits import Credits
from tests.analytics.llm.conftest import Clocks, build_service
from tests.support.llm_server import ChatServer, Reply

SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}


def narrative(svc: AIService, version: object, store: str = "s-001"):
    return svc.structured(store, "narrative", [{"role": "user", "content": "hi"}], schema=SCHEMA,
                          schema_name="narrative", data_version=version)


def test_account_is_created_on_first_use_with_the_configured_credits_and_caps(
        any_engine: Engine, llm_server: ChatServer, clocks: Clocks) -> None:
    svc = build_service(any_engine, llm_server, clocks, starting_credits=70, daily_cap=20, monthly_cap=None)
    acct = svc.account("s-009")
    assert (acct.balance, acct.daily_cap, acct.monthly_cap, acct.spent_today, acct.spent_month) == (70, 20, None, 0, 0)
    assert svc.account("s-009").created_at == acct.created_at  # not created twice


def test_balance_runs_out_with_a_clear_message_and_nothing_is_sent(any_engine: Engine, llm_server: ChatServer,
                                                                   clocks: Clocks) -> None:
    svc = build_service(any_engine, llm_server, clocks, starting_credits=12, daily_cap=None, monthly_cap=None,
                        prices={"narrative": 5})
    llm_server.respond_with(lambda body: Reply.json({"text": "ok"}))
    narrative(svc, 1)
    narrative(svc, 2)
    with pytest.raises(AIUnavailable) as err:
        narrative(svc, 3)
    assert err.value.kind == "budget"
    assert "balance 2" in err.value.message and "needs 5" in err.value.message
    assert llm_server.calls == 2
    row = svc.ledger("s-001", limit=1)[0]
    assert not row.success and row.cost == 0 and "used up" in row.error
    assert svc.account("s-001").balance == 2


def test_daily_cap_stops_calls_until_the_next_day(any_engine: Engine, llm_server: ChatServer,
                                                      clocks: Clocks) -> None:
    svc = build_service(any_engine, llm_server, clocks, daily_cap=10, monthly_cap=None, prices={"narrative": 5})
    llm_server.respond_with(lambda body: Reply.json({"text": "ok"}))
    narrative(svc, 1)
    narrative(svc, 2)
    with pytest.raises(AIUnavailable) as err:
        narrative(svc, 3)
    assert err.value.kind == "budget"
    assert err.value.message.startswith("AI credits for today are used up (cap 10")
    assert llm_server.calls == 2
    clocks.now += timedelta(days=1)
    narrative(svc, 4)
    assert llm_server.calls == 3
    acct = svc.account("s-001")
    assert acct.spent_today == 5 and acct.spent_month == 15


def test_the_daily_cap_renews_at_the_stores_own_midnight(any_engine: Engine, llm_server: ChatServer,
                                                         clocks: Clocks) -> None:
    with any_engine.begin() as conn:
        conn.execute(insert(t.stores).values(store_id="s-001", name="Colmado", timezone="America/Santo_Domingo",
                                             currency="DOP", settings={}, created_at="2026-11-01T00:00:00Z",
                                             updated_at="2026-11-01T00:00:00Z"))
    svc = build_service(any_engine, llm_server, clocks, daily_cap=5, monthly_cap=None, prices={"narrative": 5})
    llm_server.respond_with(lambda body: Reply.json({"text": "ok"}))
    clocks.now = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)  # 19:00 in the shop
    narrative(svc, 1)
    clocks.now = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)  # a new UTC day, still 21:00 in the shop
    with pytest.raises(AIUnavailable, match="for today are used up"):
        narrative(svc, 2)
    clocks.now = datetime(2026, 11, 22, 4, 30, tzinfo=UTC)  # 00:30 in the shop: a new day there
    narrative(svc, 3)
    assert svc.account("s-001").spent_today == 5 and llm_server.calls == 2


def test_monthly_cap_stops_calls(any_engine: Engine, llm_server: ChatServer, clocks: Clocks) -> None:
    svc = build_service(any_engine, llm_server, clocks, daily_cap=None, monthly_cap=7, prices={"narrative": 5})
    llm_server.respond_with(lambda body: Reply.json({"text": "ok"}))
    narrative(svc, 1)
    with pytest.raises(AIUnavailable) as err:
        narrative(svc, 2)
    assert err.value.kind == "budget" and "this month are used up (cap 7" in err.value.message
    assert llm_server.calls == 1
    clocks.now += timedelta(days=10)  # 1 December: a new month
    narrative(svc, 3)
    assert llm_server.calls == 2


def test_a_failed_call_costs_nothing_and_is_in_the_ledger(any_engine: Engine, llm_server: ChatServer,
                                                          clocks: Clocks) -> None:
    svc = build_service(any_engine, llm_server, clocks, max_retries=0, daily_cap=5, prices={"narrative": 5})
    llm_server.script(Reply.error(500), Reply.json({"text": "ok"}))
    with pytest.raises(AIUnavailable) as err:
        narrative(svc, 1)
    assert err.value.kind == "failed"
    row = svc.ledger("s-001", limit=1)[0]
    assert (row.kind, row.feature, row.success, row.cost, row.credit_change, row.pending) == \
        ("call", "narrative", False, 0, 0, False)
    assert "500" in row.error and row.latency_ms is not None
    acct = svc.account("s-001")
    assert acct.balance == 1000 and acct.spent_today == 0
    narrative(svc, 2)  # the failed call did not use up the daily cap of one call
    assert svc.account("s-001").spent_today == 5


def test_top_ups_and_cap_changes_are_in_the_ledger(any_engine: Engine, clocks: Clocks) -> None:
    credits = Credits(any_engine, {"narrative": 5}, starting_credits=10, daily_cap=50, monthly_cap=100,
                      clock=clocks.utc)
    acct = credits.top_up("s-001", 25, note="by op")
    assert acct.balance == 35
    acct = credits.set_caps("s-001", daily_cap=None, note="by op")
    assert acct.daily_cap is None and acct.monthly_cap == 100
    rows = credits.ledger("s-001")
    assert [(r.kind, r.credit_change, r.balance_after) for r in rows] == [("caps", 0, 35), ("topup", 25, 35)]
    assert rows[1].note == "by op" and "daily cap none" in rows[0].note
    with pytest.raises(ValueError, match="balance is 35"):
        credits.top_up("s-001", -36)
    with pytest.raises(ValueError):
        credits.top_up("s-001", 0)
    with pytest.raises(ValueError, match="monthly cap"):
        credits.set_caps("s-001", monthly_cap=-1)
    assert credits.account("s-001").balance == 35 and len(credits.ledger("s-001")) == 2


def test_concurrent_reservations_never_overspend(any_engine: Engine, clocks: Clocks) -> None:
    credits = Credits(any_engine, {"narrative": 5}, starting_credits=50, daily_cap=None, monthly_cap=None,
                      clock=clocks.utc)
    credits.account("s-001")
    ok: list[int] = []
    refused: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(4):
            try:
                r = credits.reserve("s-001", "narrative", "m")
            except AIUnavailable as exc:
                with lock:
                    refused.append(exc.kind)
            else:
                with lock:
                    ok.append(r.entry_id)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(ok) == 10 and len(refused) == 22 and set(refused) == {"budget"}
    acct = credits.account("s-001")
    assert acct.balance == 0 and acct.spent_today == 50


def test_concurrent_first_use_creates_one_account(any_engine: Engine, clocks: Clocks) -> None:
    credits = Credits(any_engine, {"narrative": 5}, starting_credits=40, clock=clocks.utc)
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def worker() -> None:
        start.wait()
        try:
            credits.reserve("s-new", "narrative")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert credits.account("s-new").balance == 40 - 6 * 5


def test_a_reservation_abandoned_by_a_dead_process_is_refunded(any_engine: Engine, clocks: Clocks) -> None:
    credits = Credits(any_engine, {"narrative": 5}, starting_credits=10, daily_cap=10, monthly_cap=None,
                      clock=clocks.utc, stale_after_s=600)
    credits.reserve("s-001", "narrative")
    credits.reserve("s-001", "narrative")  # both "crashed": never settled
    with pytest.raises(AIUnavailable):
        credits.reserve("s-001", "narrative")
    clocks.now += timedelta(seconds=601)
    credits.reserve("s-001", "narrative")  # the two stale ones are given back first
    acct = credits.account("s-001")
    assert acct.balance == 5 and acct.spent_today == 5
    abandoned = [r for r in credits.ledger("s-001") if r.error and r.error.startswith("abandoned")]
    assert len(abandoned) == 2 and all(r.cost == 0 and not r.pending for r in abandoned)
