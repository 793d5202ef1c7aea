"""The device dashboard shows the hub's daily narrative (with where its words came from) and the
collection reminders of the morning insights document; documents without them still work."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from analytics.db import make_engine
from analytics.jobs.insights import build_insights
from i18n import format_date
from tests.analytics.narratives.support import seed_credit_store


def _hub_document(tmp_path: Path) -> dict:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = make_engine(url)
    seed_credit_store(engine, url)
    doc = build_insights(engine, "s-cr", now=datetime(2026, 11, 21, 15, 0, tzinfo=UTC))
    engine.dispose()
    return doc


def test_the_dashboard_shows_the_narrative_and_the_collection_reminders(web_context, login_as, store,
                                                                        tmp_path: Path) -> None:
    web_context.insights = store.insights.latest
    doc = _hub_document(tmp_path)
    assert doc["narrative"]["source"] == "computed" and doc["collections"]
    store.insights.save(json.dumps(doc))  # what the sync agent does with the retained message
    owner = login_as("owner")
    html = owner.get("/dashboard").get_data(as_text=True)
    assert 'id="insights-narrative"' in html and doc["narrative"]["title"] in html
    assert "What happened: Revenue was RD$" in html
    assert "Computed from your figures (no AI)" in html
    assert 'id="insights-collections"' in html
    luis = next(c for c in doc["collections"] if c["name"] == "Luis Late")
    assert "Luis Late" in html and "RD$1,860.00" in html and "Hi Luis, a friendly reminder" in html
    # the day as the reader's language writes it (English here: "Dec 2, 2026")
    day = format_date(date.fromisoformat(luis["predicted_payment_date"]), locale="en")
    assert f"may pay by {day}" in html
    api = owner.get("/api/insights").get_json()["insights"]
    assert api["narrative"]["source"] == "computed" and api["narrative"]["lines"][0].startswith("What happened:")
    assert {c["name"] for c in api["collections"]} == {c["name"] for c in doc["collections"]}


def test_an_llm_narrative_is_marked_and_old_or_odd_documents_keep_working(web_context, login_as) -> None:
    owner = login_as("owner")
    web_context.insights = lambda: {"generated_at": "2026-11-21T10:00:00Z", "source": "computed",
                                    "headline": "Busy Saturday ahead", "items": [],
                                    "narrative": {"period": "daily", "title": "A good Friday",
                                                  "text": "A good Friday\nWhat happened: <b>rice</b> sold well.",
                                                  "source": "llm", "generated_at": "2026-11-21T10:00:00Z"},
                                    "collections": [{"name": "Ana", "balance": 12345, "currency": "DOP",
                                                     "message": "Hi Ana"}, "junk", {"balance": 5}]}
    html = owner.get("/dashboard").get_data(as_text=True)
    assert "A good Friday" in html and "Written by the hub&#39;s language model" in html
    assert "&lt;b&gt;rice&lt;/b&gt;" in html and "<b>rice</b>" not in html
    assert "RD$123.45" in html and "Hi Ana" in html
    assert len(owner.get("/api/insights").get_json()["insights"]["collections"]) == 1
    # a document from an older hub: no narrative, no collections
    web_context.insights = lambda: {"generated_at": "2026-11-21T10:00:00Z", "source": "computed",
                                    "headline": "Busy Saturday ahead", "items": [{"title": "Staffing", "text": "2"}]}
    page = owner.get("/dashboard")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Busy Saturday ahead" in html
    assert 'id="insights-narrative"' not in html and 'id="insights-collections"' not in html
    api = owner.get("/api/insights").get_json()["insights"]
    assert api["narrative"] is None and api["collections"] == []
