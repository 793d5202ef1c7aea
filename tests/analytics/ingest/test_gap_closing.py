"""The hub closes exactly what a device says it cannot fill (``tillsight.resend_answer/1``): the part
of an open gap inside the answer is closed with its reason, the rest stays open and is still asked
for; an older answer without ``last_seq``/``requeued`` still reads; a range outside the request is
refused by the typed reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from analytics.db import make_engine, migrate
from analytics.db import tables as t
from analytics.ingest import resend
from analytics.ingest.parse import Parsed, parse
from analytics.ingest.store import apply_batch
from contracts import ContractError
from contracts.resend import ResendAnswer, SeqRange

PREFIX = "tillsight/v1"
NOW = "2026-11-21T15:00:00Z"


@pytest.fixture
def hub(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(t.seq_gaps.insert().values(store_id="s-001", device_id="till-1", from_seq=10, to_seq=20,
                                                detected_at="2026-11-21T14:00:00Z", filled=False))
    return engine


def _answer(answer: ResendAnswer) -> str:
    parsed = parse(f"{PREFIX}/s-001/till-1/resend_answer", answer.to_payload(), PREFIX)
    assert isinstance(parsed, Parsed), parsed
    return parsed.kind


def _apply(engine: Engine, answer: ResendAnswer) -> list[str]:
    parsed = parse(f"{PREFIX}/s-001/till-1/resend_answer", answer.to_payload(), PREFIX)
    assert isinstance(parsed, Parsed), parsed
    with engine.begin() as conn:
        return [a.outcome for a in apply_batch(conn, [parsed], NOW)]


def _gaps(engine: Engine) -> list[tuple]:
    g = t.seq_gaps.c
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(g.from_seq, g.to_seq, g.filled, g.closed_reason)
                                               .order_by(g.from_seq))]


def test_only_the_part_the_device_cannot_fill_is_closed(hub: Engine) -> None:
    assert _apply(hub, ResendAnswer(10, 20, (SeqRange(12, 15),), NOW, requeued=3, last_seq=30)) == ["updated"]
    gaps = _gaps(hub)
    assert [(lo, hi, filled) for lo, hi, filled, _ in gaps] == [(10, 11, False), (12, 15, True), (16, 20, False)]
    assert "cannot fill 12..15" in gaps[1][3] and "its last is 30" in gaps[1][3]
    asked = resend.due_requests(hub, "2099-01-01T00:00:00Z", "2099-01-01T00:00:00Z")
    assert sorted((r.from_seq, r.to_seq) for r in asked) == [(10, 11), (16, 20)]  # still asked for


def test_an_answer_with_nothing_missing_closes_nothing(hub: Engine) -> None:
    assert _apply(hub, ResendAnswer(10, 20, (), NOW, requeued=11)) == ["ignored"]
    assert _gaps(hub) == [(10, 20, False, None)]


def test_an_answer_of_an_older_shape_still_reads_and_a_range_outside_the_request_is_refused() -> None:
    older = {"schema": "tillsight.resend_answer/1", "from_seq": 4, "to_seq": 9,
             "cannot_fill": [{"from_seq": 4, "to_seq": 9}], "at": NOW}
    assert ResendAnswer.from_payload(json.dumps(older)).cannot_fill == (SeqRange(4, 9),)
    with pytest.raises(ContractError, match="inside the request"):
        ResendAnswer.from_payload(json.dumps({**older, "cannot_fill": [{"from_seq": 2, "to_seq": 9}]}))
    assert _answer(ResendAnswer(4, 9, (SeqRange(4, 9),), NOW)) == "resend_answer"
