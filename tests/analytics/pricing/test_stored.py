"""The Pricing page reads the stored report (analytics/pricing/stored.py) instead of computing one per
request: the nightly job's report is what the page and the API show, with when it was computed; the
page never computes it again on a request (computing is made to fail here); decisions made since show
at once; an owner's "Recompute now" stores a new one.  The stored form round-trips every figure."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from analytics.pricing import stored as st
from analytics.pricing.suggest import pricing_report
from tests.analytics.pricing.test_approval import coffee  # noqa: F401 - the fixture
from tests.analytics.web.seed import A

NIGHT = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def test_the_stored_form_keeps_every_figure(coffee: Engine) -> None:  # noqa: F811
    report = pricing_report(coffee, A, now=NIGHT)
    back = st.decode_report(st.encode_report(report))
    assert back is not None and back.as_dict() == report.as_dict()
    advice = back.find("COFFEE")
    assert advice is not None and advice.position.shelf_cost == report.find("COFFEE").position.shelf_cost  # type: ignore[union-attr]


def test_the_page_shows_the_nightly_report_without_computing_it(coffee: Engine, login_as: Any,  # noqa: F811
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    st.compute_and_store(coffee, A, NIGHT, "nightly")

    def no_computing(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the page computed the pricing report on a request")

    monkeypatch.setattr(st, "pricing_report", no_computing)
    ann = login_as("ann")
    html = ann.get(f"/stores/{A}/pricing").get_data(as_text=True)
    assert re.search(r'<tr id="suggestion-COFFEE" data-kind="increase">', html)
    computed = re.search(r'id="pricing-computed">(.*?)<', html, re.S)
    assert computed and "2026-11-21 23:00" in computed.group(1)  # 03:00 UTC is 23:00 the day before in Santo Domingo
    api = ann.get(f"/api/stores/{A}/pricing").get_json()
    assert api["computed_at"] == "2026-11-22T03:00:00Z" and api["computed_by"] == "nightly"
    assert any(s["sku"] == "COFFEE" for s in api["suggestions"])

    # a decision made since the report was computed shows at once
    done = ann.post(f"/stores/{A}/pricing/decide", data={"sku": "COFFEE", "action": "reject"})
    assert done.status_code == 303
    html = ann.get(f"/stores/{A}/pricing").get_data(as_text=True)
    assert 'id="suggestion-COFFEE"' not in html and re.search(r'<tr id="other-COFFEE" data-kind="rejected">', html)


def test_an_owner_recomputes_it_and_a_viewer_cannot(coffee: Engine, login_as: Any, clock: Any) -> None:  # noqa: F811
    st.compute_and_store(coffee, A, NIGHT, "nightly")
    assert login_as("val").post(f"/stores/{A}/pricing/recompute").status_code == 403
    assert st.load_report(coffee, A).computed_by == "nightly"  # type: ignore[union-attr]
    ann = login_as("ann")
    assert ann.post(f"/stores/{A}/pricing/recompute").status_code == 303
    again = st.load_report(coffee, A)
    assert again is not None and again.computed_by == "ann" and again.computed_at != "2026-11-22T03:00:00Z"
    assert again.report.find("COFFEE") is not None


def test_the_nightly_job_stores_the_report(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from analytics.jobs.runner import run_jobs
    from tests.analytics.jobs.support import engine_for, seed_store

    url, engine = engine_for("sqlite", tmp_path, request)
    seed_store(engine, "s-a", {}, seed=1, days=120)
    assert st.load_report(engine, "s-a") is None
    [run] = run_jobs(url, workers=1, now=NIGHT)
    assert run.status == "succeeded", run.detail
    stored = st.load_report(engine, "s-a")
    assert stored is not None and stored.computed_by == "nightly" and stored.computed_at == "2026-11-22T03:00:00Z"
    assert stored.report.as_of is not None and stored.report.products
