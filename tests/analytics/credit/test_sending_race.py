"""Two reminder requests for one customer at the same moment, with different keys (two people clicking "Send"
on two screens), send one reminder, not two (SQLite and PostgreSQL): the "once every N days" rule is checked
again inside the write that claims the reminder."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from analytics.credit.sending.service import Outcome, ReminderService, reminders
from analytics.db import make_engine
from tests.analytics.credit.outbound_servers import Provider
from tests.analytics.credit.support import NOW
from tests.analytics.credit.test_sending import OWNER, provider, service, shop  # noqa: F401 - provider: a fixture
from tests.support.hubdb import hub_database_url


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    e = make_engine(hub_database_url(request.param, tmp_path, request, prefix="race"))
    yield shop(e)
    e.dispose()


def test_two_requests_at_once_remind_a_customer_once(engine: Engine, provider: Provider,  # noqa: F811
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    svc: ReminderService = service(engine, None, provider)
    both_checked = threading.Barrier(2, timeout=20)
    early_check = svc._refusal

    def checked_together(*args, **kwargs):  # both requests pass the early check before either writes
        answer = early_check(*args, **kwargs)
        both_checked.wait()
        return answer

    monkeypatch.setattr(svc, "_refusal", checked_together)
    outcomes: list[Outcome] = []

    def request(key: str) -> None:
        outcomes.extend(svc.send("s-cr", ["c-late"], tone="friendly", by=OWNER, key=key, now=NOW, channel="sms"))

    threads = [threading.Thread(target=request, args=(key,)) for key in ("screen-1", "screen-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o.status for o in outcomes) == ["refused", "sent"], outcomes
    refused = next(o for o in outcomes if o.status == "refused")
    assert "already reminded" in refused.reason
    assert len(provider.requests) == 1 and len(reminders(engine, "s-cr", "c-late")) == 1
