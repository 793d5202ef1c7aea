"""The hub learns that a store closed an alert (SQLite and PostgreSQL): the device's own outbox messages,
written by the device's real writers, are ingested; a closing that arrives before its raise, copies, and an
older device's alert/1 all end in the right state."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, select

from analytics.db import migrate
from analytics.db import tables as t
from analytics.ingest.parse import Parsed, parse
from analytics.ingest.store import apply_batch
from edge.demo.seed import seed_store
from edge.store import Store
from edge.store.alerts import raise_alert
from tests.analytics.test_db import NOW, engine  # noqa: F401 - the sqlite/postgresql fixture

PREFIX = "tillsight/v1"


def _device_messages(tmp_path: Path) -> list[Parsed]:
    """A till raises two alerts; the owner acknowledges the first on the dashboard."""
    store = Store(tmp_path / "store.db")
    seed_store(store)
    with store.db.transaction() as c:
        first = raise_alert(c, "s-001", "till-1", "anomaly", 0.9, ["4 lines voided (usual 0)"], "2026-11-21T14:00:00Z")
        raise_alert(c, "s-001", "till-1", "anomaly", 0.7, ["a big discount"], "2026-11-21T14:10:00Z")
    store.alerts.acknowledge(first, "owner")
    rows = store.db.query("SELECT payload FROM outbox WHERE kind = 'alert' ORDER BY id")
    store.close()
    out = []
    for r in rows:
        p = parse(f"{PREFIX}/s-001/till-1/alert", r["payload"].encode(), PREFIX)
        assert isinstance(p, Parsed), p
        out.append(p)
    return out


def _hub_alerts(eng: Engine) -> dict[str, tuple[str | None, str | None]]:
    with eng.connect() as conn:
        return {r.alert_id: (r.closed_at, r.closed_how) for r in conn.execute(select(t.alerts))}


def test_the_hub_marks_an_alert_closed_when_the_store_closes_it(engine: Engine, tmp_path: Path) -> None:  # noqa: F811
    migrate(engine)
    raised1, raised2, closed1 = _device_messages(tmp_path)
    with engine.begin() as conn:
        outcomes = [a.outcome for a in apply_batch(conn, [raised1, raised2, closed1, closed1], NOW)]
    assert outcomes == ["stored", "stored", "updated", "duplicate"]
    state = _hub_alerts(engine)
    assert state["till-1-2"] == (None, None)
    closed_at, how = state["till-1-1"]
    assert how == "acknowledged" and closed_at is not None and closed_at.endswith("Z")


def test_a_closing_that_arrives_first_stores_the_alert_closed(engine: Engine, tmp_path: Path) -> None:  # noqa: F811
    migrate(engine)
    raised1, _raised2, closed1 = _device_messages(tmp_path)
    with engine.begin() as conn:
        assert [a.outcome for a in apply_batch(conn, [closed1, raised1], NOW)] == ["stored", "duplicate"]
    assert _hub_alerts(engine)["till-1-1"][1] == "acknowledged"


def test_an_older_devices_alert_stays_open(engine: Engine) -> None:  # noqa: F811
    migrate(engine)
    v1 = {"schema": "tillsight.alert/1", "alert_id": "till-9-1", "store_id": "s-001", "device_id": "till-9",
          "kind": "health", "raised_at": "2026-11-21T14:04:02Z", "score": 1.0, "reasons": ["backlog"]}
    msg = parse(f"{PREFIX}/s-001/till-9/alert", json.dumps(v1).encode(), PREFIX)
    assert isinstance(msg, Parsed)
    with engine.begin() as conn:
        assert [a.outcome for a in apply_batch(conn, [msg], NOW)] == ["stored"]
    assert _hub_alerts(engine) == {"till-9-1": (None, None)}
