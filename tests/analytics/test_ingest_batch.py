"""A batch stored with a few bulk statements leaves the hub exactly as storing its messages one at a
time does (SQLite and PostgreSQL): duplicates inside and across batches, gaps opened and filled in
one batch, tail gaps from telemetry, status, alerts, cleared retained messages."""

from __future__ import annotations

import json
import random
from typing import Any

from sqlalchemy import Engine, select

from analytics.db import migrate
from analytics.db import tables as t
from analytics.ingest.parse import Parsed, parse
from analytics.ingest.store import apply, apply_batch
from tests.analytics.test_db import NOW, engine  # noqa: F401 - the sqlite/postgresql fixture
from tests.analytics.test_ingest import tx_doc

PREFIX = "tillsight/v1"


def _msg(store: str, device: str, kind: str, doc: dict[str, Any] | None) -> Parsed:
    body = json.dumps(doc).encode() if doc is not None else b""
    p = parse(f"{PREFIX}/{store}/{device}/{kind}", body, PREFIX)
    assert isinstance(p, Parsed), p
    return p


def _script(store: str, seed: int = 5) -> list[Parsed]:
    """Messages from three tills, in arrival order: out-of-order and missing sales, copies of
    sales, a status, telemetry saying the till sent more than arrived, an alert twice, a cleared
    retained status."""
    rng = random.Random(seed)
    out: list[Parsed] = []
    for device in ("till-1", "till-2", "till-3"):
        seqs = list(range(1, 31))
        rng.shuffle(seqs)
        seqs = [s for s in seqs if s not in (7, 8, 21)]  # never arrive: gaps stay open
        docs = {}
        for s in seqs:
            doc = tx_doc(s, store_id=store, device_id=device)  # a fresh tx_id
            docs[s] = doc
            out.append(_msg(store, device, "tx", doc))
            if s % 9 == 0:
                out.append(_msg(store, device, "tx", doc))  # a re-delivery in the same batch
        out.insert(5, _msg(store, device, "status", {"state": "online", "at": "2026-11-21T14:00:00Z",
                                                     "reason": "connected"}))
        out.insert(12, _msg(store, device, "telemetry", {"backlog": 0, "last_tx_seq": 33,
                                                          "versions": {"tillsight": "0.1.0"}}))
        alert = {"schema": "tillsight.alert/1", "alert_id": f"a-{device}", "store_id": store, "device_id": device,
                 "kind": "anomaly", "raised_at": "2026-11-21T14:04:02Z", "score": 0.8, "reasons": ["voids"]}
        out.append(_msg(store, device, "alert", alert))
        out.append(_msg(store, device, "alert", alert))
        out.append(_msg(store, device, "status", None))
        out.append(_msg(store, device, "tx", docs[seqs[0]]))  # a copy of a sale stored earlier
        out.append(_msg(store, device, "tx", tx_doc(31, store_id=store, device_id=device)))
    # The worker's order: each device's messages keep their arrival order.
    out.sort(key=lambda m: (m.store_id, m.device_id))
    return out


def _state(eng: Engine, store: str) -> dict[str, Any]:
    with eng.connect() as conn:
        devices = [dict(r) for r in conn.execute(select(t.devices).where(t.devices.c.store_id == store)
                                                 .order_by(t.devices.c.device_id)).mappings()]
        txs = sorted((r.device_id, r.seq) for r in conn.execute(
            select(t.transactions.c.device_id, t.transactions.c.seq).where(t.transactions.c.store_id == store)))
        lines = conn.execute(select(t.tx_lines.c.tx_id).where(t.tx_lines.c.store_id == store)).all()
        gaps = sorted((r.device_id, r.from_seq, r.to_seq, r.filled, r.filled_at) for r in conn.execute(
            select(t.seq_gaps).where(t.seq_gaps.c.store_id == store)))
        alerts = sorted((r.device_id, r.alert_id) for r in conn.execute(
            select(t.alerts).where(t.alerts.c.store_id == store)))
    for d in devices:
        d.pop("store_id")
    return {"devices": devices, "txs": txs, "lines": len(lines), "gaps": gaps, "alerts": alerts}


def test_a_batch_leaves_the_hub_as_one_message_at_a_time_does(engine: Engine) -> None:  # noqa: F811
    migrate(engine)
    one_by_one, batched = _script("s-one"), _script("s-batch")
    outcomes_one = []
    for msg in one_by_one:
        with engine.begin() as conn:
            outcomes_one.append(apply(conn, msg, NOW).outcome)
    with engine.begin() as conn:
        outcomes_batch = [a.outcome for a in apply_batch(conn, batched, NOW)]
    assert outcomes_batch == outcomes_one
    assert outcomes_one.count("duplicate") == 3 * (1 + 3 + 1)  # in-batch copies, alert copy, late copy
    expected, got = _state(engine, "s-one"), _state(engine, "s-batch")
    assert got == expected
    # The figures themselves, not only their agreement.
    assert len(got["txs"]) == 3 * 28 and got["lines"] == 3 * 28 and len(got["alerts"]) == 3
    missing = {7, 8, 21, 32, 33}  # never sent, and the tail the telemetry announced
    for dev in got["devices"]:
        assert dev["last_seq"] == 31 and dev["online"] is True and dev["versions"] == {"tillsight": "0.1.0"}
        open_gaps = [set(range(g[1], g[2] + 1)) for g in got["gaps"] if g[0] == dev["device_id"] and not g[3]]
        assert set().union(*open_gaps) >= missing and all(gap & missing for gap in open_gaps)
        assert dev["gaps"] == len(open_gaps)
